from dataclasses import dataclass
from functools import cached_property
from itertools import groupby
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import DetailView, TemplateView
from django_countries.fields import Country
from django_filters.views import FilterView

from films import seo
from films.cache import cached_fragment
from films.filters import FilmFilter, Sort
from films.fragments import CachedPageMixin, SharedPageMixin
from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from films.pagination import LenientPaginationMixin
from films.regions import (
    REGION_COOKIE,
    REGION_COOKIE_AGE,
    REGION_PARAM,
    cookie_region,
    default_region,
    offer_regions,
    reader_region,
    region_clean,
    regions_with,
    vary_on_region,
)
from films.slugs import SlugRedirectMixin

# Film lists a search engine may index: the whole list, and one genre, service or decade
# (genre and service have their own pages, which are the canonical ones).
INDEXABLE_FILTERS = {"genre", "service", "decade"}


def filter_query(query, *, drop=(), region=None):
    """``?…`` of the filters in ``query`` that a feed of the list keeps: not the page, the sort
    order, nor those in ``drop`` (fixed by the page's address); empty when none is left.
    ``region``: the region the page's offers are in. Feed readers send no cookie, so when the
    filters depend on the region and it is not the site's default, the feed's address names it;
    an address's invalid region is left out."""
    query = query.copy()
    for name in ("page", "sort", "director_q", *drop):
        query.pop(name, None)
    if region_clean(query.get(REGION_PARAM)) is None:
        query.pop(REGION_PARAM, None)
    if region and region != default_region() and ({"service", "offer"} & {*query, *drop}):
        query[REGION_PARAM] = region
    return f"?{query.urlencode()}" if query else ""


def feed(title, name, args=(), query="", atom="_atom_feed"):
    """A feed's autodiscovery links (includes/feed_links.html): its RSS address is the URL
    ``<name>_feed``, its Atom one ``<name><atom>``."""
    return {
        "title": title,
        "rss": reverse(f"{name}_feed", args=args),
        "atom": reverse(f"{name}{atom}", args=args),
        "query": query,
    }


class RegionMixin:
    """A page whose offers depend on the reader's region (films/regions.py)."""

    def dispatch(self, request, *args, **kwargs):
        return vary_on_region(super().dispatch(request, *args, **kwargs))

    def region_context(self, code, choices):
        """The chooser's context: the region shown, the regions to choose from, and the page to
        come back to (without the address's region, so that the new choice shows)."""
        return {
            "region": Country(code),
            "region_choices": regions_with(choices, code),
            "region_next": path_without_region(self.request.get_full_path()),
        }


def path_without_region(path):
    parts = urlsplit(path)
    query = QueryDict(parts.query, mutable=True)
    query.pop(REGION_PARAM, None)
    return f"{parts.path}?{query.urlencode()}" if query else parts.path


class FilmListView(
    SharedPageMixin, seo.PageMetaMixin, RegionMixin, LenientPaginationMixin, FilterView
):
    filterset_class = FilmFilter
    template_name = shared_template = "films/film_list.html"
    fragment_name = "film-list-page"
    context_object_name = "films"
    paginate_by = 24
    strict = False  # an invalid value is reported and ignored, the rest still filters
    heading = "Films"

    def get_queryset(self):
        return Film.objects.for_listing()

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["own_region"] = cookie_region(self.request)
        preset = self.get_preset()
        if preset:
            data = kwargs["data"].copy() if kwargs["data"] is not None else self.request.GET.copy()
            for key, value in preset.items():
                data.setlist(key, [value])  # the page's own genre or service, whatever the query
            kwargs["data"] = data
        return kwargs

    def get_preset(self):
        """Filter values fixed by the URL (a genre's or a service's own page)."""
        return {}

    def get_context_data(self, **kwargs):
        self.facets = self.filterset.facets()
        # Counts of the catalogue as it is (cached ones are of the current version, which every
        # change and every scheduled publication replaces): this spares the paginator its COUNT.
        self.known_count = self.facets["total"]
        # A valid region in the address stays in the links this page emits (form, film cards).
        url_region = self.filterset.active_values().get("region")
        self.region_query = f"?{urlencode({REGION_PARAM: url_region})}" if url_region else ""
        self.clear_url = self.request.path + self.region_query
        context = super().get_context_data(**kwargs)
        region = self.filterset.offer_region
        context.update(
            self.region_context(region, self.facets["regions"]),
            url_region=url_region,
            director_q=self.filterset.active_values().get("director_q", ""),
            region_query=self.region_query,
            clear_url=self.clear_url,
            results=self.results,
            facets=self.facets,
            heading=self.heading,
            sort_choices=Sort.choices,
            current_sort=self.filterset.active_values().get("sort") or Sort.TITLE,
            filter_errors=[
                (self.filterset.form.fields[name].label, error)
                for name, errors in self.filterset.form.errors.items()
                for error in errors
            ]
            if self.filterset.is_bound
            else [],
            active_filters=self.active_filters(),
            feeds=self.page_feeds(),
        )
        return context

    def page_feeds(self) -> list[dict]:
        """The feeds the head announces, the page's own first (its "Follow" link)."""
        query = filter_query(
            self.request.GET, drop=self.get_preset(), region=self.filterset.offer_region
        )
        return [
            feed("filmmag reviews: films matching these filters", "reviews:film_list", query=query),
            feed("filmmag: latest reviews", "reviews:review"),
        ]

    @cached_property
    def results(self) -> dict:
        """{"html": the page's film cards, "titles": theirs}, for the catalogue version in force
        and shared by every request for the same films, whatever else its address or cookies
        hold (films.cache.cached_fragment): a repeat costs neither the films' queries nor
        their rendering. Computed once the paginator has its page (get_meta() needs it)."""
        page = self.context["page_obj"]

        def render():
            films = list(page.object_list)
            html = render_to_string(
                "includes/film_grid.html",
                {"films": films, "region_query": self.region_query, "clear_url": self.clear_url},
            )
            return {"html": html, "titles": [film.title for film in films]}

        parts = {
            "filters": self.filterset.state(skip=("region", "director_q")),
            "page": page.number,
            "path": self.request.path,
            "region_query": self.region_query,
        }
        return cached_fragment(
            "film-list", parts, render, request=self.request, version=self.filterset.version
        )

    def active_filters(self):
        """[(label, URL without it)] for each filter value in the address, to undo one at a time."""
        query, fields = self.request.GET, self.filterset.form.fields
        chips = [
            (f"{fields[name].label}: {option.label}", self.url_without(name, option.value))
            for name in ("genre", "director", "service", "offer", "decade", "reviewed")
            for option in self.facets[name]
            if option.selected and option.value in query.getlist(name)
        ]
        valid = self.filterset.active_values()
        chips += [
            (f"{fields[name].label}: {query[name]}", self.url_without(name, query[name]))
            for name in ("q", "year_min", "year_max")
            if name in valid and name in query
        ]
        return chips

    def canonical_query(self):
        """{filter: [values]} of the valid filters the reader gave, in the filters' order; the
        sort is left out (the same films in another order), the region too (the same films, with
        another country's offers: the default region's page stands for them), and stray
        parameters with them."""
        values = self.filterset.active_values(skip=("sort", "region", "director_q"))
        preset = self.get_preset()
        query = {}
        for name in self.filterset.filters:
            if name in values and name not in preset:
                value = values[name]
                items = (
                    value if isinstance(value, list | tuple) or hasattr(value, "model") else [value]
                )
                query[name] = sorted(str(getattr(item, "slug", item)) for item in items)
        return query

    def get_meta(self):
        """Indexed: the whole list, or one genre, service or decade, unsorted, first page (see
        INDEXABLE_FILTERS). Everything else is followed but not indexed. The canonical address
        keeps the valid filters and the page number, in a fixed order, and nothing else."""
        number = seo.page_number(self.context)
        chosen = [
            (name, value) for name, values in self.canonical_query().items() for value in values
        ]
        sort = self.filterset.active_values().get("sort")
        one = chosen[0][0] if len(chosen) == 1 and not self.get_preset() else None
        indexable = (
            number == 1 and sort in (None, Sort.TITLE) and (not chosen or one in INDEXABLE_FILTERS)
        )
        if one in ("genre", "service") and number == 1:
            [owner] = self.filterset.active_values()[one]
            canonical = owner.get_absolute_url()  # the same films, on a page of their own
        else:
            params = chosen + ([(self.page_kwarg, str(number))] if number > 1 else [])
            canonical = self.request.path + (f"?{urlencode(params)}" if params else "")
        return seo.PageMeta(
            title=self.heading if number == 1 else f"{self.heading}, page {number}",
            description=self.describe_list(),
            canonical=canonical,
            robots="" if indexable else "noindex, follow",
        )

    def describe_list(self):
        filters = "; ".join(label for label, _ in self.active_filters())
        return (
            f"{self.film_count()} in filmmag's catalogue{f' ({filters})' if filters else ''}, "
            f"with where to watch each and our reviews{self.some_titles()}"
        )

    def film_count(self):
        total = self.facets["total"]
        return "1 film" if total == 1 else f"{total:,} films"

    def some_titles(self):
        """ ": A, B and C." when those are all, ", among them A, B and C." when not."""
        titles = seo.sentence_list(self.results["titles"])
        if not titles:
            return "."
        return f": {titles}." if self.facets["total"] <= 3 else f", among them {titles}."

    def url_without(self, name, value):
        query = self.request.GET.copy()
        query.setlist(name, [v for v in query.getlist(name) if v != value])
        query.pop(self.page_kwarg, None)
        return f"?{query.urlencode()}" if query else self.request.path


class FilmsOfView(SlugRedirectMixin, FilmListView):
    """The film list fixed to one genre or service, with its own URL and heading."""

    model = None
    filter_name = None  # also the template's name for the genre or service
    heading_format = "{}"

    def get_preset(self):
        return {self.filter_name: self.kwargs["slug"]}

    def get_context_data(self, **kwargs):
        # The filter's own lookup fetched the genre or service: no query of its own.
        chosen = self.filterset.active_values().get(self.filter_name)
        if not chosen:
            raise Http404(f"No {self.model._meta.verbose_name} with this address.")
        self.owner = chosen[0]
        self.heading = self.heading_format.format(self.owner.name)
        return super().get_context_data(**{self.filter_name: self.owner}, **kwargs)

    def describe_list(self):
        return self.description_format.format(
            name=self.owner.name, films=self.film_count(), titles=self.some_titles()
        )


class GenreDetailView(FilmsOfView):
    model = slug_model = Genre
    filter_name = "genre"
    heading_format = "{} films"
    description_format = "{name}: {films} in filmmag's catalogue, with where to watch each{titles}"

    def page_feeds(self):
        films, site = super().page_feeds()
        slug, query = [self.owner.slug], films["query"]
        return [feed(f"filmmag reviews: {self.heading}", "reviews:genre", slug, query), site]


class ServiceDetailView(FilmsOfView):
    model = slug_model = StreamingService
    filter_name = "service"
    heading_format = "Films on {}"
    description_format = "{films} to watch on {name}, with filmmag's reviews{titles}"

    def page_feeds(self):
        films, site = super().page_feeds()
        name, slug = self.owner.name, [self.owner.slug]
        return [
            feed(f"filmmag reviews: {self.heading}", "reviews:service", slug, films["query"]),
            site,
            feed(f"filmmag: new on {name}", "films:service_new", slug, atom="_atom"),
            feed(f"filmmag: recently left {name}", "films:service_left", slug, atom="_atom"),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["intro_template"] = "films/service_detail.html#intro"
        arrived, left = [], []
        for offer in Availability.objects.for_service_page(self.owner):
            (left if offer.ended else arrived).append(offer)
        context.update(
            new_offers=_by_film(arrived, "first_seen"),
            gone_offers=_by_film(left, "ended"),
            recent_days=settings.FILMMAG_OFFER_RECENT_DAYS,
        )
        return context


def _by_film(offers, date_field):
    """[(film, day, [offer, ...]), ...]: a film's offers of the same day together, in order."""
    return [
        (film, day, list(group))
        for (film, day), group in groupby(offers, key=lambda o: (o.film, getattr(o, date_field)))
    ]


class FilmDetailView(
    CachedPageMixin, seo.PageMetaMixin, RegionMixin, SlugRedirectMixin, DetailView
):
    context_object_name = "film"
    slug_model = Film
    fragment_name = "film-page"

    def get_queryset(self):
        return Film.objects.all()

    def page_prefetches(self):
        return Film.objects.detail_prefetches()

    def page_context(self):
        film = self.object
        credits = list(film.credits.all())
        roles = dict(Credit.Role.choices)
        crew = [
            (roles[role], [c.person for c in group])
            for role, group in groupby(
                sorted(
                    (c for c in credits if c.role != Credit.Role.ACTOR),
                    key=lambda c: (list(roles).index(c.role), c.order, c.pk),
                ),
                key=lambda c: c.role,
            )
        ]
        region = reader_region(self.request)
        # The current offers, and those that left recently (Availability.objects.for_film_page).
        offers = [a for a in film.availabilities.all() if a.is_current]
        left = [a for a in film.availabilities.all() if not a.is_current]
        return dict(
            **self.region_context(region.code, offer_regions()),
            region_invalid=region.invalid,
            where_to_watch=_group_by_offer([a for a in offers if a.region == region.code]),
            elsewhere=[
                (country, _group_by_offer(rows))
                for country, rows in groupby(
                    sorted(
                        (a for a in offers if a.region != region.code),
                        key=lambda a: (a.region.name, a.region.code),
                    ),
                    key=lambda a: a.region,
                )
            ],
            directors=[c.person for c in credits if c.role == Credit.Role.DIRECTOR],
            cast=sorted(
                (c for c in credits if c.role == Credit.Role.ACTOR), key=lambda c: (c.order, c.pk)
            ),
            crew=crew,
            left_offers=sorted(
                left, key=lambda offer: (-offer.ended.toordinal(), offer.service.name.lower())
            ),
            stills=[(still, still.picture) for still in film.stills.all() if still.picture],
            reviews=film.published_reviews,
            # The magazine's verdict: its latest published review that gives a rating.
            rated=next((r for r in film.published_reviews if r.rating is not None), None),
        )

    def get_meta(self):
        film, context = self.object, self.context
        directors = [p.name for p in context["directors"]]
        cast = [c.person.name for c in context["cast"]]
        made = f"{film.title} ({film.year})"
        if directors:
            made += f", directed by {seo.sentence_list(directors)}"
        if cast:
            made += f", with {seo.sentence_list(cast)}"
        return seo.PageMeta(
            title=f"{film.title} ({film.year})",
            description=f"{film.logline} {made}."
            if film.logline.strip()
            else f"{made}: where to watch it, and filmmag's review.",
            type="video.movie",
            picture=film.share_picture,
            canonical=film.get_absolute_url(),
            structured_data=seo.movie(
                film,
                self.request,
                credits=list(film.credits.all()),
                reviews=film.published_reviews,
            ),
        )


def _group_by_offer(rows):
    """[(offer label, [availability, ...]), ...] in the offer types' order, services by name."""
    labels = dict(Availability.OfferType.choices)
    order = list(labels)
    rows = sorted(rows, key=lambda a: (order.index(a.offer_type), a.service.name.lower()))
    return [
        (labels[offer], list(group)) for offer, group in groupby(rows, key=lambda a: a.offer_type)
    ]


class RegionChooseView(TemplateView):
    """The region chooser: ``?region=GB&next=/films/`` keeps GB in the reader's cookie and goes
    back to ``next`` (a path on this site, or the film list). Without a valid region it shows
    the chooser on its own page.

    A GET, like the filter forms: it works without JavaScript and the pages that offer it need
    no CSRF token, so they stay cacheable for anonymous readers. The worst a cross-site link can
    do is change which country's offers a reader sees first, which the page says."""

    template_name = "films/region_choose.html"

    def get(self, request, *args, **kwargs):
        given = request.GET.get(REGION_PARAM)
        code = region_clean(given)
        if code is None:
            response = super().get(request, *args, invalid=given, **kwargs)
        else:
            response = HttpResponseRedirect(self.next_url())
            response.set_cookie(
                REGION_COOKIE,
                code,
                max_age=REGION_COOKIE_AGE,
                samesite="Lax",
                httponly=True,
                secure=request.is_secure(),
            )
        add_never_cache_headers(response)
        return response

    def next_url(self):
        """``next`` if it is a path on this site (never another host: no open redirect)."""
        target = self.request.GET.get("next", "")
        if (
            target.startswith("/")
            and "\\" not in target
            and "\x00" not in target
            and url_has_allowed_host_and_scheme(
                target, allowed_hosts={self.request.get_host()}, require_https=False
            )
        ):
            return path_without_region(target)
        return reverse("films:film_list")

    def get_context_data(self, **kwargs):
        code = cookie_region(self.request)
        return super().get_context_data(
            region=Country(code),
            region_choices=regions_with(offer_regions(), code),
            region_next=self.next_url(),
            **kwargs,
        )


# A long career (an actor with 300 films) shows its latest films per role, and each role's
# whole list a page at a time (?role=actor): the page stays small whatever the career.
FILMOGRAPHY_PER_ROLE = 24
FILMOGRAPHY_PAGE_SIZE = 96


@dataclass
class Filmography:
    role: str
    label: str
    credits: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.credits)


class PersonDetailView(CachedPageMixin, seo.PageMetaMixin, SlugRedirectMixin, DetailView):
    context_object_name = "person"
    slug_model = Person
    fragment_name = "person-page"

    def get_queryset(self):
        return Person.objects.for_detail()

    def page_context(self):
        person = self.object
        totals = Credit.objects.role_counts(person)
        chosen = self.request.GET.get("role")
        page_obj = None
        if chosen in totals:  # one role's whole list, a page at a time
            paginator = Paginator(Credit.objects.of_role(person, chosen), FILMOGRAPHY_PAGE_SIZE)
            paginator.count = totals[chosen]  # known: spares the COUNT query
            page_obj = paginator.get_page(self.request.GET.get("page"))
            by_role = {chosen: list(page_obj.object_list)}
        else:
            chosen = None
            by_role = {}
            for credit in Credit.objects.filmography(person, first=FILMOGRAPHY_PER_ROLE):
                by_role.setdefault(credit.role, []).append(credit)
        filmography = [
            Filmography(role, label, by_role[role], totals[role])
            for role, label in Credit.Role.choices
            if role in by_role
        ]
        return {
            "filmography": filmography,
            "roles": [
                (role, label, totals[role]) for role, label in Credit.Role.choices if role in totals
            ],
            "chosen_role": chosen,
            "page_obj": page_obj,
            "is_paginated": bool(page_obj and page_obj.has_other_pages()),
        }

    def get_meta(self):
        person = self.object
        born, died = person.birth_year, person.death_year
        years = f" ({born}–{died})" if born and died else ""
        years = years or (f" (born {born})" if born else f" (died {died})" if died else "")
        work = "; ".join(
            f"{part.label.lower()}: {seo.sentence_list([c.film.title for c in part.credits])}"
            for part in self.context["filmography"]
        )
        return seo.PageMeta(
            title=person.name,
            description=seo.describe(
                person.bio,
                f"{person.name}{years}{f', {work}' if work else ''}. Films, reviews and where to "
                "watch them, on filmmag.",
            ),
            type="profile",
            picture=person.portrait_picture,
            canonical=person.get_absolute_url(),
            structured_data=seo.person(person, self.request),
        )
