"""The film list's sort keys from each film's latest published review, stored on the film and
indexed for "Highest rated" and "Recently reviewed" (NULLS LAST, then title and id, as the list
orders). The reviews app fills them (reviews 0012) and keeps them current.

The film's search-vector trigger now runs only when what the vector reads is written (the
titles, or the vector itself, which credit and person changes reset), so that writing the
keys does not recompute it."""

from django.db import migrations, models

import films.models

TRIGGER = """
DROP TRIGGER IF EXISTS films_film_search_vector ON films_film;
CREATE TRIGGER films_film_search_vector
    BEFORE INSERT OR UPDATE {columns}ON films_film
    FOR EACH ROW EXECUTE FUNCTION films_film_search_vector();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0010_updated_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="film",
            name="last_reviewed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="film",
            name="latest_rating",
            field=models.DecimalField(
                blank=True, decimal_places=1, editable=False, max_digits=2, null=True
            ),
        ),
        migrations.AddField(
            model_name="film",
            name="review_keys_stale_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When one of the film's reviews is next published or expires by "
                "itself, and its review keys are computed again.",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="film",
            index=films.models.SortIndex(
                models.OrderBy(models.F("latest_rating"), descending=True, nulls_last=True),
                models.F("title"),
                models.F("id"),
                name="film_rating_sort_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="film",
            index=films.models.SortIndex(
                models.OrderBy(models.F("last_reviewed_at"), descending=True, nulls_last=True),
                models.F("title"),
                models.F("id"),
                name="film_reviewed_sort_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="film",
            index=models.Index(
                condition=models.Q(("review_keys_stale_at__isnull", False)),
                fields=["review_keys_stale_at"],
                name="film_review_keys_stale_idx",
            ),
        ),
        migrations.RunPython(
            on_postgresql(TRIGGER.format(columns="OF title, original_title, search_vector ")),
            on_postgresql(TRIGGER.format(columns="")),
            elidable=False,
        ),
    ]
