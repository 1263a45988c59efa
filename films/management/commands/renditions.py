"""Make missing or out-of-date renditions: after a restore, a change to films.pictures.SPECS
(bump SPEC_VERSION) or to DJANGO_IMAGE_FORMATS. Pages never make them; this or a save does.

``--prune`` instead removes the rendition files that no row names: left by a save that failed
while the store was down, or by a change of specs whose old files could not be removed then.
Files younger than ``--min-age`` minutes are kept, as a save in progress may not have
committed the row that names them yet."""

from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from films.cache import bump
from films.images import STORAGE_ERRORS, PictureNotSaved
from films.pictures import RENDITION_DIR, RenditionsField, rendition_key, rendition_names


def picture_fields():
    """(model, RenditionsField) for every picture in the project."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, RenditionsField):
                yield model, field


class Command(BaseCommand):
    help = "Make the renditions of every picture that lacks up-to-date ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "models", nargs="*", metavar="app.Model", help="Only these models (default: all)."
        )
        parser.add_argument(
            "--all", action="store_true", help="Make them again even where they are up to date."
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Remove the rendition files no picture uses (instead of making any).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="With --prune: list, remove nothing."
        )
        parser.add_argument(
            "--min-age",
            type=int,
            default=60,
            metavar="MINUTES",
            help="With --prune: keep files younger than this (default: 60).",
        )

    def handle(self, *args, models=(), all=False, prune=False, **options):
        if prune:
            return self.prune(
                dry_run=options["dry_run"],
                min_age=options["min_age"],
                verbosity=options["verbosity"],
            )
        if options["dry_run"]:
            raise CommandError("--dry-run goes with --prune.")
        try:
            self.make(models, all)
        except PictureNotSaved as error:
            raise CommandError(str(error)) from error

    def make(self, models, all):
        made = 0
        only = {label.lower() for label in models}
        for model, field in picture_fields():
            if only and model._meta.label_lower not in only:
                continue
            rows = model._base_manager.exclude(**{field.source: ""}).only(
                "pk", field.source, field.attname, *self._focal_fields(field)
            )
            for row in rows.iterator(chunk_size=200):
                source = getattr(row, field.source)
                current = getattr(row, field.attname) or {}
                key = rendition_key(source.name, field.focal_point(row))
                if not all and current.get("key") == key:
                    continue
                if all:
                    setattr(row, field.attname, {})
                with transaction.atomic():
                    field.pre_save(row, add=False)
                    model._base_manager.filter(pk=row.pk).update(
                        **{field.attname: getattr(row, field.attname)}
                    )
                made += 1
        if made:
            bump(reschedule=False)  # the rows were updated without signals; pages show them
        self.stdout.write(f"Made the renditions of {made} picture(s).")

    @staticmethod
    def _focal_fields(field):
        return [f"{field.focal}_x", f"{field.focal}_y"] if field.focal else []

    def prune(self, *, dry_run: bool, min_age: int, verbosity: int):
        used_by_storage = {}
        for model, field in picture_fields():
            storage = model._meta.get_field(field.source).storage
            used = used_by_storage.setdefault(storage, set())
            for renditions in model._base_manager.values_list(field.attname, flat=True).iterator():
                used |= rendition_names(renditions)
        cutoff = timezone.now() - timedelta(minutes=min_age)
        unused = kept = young = 0
        for storage, used in used_by_storage.items():
            try:
                for name in stored_files(storage, RENDITION_DIR):
                    if name in used:
                        kept += 1
                    elif min_age and storage.get_modified_time(name) > cutoff:
                        young += 1
                    else:
                        unused += 1
                        if verbosity >= 2:
                            self.stdout.write(f"  {name}")
                        if not dry_run:
                            storage.delete(name)
            except STORAGE_ERRORS as error:
                raise CommandError(f"The picture store failed: {error}") from error
            if not dry_run:
                remove_empty_folders(storage, RENDITION_DIR)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(
            f"{verb} {unused} rendition file(s) no picture uses; {kept} in use"
            + (f", {young} kept as younger than {min_age} minute(s)." if young else ".")
        )


def stored_files(storage, folder: str):
    """Every file under ``folder`` in ``storage``, with its path."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # nothing was ever stored there
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from stored_files(storage, f"{folder}/{sub}")


def remove_empty_folders(storage, folder: str) -> None:
    """On a disk, the folders pruning emptied (an object store has no folders)."""
    try:
        root = Path(storage.path(folder))
    except NotImplementedError:
        return
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
