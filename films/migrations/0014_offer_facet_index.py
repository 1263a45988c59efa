"""The offers by region and offer type carry their service, after the film: counting the services of
the films of a genre (the film list's facets) merges this index with the genre's, in film order,
without a hash of either."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0013_trigram_match_cost"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="availability",
            name="avail_current_offer_idx",
        ),
        migrations.AddIndex(
            model_name="availability",
            index=models.Index(
                condition=models.Q(("ended__isnull", True)),
                fields=["region", "offer_type", "film", "service"],
                name="avail_current_offer_film_idx",
            ),
        ),
    ]
