"""Bring review and keyword slugs under the site's one policy (films/slugs.py).

django-taggit gave keywords Unicode slugs ("céline-sciamma"), which the URL patterns refused;
they get the policy's ASCII slug, and the old one is kept so its URL redirects.
"""

from functools import partial
from importlib import import_module

from django.db import migrations


def forwards(apps, schema_editor):
    migrate = import_module("films.migrations.0005_migrate_slugs").migrate
    migrate(
        apps,
        schema_editor,
        app_label="reviews",
        models=[("Review", "review", partial(_review_source, apps))],
    )
    migrate(apps, schema_editor, app_label="taggit", models=[("Tag", "keyword", lambda t: t.name)])


def _review_source(apps, review):
    film = apps.get_model("films", "Film").objects.get(pk=review.film_id)
    return f"{film.title} {film.year} {review.headline}"


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0005_migrate_slugs"),
        ("reviews", "0003_slug_policy"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
