"""Backup archives: the database and the media folder in one .tar.gz, with a manifest.

An archive holds, in this order:

    database/db.sqlite3   a copy made with SQLite's online backup API, or
    database/db.dump      pg_dump's custom format, for PostgreSQL
    media/<path>          every regular file under MEDIA_ROOT
    manifest.json         format, creation time, database engine and version, applied
                          migrations, and every other member's size and SHA-256

The manifest comes last because its checksums are of the bytes actually written: a file that
changes while it is read cannot give a manifest that disagrees with the archive, and an
archive cut short has no manifest at all. The database is copied before the media, so every
poster the copied rows name was already on disk (uploads are written before their row is
committed).

A restore extracts and checks everything beside MEDIA_ROOT before it touches the database or
the media; see ``backup_extract``.
"""

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import django
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "filmmag-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
DATABASE_FILES = {"sqlite": "database/db.sqlite3", "postgresql": "database/db.dump"}
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# A restore that was interrupted leaves a folder with this prefix beside (or, for a mount
# point, inside) MEDIA_ROOT; backups skip it.
STAGING_PREFIX = ".filmmag-restore-"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the command line."""


@dataclass(frozen=True)
class Extracted:
    manifest: dict
    folder: Path  # holds database/ and media/, beside MEDIA_ROOT

    @property
    def database(self) -> Path:
        return self.folder / self.manifest["database"]["file"]

    @property
    def media(self) -> Path:
        return self.folder / "media"

    @property
    def script(self) -> Path:
        """PostgreSQL: the SQL that database_replace runs, written by database_check."""
        return self.folder / "restore.sql"


# Writing ------------------------------------------------------------------------------------


class _HashingReader:
    """A file wrapper that hashes what tarfile reads from it."""

    def __init__(self, file):
        self.file, self.sha256, self.size = file, hashlib.sha256(), 0

    def read(self, size=-1):
        data = self.file.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def backup_create(*, connection, output: Path, media_root: Path) -> dict:
    """Write the archive to ``output`` (readable by its owner only) and return its manifest."""
    vendor = connection.vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    if output.absolute().is_relative_to(media_root.absolute()):
        raise BackupError(f"The archive cannot be written inside the media folder {media_root}.")
    output.parent.mkdir(parents=True, exist_ok=True)
    files: list[dict] = []
    with tempfile.TemporaryDirectory(prefix=".filmmag-backup-", dir=output.parent) as work:
        dump = Path(work) / "database"
        database = {
            "vendor": vendor,
            "engine": connection.settings_dict["ENGINE"],
            "file": DATABASE_FILES[vendor],
            # Applied migrations, read before the copy: a restore checks the code knows them.
            "migrations": sorted(
                f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()
            ),
            **database_dump(connection=connection, dest=dump),
        }
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            files.append(_add_file(tar, dump, database["file"]))
            for path, relative in media_files(media_root):
                try:
                    files.append(_add_file(tar, path, f"media/{relative}"))
                except FileNotFoundError:
                    continue  # deleted since the folder was listed: not part of this backup
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "django": django.get_version(),
                "database": database,
                "media_root": str(media_root),
                "files": files,
            }
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(datetime.now(UTC).timestamp()), 0o600
            tar.addfile(info, io.BytesIO(body))
        partial.chmod(0o600)  # password hashes and sessions are in it
        os.replace(partial, output)  # whole or not at all under the final name
    return manifest


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> dict:
    with path.open("rb") as file:
        stat = os.fstat(file.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _HashingReader(file)
        try:
            tar.addfile(info, reader)
        except OSError as exc:
            if reader.size < info.size:  # tarfile's "unexpected end of data": it shrank
                raise BackupError(
                    f"{path} changed while it was read; run the backup again."
                ) from exc
            raise
    return {"path": name, "size": reader.size, "sha256": reader.sha256.hexdigest()}


def media_files(media_root: Path):
    """(path, relative POSIX path) of every regular file under ``media_root``, sorted.
    Symbolic links are left out: what they point to is not the site's media."""
    if not media_root.is_dir():
        return
    for top, dirs, names in os.walk(media_root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(STAGING_PREFIX))
        for name in sorted(names):
            path = Path(top) / name
            if path.is_file() and not path.is_symlink():
                yield path, path.relative_to(media_root).as_posix()


# Reading and checking -----------------------------------------------------------------------


def backup_extract(*, archive: Path, staging_parent: Path) -> Extracted:
    """Extract ``archive`` into a new folder in ``staging_parent`` and check it against its
    manifest: every member listed, no member unlisted, sizes and SHA-256 equal, names safe.
    Raises BackupError (and leaves nothing behind) when anything is wrong."""
    staging_parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=staging_parent))
    try:
        manifest = _extract_checked(archive, folder)
        (folder / "media").mkdir(exist_ok=True)
        return Extracted(manifest=manifest, folder=folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _extract_checked(archive: Path, folder: Path) -> dict:
    found: dict[str, tuple[int, str]] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                if name in found or (name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"{archive}: the member {name!r} appears twice.")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"{archive}: {name!r} is a link or device, not a file.")
                source = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > MANIFEST_MAX_BYTES:
                        raise BackupError(f"{archive}: the manifest is implausibly large.")
                    manifest_bytes = source.read()
                    continue
                dest = folder / _safe_member_path(archive, name)
                dest.parent.mkdir(parents=True, exist_ok=True)
                sha256, size = hashlib.sha256(), 0
                with dest.open("xb") as out:
                    while chunk := source.read(CHUNK):
                        sha256.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                found[name] = (size, sha256.hexdigest())
            # tarfile stops at the first header it cannot read as if the archive ended there;
            # reading the rest lets gzip check its length and CRC over the whole file.
            while tar.fileobj.read(CHUNK):
                pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(
            f"{archive} is not a complete backup archive (corrupted or truncated): {exc}"
        ) from exc
    if manifest_bytes is None:
        raise BackupError(
            f"{archive} has no {MANIFEST}: it is truncated, corrupted or not a filmmag backup."
        )
    manifest = _manifest_parsed(archive, manifest_bytes)
    listed = {entry["path"]: (entry["size"], entry["sha256"]) for entry in manifest["files"]}
    if missing := sorted(listed.keys() - found.keys()):
        raise BackupError(f"{archive}: files in the manifest are missing: {', '.join(missing)}")
    if unlisted := sorted(found.keys() - listed.keys()):
        raise BackupError(f"{archive}: files not in the manifest: {', '.join(unlisted)}")
    if bad := sorted(name for name in listed if listed[name] != found[name]):
        raise BackupError(
            f"{archive}: size or SHA-256 does not match the manifest for {', '.join(bad)}"
        )
    if manifest["database"]["file"] not in found:
        raise BackupError(f"{archive} holds no database file.")
    return manifest


def _safe_member_path(archive: Path, name: str) -> PurePosixPath:
    """Only the database file and files under media/, with plain relative names."""
    parts = name.split("/")
    plain = all(part not in ("", ".", "..") for part in parts)
    wanted = name in DATABASE_FILES.values() or (parts[0] == "media" and len(parts) > 1)
    if not (plain and wanted) or "\0" in name:
        raise BackupError(f"{archive}: unexpected member {name!r}; refusing to extract it.")
    return PurePosixPath(name)


def _manifest_parsed(archive: Path, data: bytes) -> dict:
    try:
        manifest = json.loads(data)
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive} is not a filmmag backup.")
        if manifest.get("version") != FORMAT_VERSION:
            raise BackupError(
                f"{archive} is a version {manifest.get('version')} backup; this code reads "
                f"version {FORMAT_VERSION}."
            )
        database = manifest["database"]
        if DATABASE_FILES.get(database["vendor"]) != database["file"]:
            raise BackupError(f"{archive}: unknown database {database['vendor']!r}.")
        expected = {"path": str, "size": int, "sha256": str}
        for entry in manifest["files"]:
            if not all(isinstance(entry[key], kind) for key, kind in expected.items()):
                raise TypeError(entry)
        if not all(isinstance(name, str) for name in database["migrations"]):
            raise TypeError(database["migrations"])
        return manifest
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{archive}: the manifest is not readable ({exc!r}).") from exc


def migrations_unknown(manifest: dict, connection) -> list[str]:
    """Migrations applied in the archive's database that this code does not have: its tables
    would not match the models."""
    loader = MigrationLoader(connection, ignore_no_migrations=True, load=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    for migration in loader.disk_migrations.values():
        known.update(f"{app}.{name}" for app, name in migration.replaces)
    return sorted(set(manifest["database"]["migrations"]) - known)


# The database -------------------------------------------------------------------------------


def database_dump(*, connection, dest: Path) -> dict:
    """Copy the database to ``dest``; returns what the manifest records about it."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(dest)
        try:
            # One step (pages=-1) under one read lock: a consistent copy while the site runs.
            connection.connection.backup(copy)
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite could not copy the database: {exc}") from exc
        finally:
            copy.close()
        return {"server_version": sqlite3.sqlite_version}
    connection.ensure_connection()
    major = connection.pg_version // 10000
    pg_dump = pg_tool("pg_dump", major)
    _run_pg(connection, pg_dump, ["--format=custom", f"--file={dest}"])
    return {
        "server_version": _pg_version_text(connection.pg_version),
        "tool": tool_version(pg_dump),
    }


def database_check(*, connection, extracted: Extracted) -> None:
    """Everything about the database copy that can be checked without touching the database;
    for PostgreSQL, also writes the SQL script ``database_replace`` runs."""
    vendor = extracted.manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"This is a {VENDOR_NAMES[vendor]} backup and the site's database is "
            f"{VENDOR_NAMES.get(connection.vendor, connection.vendor)}: restore it into a "
            f"{VENDOR_NAMES[vendor]} database (set DATABASE_URL accordingly)."
        )
    if vendor == "sqlite":
        try:
            copy = sqlite3.connect(f"file:{extracted.database}?mode=ro", uri=True)
            try:
                result = copy.execute("PRAGMA integrity_check").fetchall()
            finally:
                copy.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"The database in the archive is not readable: {exc}") from exc
        if result != [("ok",)]:
            raise BackupError(f"The database in the archive is damaged: {result[:5]}")
        return
    major = connection.pg_version // 10000
    pg_restore = pg_tool("pg_restore", major)
    # --list reads the whole table of contents: a dump it cannot read stops here.
    _run(
        [pg_restore, "--list", str(extracted.database)],
        what="pg_restore could not read the database dump",
    )
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            f"--file={extracted.script}",
            str(extracted.database),
        ],
        what="pg_restore could not read the database dump",
    )


def database_replace(*, connection, extracted: Extracted) -> None:
    """Replace the whole database with the archive's copy, in one go."""
    if connection.vendor == "sqlite":
        if connection.in_atomic_block:
            raise BackupError("Cannot restore inside a transaction.")
        connection.ensure_connection()
        copy = sqlite3.connect(f"file:{extracted.database}?mode=ro", uri=True)
        try:
            # The backup API the other way round: the live database becomes a page-for-page
            # copy, under one write lock, and other connections see it at once.
            copy.backup(connection.connection)
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite could not copy the archive's database: {exc}") from exc
        finally:
            copy.close()
        return
    # One transaction: drop every table there is now (including ones the archive does not
    # have, from later migrations), then pg_restore's script. An error rolls it all back.
    tables = connection.introspection.table_names()
    drop = []
    if tables:
        names = ", ".join(connection.ops.quote_name(t) for t in tables)
        drop = ["-c", f"DROP TABLE IF EXISTS {names} CASCADE;"]
    psql = pg_tool("psql", connection.pg_version // 10000)
    connection.close()
    _run_pg(
        connection,
        psql,
        ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *drop]
        + ["-f", str(extracted.script)],
    )


def _run_pg(connection, tool: str, parameters: list[str]) -> None:
    # dbshell's own mapping of settings.DATABASES (host, port, user, name; password, SSL
    # options and service through PG* variables, never on the command line).
    args, env = connection.client.settings_to_cmd_args_env(connection.settings_dict, parameters)
    _run([tool, *args[1:]], env={**os.environ, **(env or {})}, what=f"{Path(tool).name} failed")


def _run(args: list[str], *, what: str, env=None) -> str:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what}: {exc}") from exc
    if done.returncode != 0:
        detail = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise BackupError(f"{what} (exit code {done.returncode}):\n{detail}")
    return done.stdout


# PostgreSQL client tools ------------------------------------------------------------------


def pg_tool(name: str, major: int) -> str:
    """The path of ``name`` (pg_dump, pg_restore, psql) for PostgreSQL ``major``.

    pg_dump refuses a server newer than itself, and an older pg_restore cannot read a newer
    dump, so the tools must be of the server's major version. Looked for in $PG_BINDIR, then
    where Debian, Red Hat and Homebrew put each version, then on PATH."""
    candidates = []
    if bindir := os.environ.get("PG_BINDIR"):
        candidates.append(Path(bindir) / name)
    candidates += [
        Path(f"/usr/lib/postgresql/{major}/bin/{name}"),
        Path(f"/usr/pgsql-{major}/bin/{name}"),
        Path(f"/opt/homebrew/opt/postgresql@{major}/bin/{name}"),
        Path(f"/usr/local/opt/postgresql@{major}/bin/{name}"),
    ]
    if on_path := shutil.which(name):
        candidates.append(Path(on_path))
    mismatched = []
    for path in candidates:
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        version = tool_version(str(path))
        match = re.search(r"\(PostgreSQL\) (\d+)", version)
        if match and int(match.group(1)) == major:
            return str(path)
        mismatched.append(f"{path} ({version or 'no version'})")
    install = (
        f"Install the PostgreSQL {major} client tools (Debian/Ubuntu: apt-get install "
        f"postgresql-client-{major}) or set PG_BINDIR to the folder that holds them."
    )
    if mismatched:
        raise BackupError(
            f"The database server is PostgreSQL {major}, and {name} must be of the same major "
            f"version; found only: {'; '.join(mismatched)}. {install}"
        )
    raise BackupError(f"{name} not found. {install}")


def tool_version(path: str) -> str:
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _pg_version_text(version: int) -> str:
    return f"{version // 10000}.{version % 10000}"


# The media folder ---------------------------------------------------------------------------


def staging_parent(media_root: Path) -> Path:
    """Where a restore extracts to: beside MEDIA_ROOT, so the swap is a rename on one file
    system; inside it when it is a mount point (which cannot be renamed)."""
    media_root = media_root.absolute()
    return media_root if os.path.ismount(media_root) else media_root.parent


def media_replace(*, extracted: Extracted, media_root: Path) -> None:
    """Make MEDIA_ROOT the archive's media folder: renames only, the old files removed last."""
    media_root = media_root.absolute()
    old = extracted.folder / "old-media"
    if os.path.ismount(media_root):
        old.mkdir()
        for entry in list(media_root.iterdir()):
            if entry != extracted.folder:
                entry.rename(old / entry.name)
        for entry in list(extracted.media.iterdir()):
            entry.rename(media_root / entry.name)
    else:
        if media_root.exists():
            media_root.rename(old)
        extracted.media.rename(media_root)
