from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.parser import MAX_DOCUMENT_BYTES, DocumentError, ParsedDocument, parse_document
from reviews.services import (
    REVIEW_SECTIONS,
    ImportReport,
    ReviewImportError,
    region_clean,
    review_import,
)


class Command(BaseCommand):
    help = (
        "Import review documents in the house format: create or update each film and its "
        "draft review. Files that fail are skipped (nothing written for them) and the command "
        "exits with an error at the end."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what was understood and what would change; write nothing.",
        )
        parser.add_argument(
            "--region",
            help="Country code for the streaming offers (default: the site's default region).",
        )
        parser.add_argument(
            "--accept-credits",
            action="store_true",
            help="Also add the cast and crew credits suggested from the text (off by default: "
            "editors accept them one by one in the admin).",
        )

    def handle(self, *args, files, dry_run, region, accept_credits, **options):
        try:
            region = region_clean(region)
        except ReviewImportError as exc:
            raise CommandError(str(exc)) from exc
        failed = []
        for path in files:
            try:
                document = parse_document(_read(path), filename=path.name)
                report = review_import(
                    document=document,
                    accepted_credits=document.suggested_credits if accept_credits else (),
                    region=region,
                    dry_run=dry_run,
                )
            except (OSError, DocumentError, ReviewImportError) as exc:
                failed.append(str(path))
                self.stderr.write(f"{path}: {exc} Nothing was imported from this file.")
                continue
            if dry_run:
                self.write_preview(path, document, report, region=region, credits=accept_credits)
            else:
                self.write_report(path, report)
        if failed:
            raise CommandError(f"{len(failed)} of {len(files)} file(s) failed: {', '.join(failed)}")

    def write_report(self, path: Path, report: ImportReport) -> None:
        style = self.style.SUCCESS if report.changed else self.style.NOTICE
        self.stdout.write(style(f"{path}: {report.summary()}"))
        if report.review_created:
            self.stdout.write("  The review is a draft: check it and publish it in the admin.")
        self.write_items(report)

    def write_preview(
        self,
        path: Path,
        document: ParsedDocument,
        report: ImportReport,
        *,
        region: str,
        credits: bool,
    ) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"{path} (dry run: nothing written)"))
        lines = [
            ("Title", document.title),
            ("Year", document.year or "–"),
            ("Release date", document.release_date or "–"),
            ("Headline", document.headline),
            ("Directors", ", ".join(document.directors) or "–"),
            ("Genres", ", ".join(document.genres) or "–"),
            (
                f"Offers ({region})",
                ", ".join(f"{o.service} ({o.offer_type})" for o in document.offers)
                or ("not streaming" if document.not_streaming else "–"),
            ),
        ]
        for section in REVIEW_SECTIONS:
            text = getattr(document, section)
            paragraphs = len([p for p in text.split("\n\n") if p.strip()])
            size = f"{paragraphs} paragraph(s), {len(text)} characters"
            lines.append((section.capitalize(), size))
        lines.append((f"Keywords ({len(document.keywords)})", ", ".join(document.keywords) or "–"))
        for label, value in lines:
            self.stdout.write(f"  {label}: {value}")
        if document.suggested_credits:
            applied = "applied" if credits else "not applied without --accept-credits"
            self.stdout.write(f"  Suggested credits ({applied}):")
            for credit in document.suggested_credits:
                character = f" as {credit.character}" if credit.character else ""
                self.stdout.write(f"    {credit.person} – {credit.role}{character}")
        self.stdout.write(f"  {report.summary()}")
        self.write_items(report)

    def write_items(self, report: ImportReport) -> None:
        created, updated = (
            ("would create", "would update") if report.dry_run else ("created", "updated")
        )
        for label, items in ((created, report.created), (updated, report.updated)):
            for item in items:
                self.stdout.write(f"  {label}: {item}")
        if report.unchanged:
            self.stdout.write(f"  unchanged: {'; '.join(report.unchanged)}")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))


def _read(path: Path) -> bytes:
    """The file's bytes; refuses a huge file before reading it."""
    if path.is_dir():
        raise DocumentError("This is a folder, not a review document.")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(
            f"The file is {size:,} bytes; a review document may be at most "
            f"{MAX_DOCUMENT_BYTES:,} bytes."
        )
    return path.read_bytes()
