import os
import stat
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.parser import (
    MAX_DOCUMENT_BYTES,
    DocumentError,
    ParsedDocument,
    parse_document,
    read_document,
)
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
    # call_command(..., stdin=stream) stands in for standard input in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "files",
            nargs="+",
            type=Path,
            metavar="FILE",
            help="A review document; - reads one from standard input.",
        )
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
            from_stdin = str(path) == "-"
            label = "standard input" if from_stdin else str(path)
            try:
                raw = _read_stdin(options.get("stdin")) if from_stdin else _read(path)
                document = parse_document(raw, filename="" if from_stdin else path.name)
                report = review_import(
                    document=document,
                    accepted_credits=document.suggested_credits if accept_credits else (),
                    region=region,
                    dry_run=dry_run,
                )
            except (OSError, DocumentError, ReviewImportError) as exc:
                failed.append(label)
                self.stderr.write(f"{label}: {exc} Nothing was imported from this file.")
                continue
            if dry_run:
                self.write_preview(label, document, report, region=region, credits=accept_credits)
            else:
                self.write_report(label, report)
        if failed:
            raise CommandError(f"{len(failed)} of {len(files)} file(s) failed: {', '.join(failed)}")

    def write_report(self, label: str, report: ImportReport) -> None:
        style = self.style.SUCCESS if report.changed else self.style.NOTICE
        self.stdout.write(style(f"{label}: {report.summary()}"))
        if report.review_created:
            self.stdout.write("  The review is a draft: check it and publish it in the admin.")
        self.write_items(report)

    def write_preview(
        self,
        label: str,
        document: ParsedDocument,
        report: ImportReport,
        *,
        region: str,
        credits: bool,
    ) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"{label} (dry run: nothing written)"))
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


def _read_stdin(stream) -> bytes:
    if stream is None and sys.stdin is None:
        raise DocumentError("There is no standard input to read the document from.")
    return read_document(stream or sys.stdin.buffer)


def _read(path: Path) -> bytes:
    """The document's bytes, read no further than the size limit whatever ``path`` is."""
    if path.is_dir():
        raise DocumentError("This is a folder, not a review document.")
    with path.open("rb") as stream:
        status = os.fstat(stream.fileno())
        if stat.S_ISREG(status.st_mode) and status.st_size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                f"The file is {status.st_size:,} bytes; a review document may be at most "
                f"{MAX_DOCUMENT_BYTES:,} bytes."
            )
        # Pipes, FIFOs, devices and files still growing: their size is known only by reading.
        return read_document(stream, filename=path.name)
