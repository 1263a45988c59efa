"""Site search (films.search): each review's search vector, written by a PostgreSQL trigger on
every insert and update, bulk ones included. The headline both as typed and as English stems
(A), the standfirst (B) and the four sections (C) as English stems. Nothing to do on SQLite,
where the column stays empty and the GIN index is a plain one."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations

FORWARD = """
CREATE FUNCTION reviews_review_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', coalesce(NEW.headline, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.headline, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.standfirst, '')), 'B')
        || setweight(to_tsvector('english', concat_ws(' ',
            NEW.synopsis, NEW.critique, NEW.criticisms, NEW.conclusion)), 'C');
    RETURN NEW;
END $$;
CREATE TRIGGER reviews_review_search_vector
    BEFORE INSERT OR UPDATE OF headline, standfirst, synopsis, critique, criticisms, conclusion,
        search_vector
    ON reviews_review
    FOR EACH ROW EXECUTE FUNCTION reviews_review_search_vector();

CREATE INDEX review_headline_trgm_idx ON reviews_review USING gin (headline gin_trgm_ops);

UPDATE reviews_review SET search_vector = NULL;
"""

BACKWARD = """
DROP INDEX IF EXISTS review_headline_trgm_idx;
DROP TRIGGER IF EXISTS reviews_review_search_vector ON reviews_review;
DROP FUNCTION IF EXISTS reviews_review_search_vector();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0010_review_standfirst"),
        ("films", "0009_search"),  # pg_trgm
    ]

    operations = [
        migrations.AddField(
            model_name="review",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="review",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="review_search_idx"
            ),
        ),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD), elidable=False),
    ]
