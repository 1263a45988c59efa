"""The planner's price of a pg_trgm word-similarity match (``name %> 'query'``, typo-tolerant
search, films.search): its function is declared as cheap as an equality (cost 1), so with a
LIMIT PostgreSQL reads the whole table comparing every name rather than ask the trigram index;
a cost that reflects the work (a comparison of trigram sets) makes it take the index.

PostgreSQL only; a dump of the database does not keep it (the function is the extension's), the
migration's reverse and forward set it again.
"""

from django.db import migrations

FORWARD = "ALTER FUNCTION word_similarity_commutator_op(text, text) COST 100;"
BACKWARD = "ALTER FUNCTION word_similarity_commutator_op(text, text) COST 1;"


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0012_facet_counts"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD), elidable=False),
    ]
