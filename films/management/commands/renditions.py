"""Make missing or out-of-date renditions: after a restore, a change to films.pictures.SPECS
(bump SPEC_VERSION) or to DJANGO_IMAGE_FORMATS. Pages never make them; this or a save does."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from films.pictures import RenditionsField, rendition_key


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

    def handle(self, *args, models=(), all=False, **options):
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
        self.stdout.write(f"Made the renditions of {made} picture(s).")

    @staticmethod
    def _focal_fields(field):
        return [f"{field.focal}_x", f"{field.focal}_y"] if field.focal else []
