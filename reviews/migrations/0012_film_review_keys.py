"""Fill each film's review keys (films 0011) from its reviews: the rating and publication time
of its latest published review, and when one of them is next published or expires. Only films
with a review in the published status can have any; the others keep NULL. The same rule as
reviews.models.film_review_keys, written against the models as they are at this migration."""

from django.db import migrations
from django.db.models import Case, F, Min, OuterRef, Q, Subquery, When
from django.utils import timezone

PUBLISHED = "published"


def fill(apps, schema_editor):
    Film = apps.get_model("films", "Film")
    Review = apps.get_model("reviews", "Review")
    now = timezone.now()
    published = Review.objects.filter(status=PUBLISHED)
    latest = (
        published.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), published_at__lte=now)
        .filter(film=OuterRef("pk"))
        .order_by("-published_at", "-pk")
    )
    upcoming = (
        published.filter(Q(published_at__gt=now) | Q(expires_at__gt=now), film=OuterRef("pk"))
        .order_by()
        .values("film")
        .annotate(
            at=Min(
                Case(When(published_at__gt=now, then=F("published_at")), default=F("expires_at"))
            )
        )
        .values("at")
    )
    Film.objects.filter(pk__in=published.values("film")).update(
        latest_rating=Subquery(latest.values("rating")[:1]),
        last_reviewed_at=Subquery(latest.values("published_at")[:1]),
        review_keys_stale_at=Subquery(upcoming),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("films", "0011_review_sort_keys"),
        ("reviews", "0011_search"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
