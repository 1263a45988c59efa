from itertools import groupby

from django.conf import settings
from django.http import Http404
from django.views.generic import DetailView
from django_filters.views import FilterView

from films.filters import FilmFilter, Sort
from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from films.pagination import LenientPaginationMixin
from films.slugs import SlugRedirectMixin


def filter_query(query, *, drop=()):
    """``?…`` of the filters in ``query`` that a feed of the list keeps: not the page, the sort
    order, nor those in ``drop`` (fixed by the page's address); empty when none is left."""
    query = query.copy()
    for name in ("page", "sort", *drop):
        query.pop(name, None)
    return f"?{query.urlencode()}" if query else ""


class FilmListView(LenientPaginationMixin, FilterView):
    filterset_class = FilmFilter
    template_name = "films/film_list.html"
    context_object_name = "films"
    paginate_by = 24
    strict = False  # an invalid value is reported and ignored, the rest still filters
    heading = "Films"

    def get_queryset(self):
        return Film.objects.for_listing()

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
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
        if self.facets["fresh"]:  # exact for this request: spares the paginator its COUNT
            self.known_count = self.facets["total"]
        context = super().get_context_data(**kwargs)
        context.update(
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
            feed_query=filter_query(self.request.GET, drop=self.get_preset()),
        )
        return context

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


class GenreDetailView(FilmsOfView):
    template_name = "films/genre_detail.html"
    model = slug_model = Genre
    filter_name = "genre"
    heading_format = "{} films"


class ServiceDetailView(FilmsOfView):
    template_name = "films/service_detail.html"
    model = slug_model = StreamingService
    filter_name = "service"
    heading_format = "Films on {}"


class FilmDetailView(SlugRedirectMixin, DetailView):
    context_object_name = "film"
    slug_model = Film

    def get_queryset(self):
        return Film.objects.for_detail()

    def get_context_data(self, **kwargs):
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
        return super().get_context_data(
            directors=[c.person for c in credits if c.role == Credit.Role.DIRECTOR],
            cast=sorted(
                (c for c in credits if c.role == Credit.Role.ACTOR), key=lambda c: (c.order, c.pk)
            ),
            crew=crew,
            where_to_watch=_group_availability(film.availabilities.all()),
            stills=[(still, still.picture) for still in film.stills.all() if still.picture],
            reviews=film.published_reviews,
            # The magazine's verdict: its latest published review that gives a rating.
            rated=next((r for r in film.published_reviews if r.rating is not None), None),
            **kwargs,
        )


def _group_availability(rows):
    """[(offer label, [(region, [availability, ...]), ...]), ...] in the offer types' order."""
    labels = dict(Availability.OfferType.choices)
    order = list(labels)
    home = settings.FILMMAG_DEFAULT_REGION  # readers' own region first
    rows = sorted(
        rows,
        key=lambda a: (order.index(a.offer_type), a.region != home, a.region.name, a.service.name),
    )
    return [
        (
            labels[offer],
            [(region, list(items)) for region, items in groupby(group, lambda a: a.region)],
        )
        for offer, group in groupby(rows, key=lambda a: a.offer_type)
    ]


class PersonDetailView(SlugRedirectMixin, DetailView):
    context_object_name = "person"
    slug_model = Person

    def get_queryset(self):
        return Person.objects.for_detail()

    def get_context_data(self, **kwargs):
        roles = dict(Credit.Role.choices)
        by_role = {}
        for credit in self.object.credits.all():
            by_role.setdefault(credit.role, []).append(credit)
        filmography = [(roles[role], by_role[role]) for role in roles if role in by_role]
        return super().get_context_data(filmography=filmography, **kwargs)
