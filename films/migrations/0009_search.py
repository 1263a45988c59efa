"""Site search (films.search): pg_trgm, and the search vectors of films and people, written by
PostgreSQL triggers so that every write keeps them current, the bulk ones (the demo loader,
imports, QuerySet.update()) included:

- a film's vector, on each insert or update of the film: its title and original title (A), the
  names and original names of its director and cast (B);
- a change to a credit (insert, update, delete) or to a person's name rewrites the vectors of
  the films concerned;
- a person's vector: name and original name (A);
- trigram indexes on titles and names, for the typo-tolerant match.

On SQLite the extension and the triggers are skipped (the columns stay empty, and the search
falls back to matching the fields themselves); the GIN indexes are plain indexes there.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FORWARD = """
CREATE FUNCTION films_film_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(NEW.original_title, '')), 'A')
        || setweight(to_tsvector('simple', coalesce((
            SELECT string_agg(p.name || ' ' || p.original_name, ' ')
            FROM films_credit c JOIN films_person p ON p.id = c.person_id
            WHERE c.film_id = NEW.id AND c.role IN ('director', 'actor')
        ), '')), 'B');
    RETURN NEW;
END $$;
CREATE TRIGGER films_film_search_vector BEFORE INSERT OR UPDATE ON films_film
    FOR EACH ROW EXECUTE FUNCTION films_film_search_vector();

-- Touching the film's row runs the trigger above, which reads the credits as they are now.
CREATE FUNCTION films_credit_search_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE films_film SET search_vector = NULL WHERE id = OLD.film_id;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.film_id <> OLD.film_id
            OR NEW.person_id <> OLD.person_id OR NEW.role <> OLD.role) THEN
        UPDATE films_film SET search_vector = NULL WHERE id = NEW.film_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER films_credit_search_touch AFTER INSERT OR UPDATE OR DELETE ON films_credit
    FOR EACH ROW EXECUTE FUNCTION films_credit_search_touch();

CREATE FUNCTION films_person_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := setweight(
        to_tsvector('simple', coalesce(NEW.name, '') || ' ' || coalesce(NEW.original_name, '')),
        'A'
    );
    RETURN NEW;
END $$;
CREATE TRIGGER films_person_search_vector BEFORE INSERT OR UPDATE ON films_person
    FOR EACH ROW EXECUTE FUNCTION films_person_search_vector();

CREATE FUNCTION films_person_search_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE films_film SET search_vector = NULL
    WHERE id IN (SELECT film_id FROM films_credit WHERE person_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER films_person_search_touch AFTER UPDATE OF name, original_name ON films_person
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name
        OR OLD.original_name IS DISTINCT FROM NEW.original_name)
    EXECUTE FUNCTION films_person_search_touch();

-- For the typo-tolerant match (word similarity) on titles and names. Not in the models'
-- Meta: an operator class would not build on SQLite.
CREATE INDEX film_title_trgm_idx ON films_film USING gin (title gin_trgm_ops);
CREATE INDEX film_original_title_trgm_idx ON films_film USING gin (original_title gin_trgm_ops);
CREATE INDEX person_name_trgm_idx ON films_person USING gin (name gin_trgm_ops);
CREATE INDEX person_original_name_trgm_idx ON films_person
    USING gin (original_name gin_trgm_ops);

-- The rows already there.
UPDATE films_person SET search_vector = NULL;
UPDATE films_film SET search_vector = NULL;
"""

BACKWARD = """
DROP INDEX IF EXISTS film_title_trgm_idx;
DROP INDEX IF EXISTS film_original_title_trgm_idx;
DROP INDEX IF EXISTS person_name_trgm_idx;
DROP INDEX IF EXISTS person_original_name_trgm_idx;
DROP TRIGGER IF EXISTS films_person_search_touch ON films_person;
DROP TRIGGER IF EXISTS films_person_search_vector ON films_person;
DROP TRIGGER IF EXISTS films_credit_search_touch ON films_credit;
DROP TRIGGER IF EXISTS films_film_search_vector ON films_film;
DROP FUNCTION IF EXISTS films_person_search_touch();
DROP FUNCTION IF EXISTS films_person_search_vector();
DROP FUNCTION IF EXISTS films_credit_search_touch();
DROP FUNCTION IF EXISTS films_film_search_vector();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0008_offer_history"),
    ]

    operations = [
        TrigramExtension(),  # does nothing on other databases
        migrations.AddField(
            model_name="film",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="person",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="film",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="film_search_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="person_search_idx"
            ),
        ),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD), elidable=False),
    ]
