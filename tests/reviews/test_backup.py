"""manage.py backup / restore: a round trip gives back every row and every media file, on
whichever database the suite runs (CI runs it on SQLite and on PostgreSQL); a damaged or
foreign archive changes nothing."""

import io
import json
import re
import stat
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from PIL import Image

from films.models import Film
from reviews.management.backup import BackupError, pg_tool
from reviews.models import Review
from tests.factories import make_film, make_review, make_user

# pg_dump and SQLite's backup API read what is committed: no test transaction around these.
pytestmark = pytest.mark.django_db(transaction=True)

OTHER_VENDOR = {"sqlite": "postgresql", "postgresql": "sqlite"}
DATABASE_FILES = {"sqlite": "database/db.sqlite3", "postgresql": "database/db.dump"}


def all_rows() -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    rows = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows[table] = sorted(cursor.fetchall(), key=repr)
    return rows


def media_files() -> dict[str, bytes]:
    root = Path(settings.MEDIA_ROOT)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 6), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def magazine():
    """Films, people, genres, services, offers, reviews with keywords, a poster, an editor."""
    editor = make_user("editor", superuser=True, first_name="Agnès")
    cranes = make_film(
        "The Cranes Are Flying",
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatyana Samoylova", "Veronika")],
        availability=[("Criterion Channel", "subscription"), ("Mubi", "rent", "GB")],
    )
    cranes.poster.save("cranes.png", ContentFile(png("red")))
    cranes.tags.add("soviet", "Stanisław Lem adaptation")
    solaris = make_film("Solaris", original_title="Солярис", year=1972, genres=["Drama"])
    make_review(cranes, keywords=["war", "céline-sciamma"], author=editor, rating="4.5")
    make_review(solaris, published=False, headline="Draft: the ocean thinks")
    # A file no row names is still part of the media folder.
    other = Path(settings.MEDIA_ROOT) / "posters" / "archive" / "東京物語 poster.jpg"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"\xff\xd8 not really a JPEG \x00" * 100)
    return {"cranes": cranes, "solaris": solaris, "editor": editor}


def change_everything(magazine):
    """Rows and files changed, deleted and added after the backup."""
    Review.objects.filter(film=magazine["solaris"]).delete()
    magazine["solaris"].delete()
    Film.objects.filter(pk=magazine["cranes"].pk).update(title="Renamed")
    magazine["editor"].delete()
    make_film("Stalker", genres=["Science fiction"]).tags.add("zone")
    root = Path(settings.MEDIA_ROOT)
    Path(magazine["cranes"].poster.path).write_bytes(png("blue"))
    (root / "posters" / "archive" / "東京物語 poster.jpg").unlink()
    (root / "stray.txt").write_text("added after the backup")


def backup(tmp_path) -> Path:
    archive = tmp_path / "backups" / "site.tar.gz"
    call_command("backup", output=archive, stdout=io.StringIO())
    return archive


def restore(archive, **options) -> str:
    out = io.StringIO()
    call_command("restore", archive, stdout=out, **options)
    return out.getvalue()


def rewritten(archive: Path, dest: Path, *, files=None, manifest=None, extra=()) -> Path:
    """A copy of ``archive`` with members changed (or dropped, for None) by
    ``files(name, data) -> (name, data)``, the manifest changed by ``manifest(dict)``, and
    ``extra`` (name, data) members added."""
    members = []
    with tarfile.open(archive) as tar:
        for member in tar:
            data = tar.extractfile(member).read()
            if member.name == "manifest.json":
                content = json.loads(data)
                if manifest:
                    manifest(content)
                data = json.dumps(content).encode()
            elif files:
                changed = files(member.name, data)
                if changed is None:
                    continue
                member.name, data = changed
            members.append((member.name, data))
    members[-1:-1] = list(extra)  # before the manifest, which stays last
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


# The round trip -----------------------------------------------------------------------------


def test_restore_gives_back_every_row_and_every_media_file(magazine, tmp_path):
    rows, files = all_rows(), media_files()
    assert len(files) >= 2 and rows[Film._meta.db_table] and rows["taggit_tag"]

    archive = backup(tmp_path)
    change_everything(magazine)
    assert all_rows() != rows and media_files() != files

    output = restore(archive, yes=True)

    assert "Restored the backup" in output
    assert all_rows() == rows
    assert media_files() == files
    assert not list(tmp_path.glob(".filmmag-restore-*"))
    # Sequences came back too: new rows do not collide with restored ones.
    assert make_film("After the restore").pk > max(row[0] for row in rows[Film._meta.db_table])


def test_archive_is_private_and_its_manifest_describes_it(magazine, tmp_path):
    archive = backup(tmp_path)

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds password hashes
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[-1] == "manifest.json"
    assert manifest["database"]["vendor"] == connection.vendor
    assert "films.0001_initial" in manifest["database"]["migrations"]
    assert manifest["created"]
    poster = f"media/{magazine['cranes'].poster.name}"
    entry = next(f for f in manifest["files"] if f["path"] == poster)
    assert entry["size"] == len(png("red")) and len(entry["sha256"]) == 64
    assert {f["path"] for f in manifest["files"]} == set(names) - {"manifest.json"}


def test_restore_forgets_cached_film_list_counts(client, magazine, tmp_path):
    url = reverse("films:film_list")
    drama = re.compile(r'Drama <span class="facet__count">\((\d+)\)</span>')
    archive = backup(tmp_path)
    make_film("Ivan's Childhood", genres=["Drama"])
    assert drama.search(client.get(url).content.decode())[1] == "3"  # cached now

    restore(archive, yes=True)

    assert drama.search(client.get(url).content.decode())[1] == "2"


def test_restore_into_an_empty_media_folder_and_from_a_backup_without_media(magazine, tmp_path):
    root = Path(settings.MEDIA_ROOT)
    files = media_files()
    archive = backup(tmp_path)
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    root.rmdir()

    restore(archive, yes=True)
    assert media_files() == files

    # And the other way round: a backup with no media empties the folder.
    no_media = rewritten(
        archive,
        tmp_path / "no-media.tar.gz",
        files=lambda name, data: None if name.startswith("media/") else (name, data),
        manifest=lambda m: m.update(files=m["files"][:1]),
    )
    restore(no_media, yes=True)
    assert media_files() == {}
    assert root.is_dir()


# Refusals: nothing is touched ---------------------------------------------------------------


def truncated(archive, dest):
    dest.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    return dest


def corrupted(archive, dest):
    data = bytearray(archive.read_bytes())
    for offset in range(len(data) // 3, len(data) // 3 + 64):
        data[offset] ^= 0x55
    dest.write_bytes(bytes(data))
    return dest


def not_an_archive(archive, dest):
    dest.write_text("name,title\n1,Solaris\n")
    return dest


def garbled_manifest(archive, dest):
    def garble(manifest):
        manifest["files"][0]["size"] = "a lot"

    return rewritten(archive, dest, manifest=garble)


def bad_crc(archive, dest):
    data = bytearray(archive.read_bytes())
    data[-8] ^= 0xFF  # gzip's CRC-32 of the whole stream, checked only at its very end
    dest.write_bytes(bytes(data))
    return dest


def poster_replaced(archive, dest):
    def swap(name, data):
        # Stored names are content hashes, so any file under posters/ will do.
        return name, (png("green") if name.startswith("media/posters/") else data)

    return rewritten(archive, dest, files=swap)


def unlisted_file(archive, dest):
    return rewritten(archive, dest, extra=[("media/extra.txt", b"hi")])


def hostile_member(name):
    def build(archive, dest):
        entry = {"path": name, "size": 2, "sha256": "0" * 64}
        add = lambda m: m["files"].append(entry)  # noqa: E731
        return rewritten(archive, dest, manifest=add, extra=[(name, b"hi")])

    return build


def other_engine(archive, dest):
    other = OTHER_VENDOR[connection.vendor]

    def as_other(manifest):
        manifest["database"].update(vendor=other, file=DATABASE_FILES[other])
        manifest["files"][0]["path"] = DATABASE_FILES[other]

    def rename(name, data):
        return (DATABASE_FILES[other] if name.startswith("database/") else name), data

    return rewritten(archive, dest, files=rename, manifest=as_other)


def newer_code(archive, dest):
    future = lambda m: m["database"]["migrations"].append("films.9999_future")  # noqa: E731
    return rewritten(archive, dest, manifest=future)


VENDORS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DAMAGED = {
    "truncated": (truncated, "truncated"),
    "corrupted": (corrupted, "corrupted"),
    "crc": (bad_crc, "corrupted"),
    "not an archive": (not_an_archive, "corrupted"),
    "manifest": (garbled_manifest, "the manifest is not readable"),
    "checksum": (poster_replaced, "SHA-256 does not match the manifest for media/posters/"),
    "unlisted": (unlisted_file, "files not in the manifest: media/extra.txt"),
    "dot-dot": (hostile_member("media/../../escaped.txt"), "unexpected member"),
    "absolute": (hostile_member("/tmp/escaped.txt"), "unexpected member"),
    "elsewhere": (hostile_member("escaped.txt"), "unexpected member"),
    "engine": (
        other_engine,
        f"This is a {VENDORS[OTHER_VENDOR[connection.vendor]]} backup and the site's "
        f"database is {VENDORS[connection.vendor]}",
    ),
    "newer": (newer_code, "migrations this code does not have.*9999_future"),
}


def test_damaged_or_foreign_archives_change_nothing(magazine, tmp_path, subtests):
    archive = backup(tmp_path)
    change_everything(magazine)
    rows, files = all_rows(), media_files()

    for label, (damage, message) in DAMAGED.items():
        with subtests.test(label):
            bad = damage(archive, tmp_path / f"{label}.tar.gz")
            with pytest.raises(CommandError, match=f"Nothing was restored: .*{message}"):
                restore(bad, yes=True)
            assert all_rows() == rows
            assert media_files() == files
            assert not list(tmp_path.glob(".filmmag-restore-*")), "staging left behind"
            assert not list(tmp_path.rglob("escaped.txt"))


def test_restore_asks_first_and_changes_nothing_unless_told_yes(
    magazine, tmp_path, monkeypatch, subtests
):
    archive = backup(tmp_path)
    change_everything(magazine)
    rows, files = all_rows(), media_files()

    def no_terminal(prompt):
        raise EOFError  # as in CI

    for answer in ("no", "", no_terminal):
        with subtests.test(repr(answer)):
            reply = answer if callable(answer) else (lambda prompt, answer=answer: answer)
            monkeypatch.setattr("builtins.input", reply)
            with pytest.raises(CommandError, match="cancelled; nothing was changed"):
                restore(archive)
            assert (all_rows(), media_files()) == (rows, files)

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    restore(archive)
    assert all_rows() != rows


# PostgreSQL client tools --------------------------------------------------------------------


def fake_tool(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    tool.chmod(0o755)
    return tool


@pytest.mark.django_db(transaction=False)
def test_pg_tools_of_the_servers_major_version_are_chosen(tmp_path, monkeypatch):
    fake_tool(tmp_path / "old", "pg_dump", "14.9")
    right = fake_tool(tmp_path / "right", "pg_dump", "97.2")
    monkeypatch.setenv("PATH", f"{tmp_path / 'old'}")
    monkeypatch.setenv("PG_BINDIR", str(tmp_path / "right"))

    assert pg_tool("pg_dump", 97) == str(right)


@pytest.mark.django_db(transaction=False)
def test_mismatched_or_missing_pg_tools_are_reported_clearly(tmp_path, monkeypatch):
    fake_tool(tmp_path / "old", "pg_dump", "14.9")
    monkeypatch.setenv("PATH", str(tmp_path / "old"))
    monkeypatch.delenv("PG_BINDIR", raising=False)

    with pytest.raises(BackupError, match=r"PostgreSQL 98, and pg_dump must .*14\.9"):
        pg_tool("pg_dump", 98)
    with pytest.raises(BackupError, match="pg_restore not found.*postgresql-client-98"):
        pg_tool("pg_restore", 98)


@pytest.mark.django_db(transaction=False)
def test_backup_is_not_written_into_the_media_folder_it_copies():
    with pytest.raises(CommandError, match="cannot be written inside the media folder"):
        call_command("backup", output=Path(settings.MEDIA_ROOT) / "site.tar.gz")
