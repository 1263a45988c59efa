# Offer history: when each offer was first seen, last checked and left (films.models.Availability).

import django.utils.timezone
from django.db import migrations, models
from django.utils import timezone


def date_existing_offers(apps, schema_editor):
    """Existing offers are all open. First seen: the day their film entered the catalogue, or
    the day they were checked if earlier (the earliest day we know of them; today would make
    every offer "New on …" at once). Last checked, where empty: that same day, when someone
    entered the offer, so that offers never checked since show up as stale."""
    Availability = apps.get_model("films", "Availability")
    offers = Availability.objects.select_related("film").only("film__created_at", "last_checked")
    batch = []
    for offer in offers.iterator(chunk_size=2000):
        entered = timezone.localdate(offer.film.created_at)
        offer.first_seen = min(entered, offer.last_checked or entered)
        offer.last_checked = offer.last_checked or offer.first_seen
        batch.append(offer)
        if len(batch) == 2000:
            Availability.objects.bulk_update(batch, ["first_seen", "last_checked"])
            batch = []
    Availability.objects.bulk_update(batch, ["first_seen", "last_checked"])


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0007_pictures"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="availability",
            options={
                "ordering": ["film", "offer_type", "region", "service", "-first_seen"],
                "verbose_name": "offer",
            },
        ),
        migrations.RemoveConstraint(
            model_name="availability",
            name="availability_unique_offer",
        ),
        migrations.AddField(
            model_name="availability",
            name="ended",
            field=models.DateField(
                blank=True,
                help_text="When the offer left the service. Empty while readers can watch it; a closed offer stays as history, and the film page says when it left.",
                null=True,
                verbose_name="left on",
            ),
        ),
        migrations.AddField(
            model_name="availability",
            name="first_seen",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(date_existing_offers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="availability",
            name="first_seen",
            field=models.DateField(
                default=django.utils.timezone.localdate,
                help_text="When the offer was first seen on the service: “New on …” lists it from then.",
            ),
        ),
        migrations.AlterField(
            model_name="availability",
            name="last_checked",
            field=models.DateField(
                default=django.utils.timezone.localdate,
                help_text="When someone last saw the offer on the service. Saving an offer, or an import that lists it, counts as a check.",
            ),
        ),
        migrations.AddIndex(
            model_name="availability",
            index=models.Index(
                fields=["service", "first_seen"], name="avail_service_first_seen_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="availability",
            index=models.Index(fields=["service", "ended"], name="avail_service_ended_idx"),
        ),
        migrations.AddIndex(
            model_name="availability",
            index=models.Index(
                condition=models.Q(("ended__isnull", True)),
                fields=["last_checked"],
                name="avail_current_checked_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="availability",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ended__isnull", True)),
                fields=("film", "service", "offer_type", "region"),
                name="availability_unique_current_offer",
                violation_error_message="This film already has this offer (service, offer type and region) open.",
            ),
        ),
        migrations.AddConstraint(
            model_name="availability",
            constraint=models.CheckConstraint(
                condition=models.Q(("last_checked__gte", models.F("first_seen"))),
                name="availability_checked_after_first_seen",
                violation_error_message="An offer cannot be checked before it was first seen.",
            ),
        ),
        migrations.AddConstraint(
            model_name="availability",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("ended__isnull", True), ("ended__gte", models.F("first_seen")), _connector="OR"
                ),
                name="availability_ended_after_first_seen",
                violation_error_message="An offer cannot leave before it was first seen.",
            ),
        ),
    ]
