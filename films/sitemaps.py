"""The catalogue's sections of the sitemap (``/sitemap.xml`` is an index of sections;
``filmmag/urls.py`` lists them).

Each item's ``lastmod`` is when its page last changed, computed in the items' query from
``updated_at`` columns and, through ``register_activity``, from what other apps show on the
page (reviews: the catalogue cannot import them). The index needs each section's size and
latest change: one aggregate query per section, however many items.
"""

from collections.abc import Callable
from urllib.parse import quote

from django.contrib.sitemaps import Sitemap
from django.db.models import Count, Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.urls.resolvers import RFC3986_SUBDELIMS

from films.models import Availability, Film, Genre, Person, StreamingService

# activity(**film_lookups) -> a Subquery for the latest time something about the films matching
# the lookups (relative to an OuterRef) changed on their pages, or NULL.
type Activity = Callable[..., Subquery]

_activities: list[Activity] = []


def register_activity(activity: Activity) -> None:
    """Let an app add its own changes to the catalogue pages' ``lastmod`` (reviews register the
    publication and edits of published reviews)."""
    if activity not in _activities:
        _activities.append(activity)


def activity(**film_lookups) -> list[Subquery]:
    return [provider(**film_lookups) for provider in _activities]


def latest(*times):
    """The latest of several times, any of which may be NULL (but not all): PostgreSQL's
    GREATEST skips NULLs, SQLite's MAX() returns NULL, so each NULL is first replaced by the
    others."""
    if len(times) == 1:
        return times[0]
    return Greatest(*(Coalesce(t, *(o for o in times if o is not t)) for t in times))


def latest_film_change(**film_lookups) -> Subquery:
    films = Film.objects.filter(**film_lookups).order_by("-updated_at")
    return Subquery(films.values("updated_at")[:1])


SLUG_MARK = "sitemap-slug-mark"


class CountedSitemap(Sitemap):
    """A section whose ``items()`` annotate ``lastmod_at``: ``lastmod`` and the index's figures
    come from the database, in one query for the index and two (count, page) per section
    page, whatever the number of items."""

    # The items' page (its URL takes the slug): their addresses are then made from one
    # reverse() per section page, not one per item (50,000 reverses took seconds).
    url_name = ""

    def items(self):
        raise NotImplementedError

    def lastmod(self, item):
        return item.lastmod_at

    def location(self, item):
        if not self.url_name:
            return super().location(item)
        if not hasattr(self, "_around_slug"):
            self._around_slug = reverse(self.url_name, kwargs={"slug": SLUG_MARK}).split(SLUG_MARK)
        before, after = self._around_slug
        # Quoted as reverse() quotes a path.
        return before + quote(item.slug, safe=RFC3986_SUBDELIMS + "/~:@") + after

    def figures(self) -> dict:
        if not hasattr(self, "_figures"):
            self._figures = (
                self.items().order_by().aggregate(count=Count("pk"), latest=Max("lastmod_at"))
            )
        return self._figures

    def get_latest_lastmod(self):
        return self.figures()["latest"]

    @property
    def paginator(self):
        paginator = super().paginator
        if hasattr(self, "_figures"):  # the index asked already: no second COUNT
            paginator.count = self._figures["count"]
        return paginator


class FilmSitemap(CountedSitemap):
    url_name = "films:film_detail"
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return (
            Film.objects.only("slug")  # a page of 50,000 rows: not their search vectors
            .annotate(lastmod_at=latest("updated_at", *activity(film=OuterRef("pk"))))
            .order_by("pk")
        )


class PersonSitemap(CountedSitemap):
    """People with a credit: their page lists their films."""

    url_name = "films:person_detail"
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return (
            # Grouped once over the credits, not a subquery per person (6 s for 50,000).
            Person.objects.only("slug")
            .annotate(films_changed_at=Max("credits__film__updated_at"))
            .filter(films_changed_at__isnull=False)
            .annotate(lastmod_at=latest("updated_at", "films_changed_at"))
            .order_by("pk")
        )


class GenreSitemap(CountedSitemap):
    url_name = "films:genre_detail"
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        films = {"genres": OuterRef("pk")}
        return Genre.objects.annotate(
            lastmod_at=latest("updated_at", latest_film_change(**films), *activity(**films))
        ).order_by("pk")


class ServiceSitemap(CountedSitemap):
    """Services with an offer: the others' pages list no film."""

    url_name = "films:service_detail"
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        films = {"availabilities__service": OuterRef("pk")}
        return (
            StreamingService.objects.filter(
                Exists(Availability.objects.current().filter(service=OuterRef("pk")))
            )
            .annotate(
                lastmod_at=latest("updated_at", latest_film_change(**films), *activity(**films))
            )
            .order_by("pk")
        )
