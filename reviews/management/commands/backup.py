from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from reviews.management.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write the database and the media folder (DJANGO_MEDIA_ROOT) into one .tar.gz archive "
        "with a manifest of checksums; `manage.py restore` puts it back. Safe while the site runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="The archive to write (default: backups/filmmag-<UTC time>.tar.gz in the "
            "project folder). An existing file is replaced only once the new one is complete.",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: %(default)s)."
        )

    def handle(self, *args, output, database, **options):
        if output is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            output = Path(settings.BASE_DIR) / "backups" / f"filmmag-{stamp}.tar.gz"
        media_root = Path(settings.MEDIA_ROOT)
        try:
            manifest = backup_create(
                connection=connections[database], output=output, media_root=media_root
            )
        except (BackupError, OSError) as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        media = [f for f in manifest["files"] if f["path"].startswith("media/")]
        db = manifest["database"]
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output}")
            + f" ({output.stat().st_size:,} bytes): the {db['vendor']} database "
            f"({len(db['migrations'])} migrations applied) and {len(media)} media files "
            f"({sum(f['size'] for f in media):,} bytes) from {media_root}."
        )
