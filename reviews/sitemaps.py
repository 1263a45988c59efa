"""The reviews' and keywords' sections of the sitemap, and the reviews' share of the catalogue
sections' ``lastmod`` (registered in ``ReviewsConfig.ready``)."""

from django.db.models import F, Max, OuterRef, Subquery
from django.db.models.functions import Greatest
from taggit.models import Tag

from films.models import Film
from films.sitemaps import CountedSitemap, latest, latest_change_of
from reviews.models import Review
from reviews.views import public_use


def changed_at():
    """When a published review's page last changed: its last edit, or its publication if that
    came later (a review scheduled in advance goes live after its last edit; ``modified_at``
    in SQL)."""
    return Greatest(F("updated_at"), F("published_at"))


def latest_review_change(**film_lookups) -> Subquery:
    """The latest change of a published review of the films matching ``film_lookups``."""
    lookups = {
        f"film__{key}" if key != "film" else key: value for key, value in film_lookups.items()
    }
    reviews = (
        Review.objects.published()
        .filter(**lookups)
        .annotate(changed_at=changed_at())
        .order_by("-changed_at")
    )
    return Subquery(reviews.values("changed_at")[:1])


class ReviewSitemap(CountedSitemap):
    """Published reviews, as ``published()`` says at the time of the request: a scheduled
    review appears at its publication time, dated from it."""

    url_name = "reviews:review_detail"
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Review.objects.published().order_by("-published_at", "pk")

    def lastmods(self, items):
        # The page shows the film's facts too.
        return items.annotate(lastmod_at=latest(changed_at(), "film__updated_at"))

    def changes(self):
        return [latest_review_change(), latest_change_of(Film)]


class TagSitemap(CountedSitemap):
    """Keywords with a page: those a published review or a film carries."""

    url_name = "reviews:tag_detail"
    changefreq = "weekly"
    priority = 0.3

    def items(self):
        return Tag.objects.filter(public_use()).order_by("pk")

    def lastmods(self, items):
        # The latest of each keyword's reviews and films by aggregate: most keywords are on a
        # few of them, so walking every review or film newest first to find one took 300 ms.
        reviews = (
            Review.objects.published()
            .filter(keywords=OuterRef("pk"))
            .values("keywords")
            .annotate(changed_at=Max(changed_at()))
            .values("changed_at")
        )
        films = (
            Film.objects.filter(tags=OuterRef("pk"))
            .values("tags")
            .annotate(changed_at=Max("updated_at"))
            .values("changed_at")
        )
        return items.annotate(lastmod_at=latest(Subquery(reviews), Subquery(films)))

    def changes(self):
        return [latest_review_change(), latest_change_of(Film)]
