import shutil
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from reviews.management.backup import (
    VENDOR_NAMES,
    BackupError,
    backup_extract,
    database_check,
    database_replace,
    media_replace,
    migrations_unknown,
    staging_parent,
)


class Command(BaseCommand):
    help = (
        "Replace the database and the media folder with those in a `manage.py backup` archive. "
        "The archive is extracted and checked against its manifest first; nothing is changed "
        "unless it is complete and intact, and for the same database engine."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="A .tar.gz written by `manage.py backup`.")
        parser.add_argument(
            "--yes",
            "--noinput",
            "--no-input",
            action="store_true",
            dest="yes",
            help="Do not ask for confirmation (for scripts and CI).",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: %(default)s)."
        )

    def handle(self, *args, archive, yes, database, **options):
        connection = connections[database]
        media_root = Path(settings.MEDIA_ROOT).absolute()
        if not archive.is_file():
            raise CommandError(f"No such archive: {archive}")
        try:
            extracted = backup_extract(archive=archive, staging_parent=staging_parent(media_root))
        except (BackupError, OSError) as exc:
            raise CommandError(f"Nothing was restored: {exc}") from exc
        self.keep_staging = False
        try:
            self.restore(extracted, connection=connection, media_root=media_root, yes=yes)
        finally:
            if not self.keep_staging:
                shutil.rmtree(extracted.folder, ignore_errors=True)

    def restore(self, extracted, *, connection, media_root, yes):
        manifest = extracted.manifest
        try:
            database_check(connection=connection, extracted=extracted)
            if unknown := migrations_unknown(manifest, connection):
                raise BackupError(
                    "the archive's database has migrations this code does not have "
                    f"({', '.join(unknown)}): restore it with the version of the code it was "
                    "made with, or a newer one."
                )
        except (BackupError, OSError) as exc:
            raise CommandError(f"Nothing was restored: {exc}") from exc

        media = [f for f in manifest["files"] if f["path"].startswith("media/")]
        vendor = VENDOR_NAMES[manifest["database"]["vendor"]]
        summary = (
            f"The backup from {manifest['created']} ({vendor} database, {len(media)} media "
            f"files) will REPLACE the database {connection.settings_dict['NAME']!s} and "
            f"everything in {media_root}."
        )
        if not yes:
            self.stdout.write(summary)
            self.stdout.write("Anything not in the backup is lost (`make backup` keeps it).")
            try:
                answer = input("Type 'yes' to restore: ")
            except EOFError:
                answer = ""
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")

        try:
            database_replace(connection=connection, extracted=extracted)
        except (BackupError, OSError) as exc:
            raise CommandError(
                f"The database could not be replaced and is as it was; the media were not "
                f"touched: {exc}"
            ) from exc
        try:
            media_replace(extracted=extracted, media_root=media_root)
        except OSError as exc:
            self.keep_staging = True  # it may hold the old media folder by now
            raise CommandError(
                f"The database was restored but the media folder could not be replaced: {exc}. "
                f"The backup's media are in {extracted.media}, and the previous ones (if moved "
                f"already) in {extracted.folder / 'old-media'}: put them in place by hand."
            ) from exc
        # Cached film-list counts (and anything else cached) describe the old database.
        local_only = False
        for cache in caches.all(initialized_only=False):
            cache.clear()
            local_only |= isinstance(cache, LocMemCache)

        self.stdout.write(self.style.SUCCESS(f"Restored the backup from {manifest['created']}."))
        if local_only:
            self.stdout.write(
                "The cache is each server process's own memory (no REDIS_URL): restart the site "
                "so it forgets what it cached from the old database."
            )
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write(
                "The backup predates some of this code's migrations: run `manage.py migrate`."
            )
