from itertools import groupby
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.views.generic import DetailView
from django_filters.views import FilterView

from films import seo
from films.filters import FilmFilter, Sort
from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from films.pagination import LenientPaginationMixin
from films.slugs import SlugRedirectMixin

# Film lists a search engine may index: the whole list, and one genre, service or decade
# (genre and service have their own pages, which are the canonical ones).
INDEXABLE_FILTERS = {"genre", "service", "decade"}


class FilmListView(seo.PageMetaMixin, LenientPaginationMixin, FilterView):
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

    def canonical_query(self):
        """{filter: [values]} of the valid filters the reader gave, in the filters' order; the
        sort is left out (the same films in another order) and stray parameters with it."""
        values, preset = self.filterset.active_values(skip=("sort",)), self.get_preset()
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
        films = self.context["films"]
        titles = seo.sentence_list([film.title for film in films])
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
    template_name = "films/genre_detail.html"
    model = slug_model = Genre
    filter_name = "genre"
    heading_format = "{} films"
    description_format = "{name}: {films} in filmmag's catalogue, with where to watch each{titles}"


class ServiceDetailView(FilmsOfView):
    template_name = "films/service_detail.html"
    model = slug_model = StreamingService
    filter_name = "service"
    heading_format = "Films on {}"
    description_format = "{films} to watch on {name}, with filmmag's reviews{titles}"


class FilmDetailView(seo.PageMetaMixin, SlugRedirectMixin, DetailView):
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


class PersonDetailView(seo.PageMetaMixin, SlugRedirectMixin, DetailView):
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

    def get_meta(self):
        person = self.object
        born, died = person.birth_year, person.death_year
        years = f" ({born}–{died})" if born and died else ""
        years = years or (f" (born {born})" if born else f" (died {died})" if died else "")
        work = "; ".join(
            f"{role.lower()}: {seo.sentence_list([c.film.title for c in credits])}"
            for role, credits in self.context["filmography"]
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
