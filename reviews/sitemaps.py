"""The reviews' and keywords' sections of the sitemap, and the reviews' share of the catalogue
sections' ``lastmod`` (registered in ``ReviewsConfig.ready``)."""

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Greatest
from django.urls import reverse
from taggit.models import Tag

from films.sitemaps import CountedSitemap, latest, latest_film_change
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
        # The page shows the film's facts too.
        return (
            Review.objects.published()
            .only("slug")  # not the four sections of 20,000 reviews
            .annotate(lastmod_at=latest(changed_at(), "film__updated_at"))
            .order_by("-published_at", "pk")
        )


class TagSitemap(CountedSitemap):
    """Keywords with a page: those a published review or a film carries."""

    changefreq = "weekly"
    priority = 0.3

    def items(self):
        reviews = (
            Review.objects.published()
            .filter(keywords=OuterRef("pk"))
            .annotate(changed_at=changed_at())
            .order_by("-changed_at")
            .values("changed_at")[:1]
        )
        return (
            Tag.objects.filter(public_use())
            .annotate(lastmod_at=latest(Subquery(reviews), latest_film_change(tags=OuterRef("pk"))))
            .order_by("pk")
        )

    def location(self, tag):
        return reverse("reviews:tag_detail", kwargs={"slug": tag.slug})
