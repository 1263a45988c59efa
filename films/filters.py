"""The film list's filters and their facet counts.

Options within one filter widen the result (any of the ticked genres), different filters
narrow it (genre AND director AND where to watch). Service and offer type describe the same
availability row: "Criterion Channel" + "Rent" means renting on Criterion, not either.
A facet count is the number of films the option would give with every *other* filter applied.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django_countries import countries
from django_filters.fields import ChoiceField, ModelChoiceField, ModelMultipleChoiceField

from films.cache import current_version, reads_primary
from films.models import (
    FIRST_FILM_YEAR,
    LAST_PLAUSIBLE_YEAR,
    Availability,
    Credit,
    FacetCount,
    Film,
    Genre,
    Person,
    StreamingService,
)
from films.regions import default_region, region_clean
from films.search import clean_query
from films.sql import EqualsAny, uses_postgres

# Seconds at most; less when a scheduled change comes sooner (films/cache.py). A safety net for
# writes that send no signal: every known change replaces the version at once.
FACETS_TIMEOUT = 300

# The director facet offers the directors with the most films in the current list; any other is
# found by name (``director_q``). Never all of them: there are tens of thousands.
TOP_DIRECTORS = 30
FILM_GENRES = Film.genres.through
SEARCH_LIMIT = 10**9  # more films than any catalogue: a limit that limits nothing (base())
# The filters on a film's own row; the others are on its genres, credits and offers.
FILM_ROW_FILTERS = {"q", "decade", "year_min", "year_max", "reviewed"}
LINKED = {"genre", "director", "service", "offer"}  # filters counted from their link tables
# Counting, the films a title search finds are fetched once when they are at most this many, and
# their ids given to every count: the planner then looks each one up in the link tables' indexes
# rather than search again and read every link row. Past a few thousand, looking every film up
# costs more than repeating the search of a short word in each count (at 100,000 films: "red",
# 1,400 films, 25 ms less a list; "ray", 4,100 films, 40 ms more); longer words gain to 5,000.
TITLE_IDS_LIMIT = 3000

DECADES = [(str(d), f"{d}s") for d in range(FIRST_FILM_YEAR // 10 * 10, LAST_PLAUSIBLE_YEAR, 10)]


class Sort(models.TextChoices):
    TITLE = "title", "Title"
    NEWEST = "-year", "Newest first"
    OLDEST = "year", "Oldest first"
    RECENTLY_REVIEWED = "reviewed", "Recently reviewed"
    RATING = "rating", "Highest rated"


ORDERINGS = {
    Sort.TITLE: ["title", "year", "pk"],
    Sort.NEWEST: ["-year", "title", "pk"],
    Sort.OLDEST: ["year", "title", "pk"],
    Sort.RECENTLY_REVIEWED: [F("last_reviewed_at").desc(nulls_last=True), "title", "pk"],
    Sort.RATING: [F("latest_rating").desc(nulls_last=True), "title", "pk"],
}


class Reviewed(models.TextChoices):
    YES = "yes", "Reviewed"
    NO = "no", "Not yet reviewed"


# A film has a published review when its latest one has a time (films.models.REVIEW_KEY_FIELDS).
HAS_REVIEW = Q(last_reviewed_at__isnull=False)
HAS_REVIEW_FLAG = ExpressionWrapper(HAS_REVIEW, output_field=models.BooleanField())


MAX_SLUGS_PER_FILTER = 100  # a query string can repeat a key thousands of times
# Columns of a service that its lookup row carries (empty for genres and people), by alias.
SERVICE_EXTRA = {
    "x_website": "website",
    "x_logo": "logo",
    "x_logo_alt": "logo_alt",
    "x_renditions": "logo_renditions",
}


class LookupMixin:
    """A model choice field that, once given ``lookup`` ({slug: object}), validates against it
    instead of querying: FilmFilter fetches every genre, service and director the address
    names in one query (``referenced_objects``) rather than one per filter."""

    lookup: dict[str, models.Model] | None = None

    def from_lookup(self, value: str) -> models.Model:
        obj = self.lookup.get(value) if isinstance(value, str) else None
        if obj is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return obj


class SlugChoiceField(LookupMixin, ModelChoiceField):
    def to_python(self, value):
        if self.lookup is None or value in self.empty_values:
            return super().to_python(value)
        return self.from_lookup(value)


class SlugMultipleChoiceField(LookupMixin, ModelMultipleChoiceField):
    def _check_values(self, value):
        if self.lookup is None:
            return super()._check_values(value)
        return list({obj.pk: obj for obj in map(self.from_lookup, value)}.values())


class SlugChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = SlugChoiceField


class SlugMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = SlugMultipleChoiceField


class RegionField(ChoiceField):
    """A country code, in either case (``?region=gb`` from a hand-typed link works)."""

    default_error_messages = {  # without the value, which may be 5,000 characters of anything
        "invalid_choice": "Not a country code we know, such as GB or US; showing your own region."
    }

    def to_python(self, value):
        return region_clean(value) or super().to_python(value)


class RegionFilter(django_filters.ChoiceFilter):
    field_class = RegionField


class GroupingSets(Expression):
    """``GROUPING SETS ((a), (b))``, a query's GROUP BY (``query.group_by``): one pass over the
    rows, grouped by each column in turn, the others NULL in its groups (PostgreSQL)."""

    def __init__(self, *columns):
        super().__init__(output_field=models.TextField())
        self.columns = [F(column) for column in columns]

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, expressions):
        self.columns = expressions

    def as_sql(self, compiler, connection):
        sqls, params = [], []
        for column in self.columns:
            sql, column_params = compiler.compile(column)
            sqls.append(f"({sql})")
            params.extend(column_params)
        return f"GROUPING SETS ({', '.join(sqls)})", params


class Grouped(Func):
    """A selected column that the query's GROUPING SETS group by: nothing to add to GROUP BY."""

    template = "%(expressions)s"

    def get_group_by_cols(self):
        return []


def among(queryset, field: str, ids):
    """``queryset`` where ``field`` is one of ``ids``: a subquery, or a list (the title search's
    films), which on PostgreSQL goes as one array (``= ANY``): thousands of ``IN`` parameters
    cost Django and the driver more than the query itself."""
    if isinstance(ids, ArraySubquery):  # FilmFilter.base(): looked up by index
        return queryset.filter(EqualsAny(F(field), ids))
    if isinstance(ids, list) and uses_postgres(queryset):
        array = Value(ids, output_field=ArrayField(models.BigIntegerField()))
        return queryset.filter(EqualsAny(F(field), array))
    return queryset.filter(**{f"{field}__in": ids})


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


class FilmFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Title", method="filter_title", max_length=100)
    genre = SlugMultipleChoiceFilter(
        label="Genre", queryset=Genre.objects.all(), to_field_name="slug", method="filter_genre"
    )
    director = SlugChoiceFilter(
        label="Director",
        queryset=Person.objects.all(),
        to_field_name="slug",
        method="filter_director",
    )
    # Narrows the director facet's options to the names that contain it; filters no film.
    director_q = django_filters.CharFilter(
        label="Find a director", method="filter_nothing", max_length=100
    )
    # Service and offer type are applied together in filter_queryset().
    service = SlugMultipleChoiceFilter(
        label="Streaming service",
        queryset=StreamingService.objects.all(),
        to_field_name="slug",
        method="filter_nothing",
    )
    offer = django_filters.MultipleChoiceFilter(
        label="Offer type", choices=Availability.OfferType.choices, method="filter_nothing"
    )
    # The address's region, over the reader's own (``own_region``): see films/regions.py.
    region = RegionFilter(label="Region", choices=lambda: list(countries), method="filter_nothing")
    decade = django_filters.ChoiceFilter(label="Decade", choices=DECADES, method="filter_decade")
    year_min = django_filters.NumberFilter(
        label="From year", field_name="year", lookup_expr="gte", min_value=0, max_value=9999
    )
    year_max = django_filters.NumberFilter(
        label="To year", field_name="year", lookup_expr="lte", min_value=0, max_value=9999
    )
    reviewed = django_filters.ChoiceFilter(
        label="Reviews",
        choices=Reviewed.choices,
        method="filter_reviewed",
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by", choices=Sort.choices, method="filter_nothing", empty_label=None
    )

    class Meta:
        model = Film
        fields = []

    REFERENCED = {"genre": Genre, "service": StreamingService, "director": Person}

    def __init__(self, data=None, *args, own_region=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.own_region = own_region or default_region()
        for name in ("year_min", "year_max"):
            self.form.fields[name].widget = forms.NumberInput(attrs={"inputmode": "numeric"})
            self.form.fields[name].error_messages["invalid"] = "Enter a year, such as 1957."
        if self.is_bound:
            for name, lookup in self.referenced_objects().items():
                self.form.fields[name].lookup = lookup

    def referenced_objects(self):
        """{filter name: {slug: object}} for the genres, services and director in the address,
        in one query (a UNION), or none when the address names none."""
        parts = []
        for name, model in self.REFERENCED.items():
            distinct = dict.fromkeys(self.data.getlist(name))
            slugs = [v for v in distinct if v and "\x00" not in v][:MAX_SLUGS_PER_FILTER]
            if slugs:
                # A service's page shows its website and logo: their columns come along.
                extra = {
                    column: F(field) if model is StreamingService else Value("")
                    for column, field in SERVICE_EXTRA.items()
                }
                if model is StreamingService:
                    extra["x_renditions"] = Cast("logo_renditions", models.TextField())
                parts.append(
                    model.objects.filter(slug__in=slugs)
                    .annotate(kind=Value(name), **extra)
                    .values_list("kind", "pk", "name", "slug", *SERVICE_EXTRA)
                    .order_by()
                )
        lookups = {name: {} for name in self.REFERENCED}
        if parts:
            for kind, pk, name, slug, *extra in parts[0].union(*parts[1:], all=True):
                model = self.REFERENCED[kind]
                fields, values = ["id", "name", "slug"], [pk, name, slug]
                if model is StreamingService:
                    website, logo, logo_alt, renditions = extra
                    fields += ["website", "logo", "logo_alt", "logo_renditions"]
                    values += [website, logo, logo_alt, json.loads(renditions or "{}")]
                lookups[kind][slug] = model.from_db(self.queryset.db, fields, values)
        return lookups

    # --- filtering -----------------------------------------------------------------------

    def filter_nothing(self, queryset, name, value):
        return queryset

    def filter_title(self, queryset, name, value):
        """The site search's engine (films.search): title, original title, director, cast."""
        if self.title_ids is not None:
            return among(queryset, "pk", self.title_ids)
        return queryset.search(clean_query(value), ranked=False)

    title_ids: list[int] | None = None  # the title search's films, once fetched (facets())

    def fetch_title_ids(self):
        """The ids of the films the title search finds, in one query, if there are at most
        ``TITLE_IDS_LIMIT``; else None (and the counts repeat the search)."""
        query = self.active_values().get("q")
        if not query:
            return None
        films = Film.objects.search(clean_query(query), ranked=False).order_by()
        ids = list(films.values_list("pk", flat=True)[: TITLE_IDS_LIMIT + 1])
        return ids if len(ids) <= TITLE_IDS_LIMIT else None

    def filter_genre(self, queryset, name, genres):
        through = Film.genres.through.objects.filter(film=OuterRef("pk"), genre__in=genres)
        return queryset.filter(Exists(through))

    def filter_director(self, queryset, name, person):
        credits = Credit.objects.filter(
            film=OuterRef("pk"), person=person, role=Credit.Role.DIRECTOR
        )
        return queryset.filter(Exists(credits))

    def filter_decade(self, queryset, name, decade):
        start = int(decade)
        return queryset.filter(year__gte=start, year__lte=start + 9)

    def filter_reviewed(self, queryset, name, value):
        return queryset.filter(HAS_REVIEW if value == Reviewed.YES else ~HAS_REVIEW)

    # --- the reader's region: every offer the filters and counts look at is in it ------------

    @property
    def offer_region(self) -> str:
        """The region the offers are counted in: the address's if valid, else the reader's."""
        return self.active_values().get("region") or self.own_region

    @staticmethod
    def all_offers():
        """Every offer the filters and counts consider, in any region: the current ones."""
        return Availability.objects.current()

    def offers(self):
        """The offers the service and offer-type filters look at: the region's current ones."""
        return self.all_offers().in_region(self.offer_region)

    def availability_rows(self, services, offers):
        """The offers that filtering and counting by service and offer type look at."""
        rows = self.offers()
        if services:
            rows = rows.filter(service__in=services)
        if offers:
            rows = rows.filter(offer_type__in=offers)
        return rows

    def active_values(self, skip=()):
        """The valid values the reader gave, by filter name (empty choices left out)."""
        cleaned = getattr(self.form, "cleaned_data", {})
        return {
            name: value
            for name, value in cleaned.items()
            # Querysets of chosen genres/services were fetched by validation: len() is free.
            if name not in skip
            and value is not None
            and (not hasattr(value, "__len__") or len(value))
        }

    def filter_queryset(self, queryset, skip=()):
        """Apply every valid filter except those named in ``skip`` (invalid ones are ignored)."""
        values = self.active_values(skip)
        for name, value in values.items():
            queryset = self.filters[name].filter(queryset, value)
        services, offers = values.get("service"), values.get("offer")
        if services or offers:
            rows = self.availability_rows(services, offers).filter(film=OuterRef("pk"))
            queryset = queryset.filter(Exists(rows))
        return queryset

    def sort_queryset(self, queryset):
        sort = self.active_values().get("sort") or Sort.TITLE
        return queryset.order_by(*ORDERINGS[sort])

    @property
    def qs(self):
        if not hasattr(self, "_qs"):
            self.is_valid()  # runs validation; invalid values are then left out
            self._qs = self.sort_queryset(self.filter_queryset(self.queryset.all()))
        return self._qs

    # --- facet counts ----------------------------------------------------------------------

    version = None  # the catalogue version facets() read, for the page's shared rendering
    NARROWING_SKIPPED = ("sort", "region", "director_q")  # they change no film's membership

    def whole_catalogue(self) -> bool:
        """No filter narrows the list: its counts are the catalogue's own (FacetCount)."""
        return not self.active_values(skip=self.NARROWING_SKIPPED)

    def base(self, *skip):
        """The ids of the films that every filter but ``skip`` lets through, as a subquery; None
        when no filter applies, so that counting adds no always-true ``IN (SELECT …)``."""
        values = self.active_values(skip=(*skip, *self.NARROWING_SKIPPED))
        if not values:
            return None
        on_rows = values.keys() & FILM_ROW_FILTERS
        if self.title_ids is not None:
            on_rows.discard("q")
        if not on_rows:
            ids = self.linked_ids(values)
            if isinstance(ids, models.QuerySet) and self.few_films(values) and uses_postgres(ids):
                # A few thousand films: each count looks them up by index (``= ANY(ARRAY(…))``)
                # instead of hashing or merging the whole link table against them.
                return ArraySubquery(ids)
            return ids
        films = self.filter_queryset(Film.objects.all(), skip=skip).values("pk")
        if "q" in values and self.title_ids is None:
            # The planner cannot estimate the title search's condition and would test it again
            # for every link row it counts; a LIMIT keeps the subquery whole: one search, hashed.
            films = films.order_by()[:SEARCH_LIMIT]
        return films

    @staticmethod
    def few_films(values) -> bool:
        """Do these link filters leave a small share of the catalogue? A director, a service
        (one of 30), or two filters together do; a genre or an offer type alone need not (one
        offer type can be half the films)."""
        return bool({"director", "service"} & values.keys()) or len(values.keys() & LINKED) > 1

    def linked_ids(self, values):
        """The ids of the films that the genre, director, service and offer-type filters in
        ``values`` let through (and the title search's, when fetched), from their link tables
        alone: the films' own table would add a join of every film for nothing. An id may come
        more than once (two chosen genres)."""
        rows = []
        if genres := values.get("genre"):
            rows.append(FILM_GENRES.objects.filter(genre__in=genres))
        if director := values.get("director"):
            rows.append(Credit.objects.filter(person=director, role=Credit.Role.DIRECTOR))
        services, offers = values.get("service"), values.get("offer")
        if services or offers:
            rows.append(self.availability_rows(services, offers))
        if "q" in values:
            if not rows:
                return self.title_ids
            rows[0] = among(rows[0], "film_id", self.title_ids)
        ids = rows[0].order_by()
        for other in rows[1:]:
            ids = ids.filter(film_id__in=other.values("film_id"))
        return ids.values("film_id")

    def facets(self):
        """Every option of every filter with its count, and the total; cached per combination.

        ``facets["fresh"]`` says whether they were computed now or come from the cache. Cached
        counts are of the same catalogue version, which a scheduled publication or expiry
        replaces when its time comes, so both agree with the list.
        """
        now = timezone.now()
        self.version = version = current_version(now)
        if version is None:  # the cache is unavailable
            return {**self.compute_facets(), "fresh": True}
        key = self.facets_cache_key(version.number)
        facets = cache.get(key)
        if facets is not None:
            return {**facets, "fresh": False}
        facets = self.compute_facets()
        if timeout := version.timeout(FACETS_TIMEOUT, now):
            cache.set(key, facets, timeout)
        return {**facets, "fresh": True}

    def state(self, skip=("sort", "region")) -> dict[str, str]:
        """The valid filters as plain values, with the region the offers are in (the address's,
        or the reader's own from the cookie): what the counts, or with the sort the films,
        depend on."""
        state = {"region": self.offer_region}
        for name, value in self.active_values(skip=skip).items():
            if hasattr(value, "slug"):
                value = value.slug
            elif isinstance(value, list | tuple) or hasattr(value, "model"):
                value = sorted(getattr(item, "slug", item) for item in value)
            state[name] = str(value)
        return state

    def facets_cache_key(self, version):
        state = {**self.state(), "primary": reads_primary()}  # films.cache.reads_primary
        digest = hashlib.md5(
            json.dumps(state, sort_keys=True, default=str).encode(), usedforsecurity=False
        ).hexdigest()
        return f"film-facets:{version}:{digest}"

    def decade_and_reviewed_counts(self, values):
        """Both facets from one grouped query over the films that match every other filter:
        ({decade: count with the reviewed filter}, {reviewed choice: count with the decade})."""
        skip = ("decade", "reviewed")
        base = self.base(*skip)
        if base is None or getattr(base, "model", None) is Film:
            films = self.filter_queryset(Film.objects.all(), skip=skip)
        else:  # ids from the link tables (or the title search's): looked up, not tested per film
            films = among(Film.objects.all(), "pk", base)
        rows = (
            films.annotate(decade=F("year") / 10 * 10, reviewed=HAS_REVIEW_FLAG)
            .values_list("decade", "reviewed")
            .annotate(n=Count("pk"))
            .order_by()
        )
        wanted = {Reviewed.YES: True, Reviewed.NO: False}.get(values.get("reviewed"))
        selected = values.get("decade")
        decades, counts = {}, {None: 0, Reviewed.YES: 0, Reviewed.NO: 0}
        for decade, reviewed, n in rows:
            if wanted is None or bool(reviewed) == wanted:
                decades[decade] = decades.get(decade, 0) + n
            if selected is None or str(decade) == selected:
                counts[None] += n
                counts[Reviewed.YES if reviewed else Reviewed.NO] += n
        return decades, counts

    def option_counts(self, values):
        """The genre, service and offer-type counts, the genres' and services' names, and the
        regions with offers, in one query (a UNION) of rows (kind, id, key, name, n). Counts
        group the link tables (films' genres, offers), or read the whole catalogue's counts
        (FacetCount) when no other filter applies."""
        region = self.offer_region
        services, offers = values.get("service"), values.get("offer")
        genre_base, offer_base = self.base("genre"), self.base("service", "offer")
        current = self.all_offers().in_region(region).order_by()
        table = FacetCount.objects.order_by()

        # One genre, service and offer type at most, and nothing else: stored cells (COMBO).
        cells = self.combo_cell(values)
        combos = table.filter(facet=FacetCount.Facet.COMBO, region=region)
        if genre_base is None:
            genres = table.filter(facet=FacetCount.Facet.GENRE).annotate(oid=F("genre_id"))
        elif cells:
            _, service, offer = cells
            genres = combos.filter(genre__isnull=False, option__endswith=f".{service}.{offer}")
            genres = genres.annotate(oid=F("genre_id"))
        else:
            genres = (
                among(FILM_GENRES.objects.all(), "film_id", genre_base)
                .values("genre_id")
                .annotate(oid=F("genre_id"), n=Count("film_id"))
            )
        # Service and offer type describe the same row: each applies to the other's counts.
        if offer_base is None and not offers:
            by_service = table.filter(facet=FacetCount.Facet.SERVICE, region=region)
            by_service = by_service.annotate(oid=F("service_id"))
        elif cells:
            genre, _, offer = cells
            by_service = combos.filter(
                service__isnull=False, option__startswith=f"{genre}.", option__endswith=f".{offer}"
            ).annotate(oid=F("service_id"))
        else:
            rows = current.filter(offer_type__in=offers) if offers else current
            if offer_base is not None:
                rows = among(rows, "film_id", offer_base)
            # A film has one current offer per service, offer type and region (a unique
            # constraint): with one offer type, each row is a film of its own; no DISTINCT sort.
            by_service = rows.values("service_id").annotate(
                oid=F("service_id"), n=Count("film_id", distinct=len(offers or ()) != 1)
            )
        if offer_base is None and not services:
            by_offer = table.filter(facet=FacetCount.Facet.OFFER, region=region)
            by_offer = by_offer.annotate(okey=F("option"))
        elif cells:
            genre, service, _ = cells
            prefix = f"{genre}.{service}."
            by_offer = combos.filter(option__startswith=prefix).exclude(option=prefix)
            by_offer = by_offer.annotate(okey=Substr("option", len(prefix) + 1))
        else:
            rows = current.filter(service__in=services) if services else current
            if offer_base is not None:
                rows = among(rows, "film_id", offer_base)
            by_offer = rows.values("offer_type").annotate(
                okey=F("offer_type"), n=Count("film_id", distinct=len(services or ()) != 1)
            )
        # Neither chosen: both count the same offers, once each way in one pass where it can.
        both = (
            offer_base is not None and not (services or offers or cells) and uses_postgres(current)
        )
        regions = table.filter(facet=FacetCount.Facet.SERVICE).annotate(okey=F("region"))
        lists = {
            "genre-name": Genre.objects.annotate(oid=F("pk"), okey=F("slug"), oname=F("name")),
            "service-name": StreamingService.objects.annotate(
                oid=F("pk"), okey=F("slug"), oname=F("name")
            ),
        }
        if self.whole_catalogue():
            lists["decade"] = table.filter(facet=FacetCount.Facet.DECADE).annotate(okey=F("option"))
            lists["films"] = table.filter(facet=FacetCount.Facet.FILMS)
        parts = [
            queryset.annotate(
                kind=Value(kind),
                **{
                    column: Value(default)
                    for column, default in (("oid", 0), ("okey", ""), ("oname", ""), ("n", 0))
                    if column not in queryset.query.annotations
                    and not (queryset.model is FacetCount and column == "n")
                },
            )
            .values_list("kind", "oid", "okey", "oname", "n")
            .order_by()
            for kind, queryset in [
                ("genre", genres),
                *([] if both else [("service", by_service), ("offer", by_offer)]),
                ("region", regions),
                *lists.items(),
            ]
        ]
        if both:
            parts.append(self.service_and_offer_counts(among(current, "film_id", offer_base)))
        rows = defaultdict(list)
        for kind, oid, key, name, n in parts[0].union(*parts[1:], all=True).order_by():
            if kind == "service|offer":  # a service's row has its id, an offer type's none
                kind = "offer" if oid is None else "service"
            rows[kind].append((oid, key, name, n))
        return rows

    def combo_cell(self, values) -> tuple[int, int, str] | None:
        """(genre id, service id, offer type), 0 or "" for any, when the only filters are one
        genre, one service and one offer type at most: their counts are stored (the COMBO
        rows of FacetCount, kept current by films/counts.py); else None."""
        narrowing = self.active_values(skip=self.NARROWING_SKIPPED)
        if narrowing.keys() - {"genre", "service", "offer"}:
            return None
        if any(len(value) > 1 for value in narrowing.values()):
            return None
        genre, service, offer = (values.get(name) for name in ("genre", "service", "offer"))
        return (
            genre[0].pk if genre else 0,
            service[0].pk if service else 0,
            offer[0] if offer else "",
        )

    @staticmethod
    def service_and_offer_counts(offers):
        """Rows (kind, service, offer type, name, n) of the films of ``offers`` by service (offer
        type NULL) and by offer type (service NULL), from one pass over them: two queries in a
        UNION would each join the offers to the films again."""
        counts = (
            offers.annotate(
                kind=Value("service|offer"),
                oid=Grouped(F("service_id")),
                okey=Grouped(F("offer_type")),
                oname=Value(""),
                n=Count("film_id", distinct=True),
            )
            .values_list("kind", "oid", "okey", "oname", "n")
            .order_by()
        )
        grouping = GroupingSets("service_id", "offer_type").resolve_expression(counts.query)
        counts.query.group_by = (grouping,)
        return counts

    def director_counts(self, values):
        """[(pk, slug, name, n)] of the directors the facet offers, by name: the ``TOP_DIRECTORS``
        with the most films under the other filters (whose names contain ``director_q`` when
        given), and the chosen director whatever its count."""
        director, search = values.get("director"), values.get("director_q")
        base = self.base("director")
        if base is None:
            rows = FacetCount.objects.filter(facet=FacetCount.Facet.DIRECTOR).annotate(
                pid=F("person_id")
            )
        else:
            rows = (
                among(Credit.objects.filter(role=Credit.Role.DIRECTOR), "film_id", base)
                .values("person_id")
                .annotate(pid=F("person_id"), n=Count("film_id"))
            )
        if search:
            rows = rows.filter(
                Q(person__name__icontains=search) | Q(person__original_name__icontains=search)
            )
        order = ["-n", "pid"]  # ties by id: the top rows of an index, then their names
        if director is not None:  # first, so that the limit keeps it
            order.insert(0, Case(When(person=director.pk, then=0), default=1))
        # Names by a subquery per row that PostgreSQL computes after the limit: a join would
        # fetch one for every director before the counts are sorted.
        person = Person.objects.filter(pk=OuterRef("pid")).order_by()
        rows = (
            rows.order_by(*order)
            .annotate(
                pslug=Subquery(person.values("slug")[:1]),
                pname=Subquery(person.values("name")[:1]),
            )
            .values_list("pid", "pslug", "pname", "n")[:TOP_DIRECTORS]
        )
        directors = list(rows)
        if director is not None and director.pk not in {pk for pk, *_ in directors}:
            directors.append((director.pk, director.slug, director.name, 0))
        return sorted(directors, key=lambda row: (row[2].lower(), row[2], row[0]))

    def compute_facets(self):
        """Three queries: genres, services and offer types together (``option_counts()``),
        directors, and decades with the reviewed counts (for the whole catalogue, the decades
        come with the first, and the third counts the reviewed films); with a title search, one
        more first, for its films (``fetch_title_ids()``)."""
        self.title_ids = self.fetch_title_ids()
        values = self.active_values()
        selected_genres = {g.slug for g in values.get("genre", [])}
        selected_services = {s.slug for s in values.get("service", [])}
        selected_offers = set(values.get("offer", []))
        director = values.get("director")

        rows = self.option_counts(values)
        genre_counts = {oid: n for oid, _, _, n in rows["genre"]}
        service_counts = {oid: n for oid, _, _, n in rows["service"]}
        offer_counts = {key: n for _, key, _, n in rows["offer"]}
        by_name = lambda row: (row[2].lower(), row[2])  # noqa: E731

        if self.whole_catalogue():
            # The whole catalogue: its counts (FacetCount), and how many films have reviews.
            decade_counts = {int(key): n for _, key, _, n in rows["decade"]}
            total = sum(n for *_, n in rows["films"])
            reviewed = self.filter_reviewed(Film.objects.all(), "reviewed", Reviewed.YES)
            reviewed = reviewed.count() if total else 0
            counts = {None: total, Reviewed.YES: reviewed, Reviewed.NO: total - reviewed}
        else:
            decade_counts, counts = self.decade_and_reviewed_counts(values)
        reviewed_choice = values.get("reviewed")
        total = counts[reviewed_choice]

        selected_decade = values.get("decade")
        return {
            "total": total,
            "genre": [
                FacetOption(slug, name, genre_counts.get(pk, 0), slug in selected_genres)
                for pk, slug, name, _ in sorted(rows["genre-name"], key=by_name)
            ],
            "director": [
                FacetOption(slug, name, n, pk == getattr(director, "pk", None))
                for pk, slug, name, n in self.director_counts(values)
            ],
            "service": [
                FacetOption(slug, name, service_counts.get(pk, 0), slug in selected_services)
                for pk, slug, name, _ in sorted(rows["service-name"], key=by_name)
            ],
            "offer": [
                FacetOption(value, label, offer_counts.get(value, 0), value in selected_offers)
                for value, label in Availability.OfferType.choices
            ],
            "decade": [
                FacetOption(str(d), f"{d}s", n, str(d) == selected_decade)
                for d, n in sorted(decade_counts.items())
            ],
            "reviewed": [
                FacetOption(choice.value, choice.label, counts[choice], reviewed_choice == choice)
                for choice in Reviewed
            ],
            "regions": sorted({key for _, key, _, _ in rows["region"]}),
        }
