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

from films.models import Availability, Credit, Film, Genre, Person, StreamingService

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


def latest_change_of(model, **lookups) -> Subquery:
    """When a row of ``model`` (matching ``lookups``) last changed: its ``updated_at``, newest
    first by its index."""
    rows = model.objects.filter(**lookups).order_by("-updated_at")
    return Subquery(rows.values("updated_at")[:1])


SLUG_MARK = "sitemap-slug-mark"


class CountedSitemap(Sitemap):
    """A section of the sitemap in a fixed number of queries, whatever the number of items: the
    index one per section, a section page two (count, page).

    ``items()`` are the section's items in order, cheap to count and to page through;
    ``lastmods()`` adds ``lastmod_at`` to the items of one page only (computed for the rows an
    OFFSET skips, it doubled the cost of page 2).

    The index's ``lastmod`` of a section is an upper bound rather than the latest of its items:
    the latest change of anything its pages show (``changes()``). The exact figure needed every
    item's ``lastmod``: 4.6 s for the index at 100,000 films. The bound also moves when an item
    leaves the section, which the exact figure missed."""

    # 10,000 addresses a page (sitemaps allow 50,000): 1.5 MB made in a fraction of a second,
    # rather than 7.5 MB holding a worker for 1.5 s.
    limit = 10_000
    # The items' page (its URL takes the slug): their addresses are then made from one
    # reverse() per section page, not one per item (50,000 reverses took seconds).
    url_name = ""

    def items(self):
        raise NotImplementedError

    def lastmods(self, items):
        """``items`` (a queryset of ``items()``) with ``lastmod_at``."""
        raise NotImplementedError

    def changes(self) -> list[Subquery]:
        """Subqueries, without reference to an item, for the latest changes of what the
        section's pages show: the index's ``lastmod`` is the latest of them."""
        raise NotImplementedError

    def _address(self, slug: str) -> str:
        if not hasattr(self, "_around_slug"):
            self._around_slug = reverse(self.url_name, kwargs={"slug": SLUG_MARK}).split(SLUG_MARK)
        before, after = self._around_slug
        # Quoted as reverse() quotes a path.
        return before + quote(slug, safe=RFC3986_SUBDELIMS + "/~:@") + after

    def figures(self) -> dict:
        if not hasattr(self, "_figures"):
            # The changes are subqueries of their own, evaluated once (an InitPlan), not per row.
            self._figures = (
                self.items()
                .order_by()
                .aggregate(count=Count("pk"), latest=Max(latest(*self.changes())))
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

    def _urls(self, page, protocol, domain):
        """Django's ``Sitemap._urls``, from rows of (slug, lastmod) of one query rather than
        model instances (building 50,000 of those took most of a second)."""
        on_page = self.paginator.page(page).object_list.values("pk")
        rows = self.lastmods(self.items().filter(pk__in=on_page)).values_list("slug", "lastmod_at")
        changefreq, priority = self.changefreq, "" if self.priority is None else str(self.priority)
        urls = [
            {
                "location": f"{protocol}://{domain}{self._address(slug)}",
                "lastmod": lastmod,
                "changefreq": changefreq,
                "priority": priority,
            }
            for slug, lastmod in rows
        ]
        if urls and all(url["lastmod"] for url in urls):
            self.latest_lastmod = max(url["lastmod"] for url in urls)
        return urls


class FilmSitemap(CountedSitemap):
    url_name = "films:film_detail"
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return Film.objects.order_by("pk")

    def lastmods(self, items):
        return items.annotate(lastmod_at=latest("updated_at", *activity(film=OuterRef("pk"))))

    def changes(self):
        return [latest_change_of(Film), *activity()]


class PersonSitemap(CountedSitemap):
    """People with a credit: their page lists their films."""

    url_name = "films:person_detail"
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return Person.objects.filter(Exists(Credit.objects.filter(person=OuterRef("pk")))).order_by(
            "pk"
        )

    def lastmods(self, items):
        # Grouped over the page's credits, not a subquery per person (6 s for 50,000).
        return items.annotate(lastmod_at=latest("updated_at", Max("credits__film__updated_at")))

    def changes(self):
        return [latest_change_of(Person), latest_change_of(Film)]


class GenreSitemap(CountedSitemap):
    url_name = "films:genre_detail"
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return Genre.objects.order_by("pk")

    def lastmods(self, items):
        films = {"genres": OuterRef("pk")}
        return items.annotate(
            lastmod_at=latest("updated_at", latest_change_of(Film, **films), *activity(**films))
        )

    def changes(self):
        return [latest_change_of(Genre), latest_change_of(Film), *activity()]


class ServiceSitemap(CountedSitemap):
    """Services with an offer: the others' pages list no film."""

    url_name = "films:service_detail"
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return StreamingService.objects.filter(
            Exists(Availability.objects.current().filter(service=OuterRef("pk")))
        ).order_by("pk")

    def lastmods(self, items):
        films = {"availabilities__service": OuterRef("pk")}
        return items.annotate(
            lastmod_at=latest("updated_at", latest_change_of(Film, **films), *activity(**films))
        )

    def changes(self):
        return [latest_change_of(StreamingService), latest_change_of(Film), *activity()]
