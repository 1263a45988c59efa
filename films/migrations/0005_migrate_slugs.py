"""Bring existing slugs under the site's one policy (films/slugs.py).

Rows whose slug a URL cannot carry (Unicode, empty) or that got the old "untitled" placeholder
get the policy's slug; the old one is kept in SlugHistory so its URL still redirects.
Slugs that already work are left alone: their URLs may be published.
"""

import re

from django.db import migrations

from films.slugs import SLUG_MAX_LENGTH, is_usable, slug_base

PLACEHOLDER = re.compile(r"untitled(-\d+)?")


def migrate(apps, schema_editor, *, app_label, models):
    ContentType = apps.get_model("contenttypes", "ContentType")
    SlugHistory = apps.get_model("films", "SlugHistory")
    for model_name, kind, source in models:
        Model = apps.get_model(app_label, model_name)
        content_type, _ = ContentType.objects.get_or_create(
            app_label=app_label, model=model_name.lower()
        )
        taken = set(Model.objects.values_list("slug", flat=True))
        taken |= set(
            SlugHistory.objects.filter(content_type=content_type).values_list("slug", flat=True)
        )
        for row in Model.objects.order_by("pk"):
            if is_usable(row.slug) and not PLACEHOLDER.fullmatch(row.slug):
                continue
            base = slug_base(source(row), kind=kind, max_length=SLUG_MAX_LENGTH)
            slug, n = base, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            old, row.slug = row.slug, slug
            row.save(update_fields=["slug"])
            if old:
                SlugHistory.objects.update_or_create(
                    content_type=content_type, slug=old, defaults={"object_id": row.pk}
                )


def forwards(apps, schema_editor):
    migrate(
        apps,
        schema_editor,
        app_label="films",
        models=[
            ("Film", "film", lambda film: film.title),
            ("Person", "person", lambda person: person.name),
            ("Genre", "genre", lambda genre: genre.name),
            ("StreamingService", "service", lambda service: service.name),
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("films", "0004_slug_policy"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
