"""The COMBO counts (films in a genre with a service's offer of a type, in a region), counted
for the rows already there; films/counts.py keeps them current from now on."""

from django.db import migrations, models
from django.db.models import Count


def count_combos(apps, schema_editor):
    # The historical models, not films.counts: this must count as the schema is at this step.
    Availability = apps.get_model("films", "Availability")
    FacetCount = apps.get_model("films", "FacetCount")
    current = Availability.objects.filter(ended__isnull=True).order_by()
    with_genre = current.filter(film__genres__isnull=False)
    groupings = [
        (with_genre, ("film__genres", "service_id", "offer_type"), "{}.{}.{}"),
        (with_genre, ("film__genres", "service_id"), "{}.{}."),
        (with_genre, ("film__genres", "offer_type"), "{}.0.{}"),
        (current, ("service_id", "offer_type"), "0.{}.{}"),
        (current, ("service_id",), "0.{}."),
    ]
    rows = []
    for queryset, columns, cell in groupings:
        grouped = queryset.values_list("region", *columns).annotate(
            n=Count("film_id", distinct=True)
        )
        for region, *values, n in grouped:
            option = cell.format(*values)
            rows.append(
                FacetCount(
                    facet="combo",
                    region=region,
                    option=option,
                    genre_id=int(option.split(".")[0]) or None,
                    service_id=int(option.split(".")[1]) or None,
                    n=n,
                )
            )
    FacetCount.objects.filter(facet="combo").delete()
    FacetCount.objects.bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0014_offer_facet_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="facetcount",
            name="facet",
            field=models.CharField(
                choices=[
                    ("films", "Films"),
                    ("genre", "Genre"),
                    ("director", "Director"),
                    ("decade", "Decade"),
                    ("service", "Streaming service"),
                    ("offer", "Offer type"),
                    ("combo", "Genre, service and offer type"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(count_combos, migrations.RunPython.noop),
    ]
