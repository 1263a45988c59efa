from collections.abc import Callable
from datetime import date, timedelta

import reversion
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField
from taggit.managers import TaggableManager
from taggit.models import TaggedItem

from films.images import ImageUploadField, WrittenFilesMixin
from films.pictures import (
    Picture,
    RenditionsField,
    alt_text_field,
    caption_field,
    credit_field,
    focal_constraints,
    focal_field,
    require_alt,
)
from films.search import Related, SearchFields, search_queryset
from films.sql import EqualsAny, uses_postgres

FIRST_FILM_YEAR = 1870
LAST_PLAUSIBLE_YEAR = 2100


def slug_field(*, max_length: int, source: str = "name") -> models.SlugField:
    """A page's slug; films/slugs.py fills it from the name when left empty."""
    return models.SlugField(
        max_length=max_length,
        unique=True,
        blank=True,
        help_text=f"Part of the page's address. Leave empty to make one from the {source}.",
    )


def default_region() -> str:
    return settings.FILMMAG_DEFAULT_REGION


class SortIndex(models.Index):
    """An index for an order with NULLS LAST (``F(...).desc(nulls_last=True)``), which
    PostgreSQL uses only when the index says so too. SQLite refuses the words in an index, and
    puts NULLs last in a descending order anyway: there they are left out."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self
        if schema_editor.connection.vendor == "sqlite":
            index = self.clone()
            index.expressions = [
                OrderBy(e.expression, descending=e.descending) if isinstance(e, OrderBy) else e
                for e in self.expressions
            ]
        return models.Index.create_sql(index, model, schema_editor, using=using, **kwargs)


# What the film page prefetches for the apps built on the catalogue, which it cannot import.
_film_page_prefetches: list[Callable[[], Prefetch]] = []


def register_film_page_prefetch(prefetch: Callable[[], Prefetch]) -> None:
    """Let an app add to the film page's query (``Film.objects.for_detail()``): ``prefetch()``
    returns a ``Prefetch``, made at each call, so that it may depend on the time. Reviews add
    the film's published reviews, as ``film.published_reviews``."""
    if prefetch not in _film_page_prefetches:
        _film_page_prefetches.append(prefetch)


class Genre(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = slug_field(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("films:genre_detail", kwargs={"slug": self.slug})


class PersonQuerySet(models.QuerySet):
    def for_detail(self):
        """The person page: the person alone (``Credit.objects.filmography()`` brings the
        credits, a page of them per role, however long the career)."""
        return self

    def search(self, query: str, *, ranked: bool = True):
        """People whose name or original name matches ``query``, best first (films.search)."""
        return search_queryset(self, query, PERSON_SEARCH, ranked=ranked)


class Person(WrittenFilesMixin, models.Model):
    name = models.CharField(
        max_length=200, help_text="As credited in English, e.g. “Mikhail Kalatozov”."
    )
    slug = slug_field(max_length=200)
    original_name = models.CharField(
        max_length=200, blank=True, help_text="In the original script, e.g. “Михаил Калатозов”."
    )
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    death_year = models.PositiveSmallIntegerField(null=True, blank=True)
    bio = models.TextField(blank=True, help_text="A short biography shown on the person's page.")
    portrait = ImageUploadField(upload_to="portraits/%Y/", blank=True)
    portrait_alt = alt_text_field()
    portrait_credit = credit_field()
    portrait_focal_x = focal_field("x")
    portrait_focal_y = focal_field("y")
    portrait_renditions = RenditionsField(
        source="portrait", kind="portrait", focal="portrait_focal"
    )
    # Written by a PostgreSQL trigger (migration 0009); empty on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        indexes = [
            models.Index(fields=["name"], name="person_name_idx"),
            GinIndex(fields=["search_vector"], name="person_search_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(death_year__isnull=True)
                | Q(birth_year__isnull=True)
                | Q(death_year__gte=models.F("birth_year")),
                name="person_death_after_birth",
                violation_error_message="The death year cannot be before the birth year.",
            ),
            *focal_constraints("portrait_focal", "person"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("films:person_detail", kwargs={"slug": self.slug})

    def clean(self):
        require_alt(self, "portrait", "portrait_alt", self.suggested_portrait_alt)

    @property
    def suggested_portrait_alt(self) -> str:
        return f"Portrait of {self.name}" if self.name else ""

    @property
    def monogram(self) -> str:
        """Up to two initials, shown in place of a missing portrait: "TS" for Tatiana Samoilova.

        The first letter or digit of the first and last words that have one; a name with none
        ("!!!") shows its first character."""
        firsts = [next((c for c in word if c.isalnum()), "") for word in self.name.split()]
        firsts = [c for c in firsts if c]
        if not firsts:
            return self.name.strip()[:1]
        return (firsts[0] + (firsts[-1] if len(firsts) > 1 else "")).upper()

    @property
    def portrait_picture(self) -> Picture:
        return Picture(
            self.portrait,
            self.portrait_renditions,
            alt=self.portrait_alt,
            credit=self.portrait_credit,
        )


class StreamingServiceQuerySet(models.QuerySet):
    def with_film_counts(self, region: str | None = None):
        """Each service with ``film_count``: how many films it offers today (in ``region``;
        from the film list's counts, FacetCount, so that the two agree)."""
        if region:
            counts = FacetCount.objects.filter(
                facet=FacetCount.Facet.SERVICE, region=region, service=models.OuterRef("pk")
            )
            return self.annotate(film_count=Coalesce(models.Subquery(counts.values("n")[:1]), 0))
        current = Availability.objects.current().values("pk")
        return self.annotate(
            film_count=models.Count(
                "availabilities__film", filter=Q(availabilities__in=current), distinct=True
            )
        )


class StreamingService(WrittenFilesMixin, models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = slug_field(max_length=100)
    website = models.URLField(blank=True)
    logo = ImageUploadField(upload_to="logos/", blank=True)
    logo_alt = alt_text_field()
    logo_renditions = RenditionsField(source="logo", kind="logo")
    updated_at = models.DateTimeField(auto_now=True)

    objects = StreamingServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "streaming service"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("films:service_detail", kwargs={"slug": self.slug})

    def clean(self):
        require_alt(self, "logo", "logo_alt", self.suggested_logo_alt)

    @property
    def suggested_logo_alt(self) -> str:
        return f"{self.name} logo" if self.name else ""

    @property
    def logo_picture(self) -> Picture:
        return Picture(self.logo, self.logo_renditions, alt=self.logo_alt)


class FilmQuerySet(models.QuerySet):
    def with_directors(self):
        directors = Credit.objects.filter(role=Credit.Role.DIRECTOR).select_related("person")
        return self.prefetch_related(
            Prefetch("credits", queryset=directors, to_attr="director_credits")
        )

    def for_listing(self):
        """Everything a film card shows: genres, directors, and its latest published review's
        rating, which the film stores (``latest_rating``, see ``REVIEW_KEY_FIELDS``)."""
        return self.with_directors().prefetch_related("genres")

    def for_detail(self):
        """The film page: its genres, keywords, stills, credits, offers, and what the apps
        built on the catalogue add (the published reviews: ``register_film_page_prefetch``)."""
        return self.prefetch_related(*self.detail_prefetches())

    @staticmethod
    def detail_prefetches() -> list:
        """``for_detail()``'s lookups, for ``prefetch_related_objects()`` on a film in hand."""
        return [
            "genres",
            "tags",
            "stills",
            Prefetch("credits", queryset=Credit.objects.select_related("person")),
            Prefetch("availabilities", queryset=Availability.objects.for_film_page()),
            *(prefetch() for prefetch in _film_page_prefetches),
        ]

    def search(self, query: str, *, ranked: bool = True):
        """Films whose title, original title, director or cast matches ``query``, best first
        (films.search); ``ranked=False`` only filters, for the film list's title box."""
        return search_queryset(self, query, FILM_SEARCH, ranked=ranked)

    def for_search(self):
        """A search result: the directors and cast its snippet names, in billing order."""
        credits = (
            Credit.objects.filter(role__in=SEARCHED_ROLES)
            .select_related("person")
            .order_by("role", "order", "pk")
        )
        return self.prefetch_related(
            Prefetch("credits", queryset=credits, to_attr="search_credits")
        )


class Film(WrittenFilesMixin, models.Model):
    title = models.CharField(max_length=200, help_text="The English release title.")
    slug = slug_field(max_length=220, source="title")
    original_title = models.CharField(
        max_length=200, blank=True, help_text="In the original language and script, if different."
    )
    release_date = models.DateField(
        null=True, blank=True, help_text="First release. Leave empty if only the year is known."
    )
    year = models.PositiveSmallIntegerField(
        blank=True,
        validators=[MinValueValidator(FIRST_FILM_YEAR), MaxValueValidator(LAST_PLAUSIBLE_YEAR)],
        help_text="Release year, used for filtering and sorting. Filled from the release date.",
    )
    runtime = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Running time in minutes."
    )
    countries = CountryField(multiple=True, blank=True, help_text="Production countries.")
    original_language = models.CharField(max_length=60, blank=True)
    logline = models.TextField(blank=True, help_text="One sentence shown on film cards.")
    poster = ImageUploadField(upload_to="posters/%Y/", blank=True)
    poster_alt = alt_text_field()
    poster_credit = credit_field()
    poster_focal_x = focal_field("x")
    poster_focal_y = focal_field("y")
    poster_renditions = RenditionsField(source="poster", kind="poster", focal="poster_focal")
    genres = models.ManyToManyField(Genre, related_name="films", blank=True)
    tags = TaggableManager(blank=True, help_text="Comma-separated keywords.")
    # taggit's rows linking the film to its tags, for its revisions (no column, no migration).
    tagged_items = GenericRelation(TaggedItem)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Titles, director and cast names: written by PostgreSQL triggers on films, credits and
    # people (migration 0009), so every write counts, bulk ones too. Empty on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    # The film list's sort keys from its latest published review, stored so that sorting by
    # them is an index scan: written by the reviews app alone (REVIEW_KEY_FIELDS).
    latest_rating = models.DecimalField(
        max_digits=2, decimal_places=1, null=True, blank=True, editable=False
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_keys_stale_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When one of the film's reviews is next published or expires by itself, "
        "and its review keys are computed again.",
    )

    objects = FilmQuerySet.as_manager()

    class Meta:
        ordering = ["title", "year"]
        indexes = [
            # With the id: the facet counts' year and decade filters read the index alone.
            models.Index(fields=["year", "id"], name="film_year_id_idx"),
            # The film list's orders (films.filters.ORDERINGS), read from an index: sorting every
            # film by title for page 2,000 took 190 ms at 100,000 films, by year 100 ms.
            models.Index(fields=["title", "year", "id"], name="film_title_sort_idx"),
            models.Index(fields=["year", "title", "id"], name="film_oldest_sort_idx"),
            models.Index(F("year").desc(), "title", "id", name="film_newest_sort_idx"),
            # The latest change of a genre's or service's films, newest first (films.sitemaps).
            models.Index(fields=["updated_at"], name="film_updated_idx"),
            GinIndex(fields=["search_vector"], name="film_search_idx"),
            # The film list's "Highest rated" and "Recently reviewed" orders (films.filters).
            SortIndex(
                F("latest_rating").desc(nulls_last=True), "title", "id", name="film_rating_sort_idx"
            ),
            SortIndex(
                F("last_reviewed_at").desc(nulls_last=True),
                "title",
                "id",
                name="film_reviewed_sort_idx",
            ),
            models.Index(
                fields=["review_keys_stale_at"],
                condition=Q(review_keys_stale_at__isnull=False),
                name="film_review_keys_stale_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_FILM_YEAR) & Q(year__lte=LAST_PLAUSIBLE_YEAR),
                name="film_year_plausible",
                violation_error_message="The year must be between 1870 and 2100.",
            ),
            models.CheckConstraint(
                condition=Q(runtime__isnull=True) | Q(runtime__gt=0),
                name="film_runtime_positive",
                violation_error_message="The running time must be at least one minute.",
            ),
            *focal_constraints("poster_focal", "film"),
        ]

    def __str__(self):
        return f"{self.title} ({self.year})"

    def save(self, *args, **kwargs):
        if self.release_date:
            self.year = self.release_date.year
        if not self._state.adding and kwargs.get("update_fields") is None:
            # Not the review keys: a review published meanwhile must not be written over with
            # the values this film was loaded with (nor deferred fields, as Django does).
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.name not in REVIEW_KEY_FIELDS
                and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("films:film_detail", kwargs={"slug": self.slug})

    def clean(self):
        if self.release_date:
            self.year = self.release_date.year
        elif self.year is None:
            raise ValidationError({"year": "Give the release date, or at least the year."})
        require_alt(self, "poster", "poster_alt", self.suggested_poster_alt)

    @property
    def suggested_poster_alt(self) -> str:
        return f"Poster for {self}" if self.title and self.year else ""

    @property
    def poster_picture(self) -> Picture:
        return Picture(
            self.poster, self.poster_renditions, alt=self.poster_alt, credit=self.poster_credit
        )

    @property
    def first_still(self):
        """The first still by order, from a ``stills`` prefetch when there is one."""
        if "stills" in getattr(self, "_prefetched_objects_cache", {}):
            stills = list(self.stills.all())
            return stills[0] if stills else None
        return self.stills.first()

    @property
    def share_picture(self) -> Picture | None:
        """The picture for link previews (Open Graph): the first still, else the poster."""
        for picture in (getattr(self.first_still, "picture", None), self.poster_picture):
            if picture is not None and picture.has("og"):
                return picture
        return None

    @property
    def revision_tagged_items(self):
        return revision_tagged_items(self)

    @property
    def directors(self):
        """Directors, from ``with_directors()``'s prefetch when present."""
        credits = getattr(self, "director_credits", None)
        if credits is None:
            credits = self.credits.filter(role=Credit.Role.DIRECTOR).select_related("person")
        return [credit.person for credit in credits]


class CreditQuerySet(models.QuerySet):
    FILMOGRAPHY_ORDER = ("-film__year", "film__title", "order", "pk")

    def filmography(self, person, *, first: int):
        """The person page: ``person``'s credits with their films, newest film first, at most
        ``first`` per role (one query, ranked per role, so a career of 1,000 films costs what
        one of 24 does)."""
        ranked = Window(
            RowNumber(),
            partition_by=[F("role")],
            order_by=[F("film__year").desc(), F("film__title").asc(), F("order").asc(), "pk"],
        )
        # Ranked on ids alone, then the rows fetched: ranking whole film rows (with their
        # search vectors) cost 50 ms for 1,000 credits.
        first_ids = (
            self.filter(person=person).annotate(rank=ranked).filter(rank__lte=first).values("pk")
        )
        return (
            self.filter(pk__in=first_ids).select_related("film").order_by(*self.FILMOGRAPHY_ORDER)
        )

    def of_role(self, person, role: str):
        """The person page's list of one role (``?role=actor``), whole, newest film first."""
        return (
            self.filter(person=person, role=role)
            .select_related("film")
            .order_by(*self.FILMOGRAPHY_ORDER)
        )

    def role_counts(self, person) -> dict[str, int]:
        """{role: number of credits} for ``person``."""
        return dict(
            self.filter(person=person).order_by().values_list("role").annotate(n=Count("pk"))
        )


class Credit(models.Model):
    class Role(models.TextChoices):
        DIRECTOR = "director", "Director"
        WRITER = "writer", "Writer"
        PRODUCER = "producer", "Producer"
        CINEMATOGRAPHER = "cinematographer", "Cinematographer"
        EDITOR = "editor", "Editor"
        COMPOSER = "composer", "Composer"
        ACTOR = "actor", "Actor"

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="credits")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="credits")
    role = models.CharField(max_length=20, choices=Role)
    character = models.CharField(
        max_length=200, blank=True, help_text="For actors: the character's name as credited."
    )
    order = models.PositiveSmallIntegerField(
        default=0, help_text="Billing order: lower numbers are listed first."
    )

    objects = CreditQuerySet.as_manager()

    class Meta:
        ordering = ["film", "role", "order", "pk"]
        indexes = [
            # The director facet groups a role's credits by person, counting films: covering.
            models.Index(fields=["role", "person", "film"], name="credit_role_person_film_idx"),
            models.Index(fields=["film", "role", "order"], name="credit_film_role_order_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["film", "person", "role", "character"], name="credit_unique_per_film"
            ),
            models.CheckConstraint(
                condition=Q(role="actor") | Q(character=""),
                name="credit_character_only_for_actors",
                violation_error_message="Only actors have a character name.",
            ),
        ]

    def __str__(self):
        label = f"{self.person} – {self.get_role_display()}"
        return f"{label} ({self.character})" if self.character else label


class Still(WrittenFilesMixin, models.Model):
    """A frame or production photo from a film, shown on its page in ``order``."""

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="stills")
    image = ImageUploadField(upload_to="stills/%Y/")
    alt_text = alt_text_field()
    caption = caption_field()
    credit = credit_field()
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers come first.")
    focal_x = focal_field("x")
    focal_y = focal_field("y")
    renditions = RenditionsField(source="image", kind="still", focal="focal")

    class Meta:
        ordering = ["film", "order", "pk"]
        indexes = [models.Index(fields=["film", "order"], name="still_film_order_idx")]
        constraints = focal_constraints("focal", "still")

    def __str__(self):
        return self.caption or self.alt_text or f"Still {self.pk}"

    def clean(self):
        require_alt(self, "image", "alt_text", self.suggested_alt)

    @property
    def suggested_alt(self) -> str:
        # The film may be set but not yet saved: a still added with a new film in the admin.
        if self.film_id is None and not Still.film.is_cached(self):
            return ""
        film = self.film
        return f"A still from {film}" if film.title and film.year else ""

    @property
    def picture(self) -> Picture:
        return Picture(
            self.image,
            self.renditions,
            alt=self.alt_text,
            caption=self.caption,
            credit=self.credit,
        )


class AvailabilityQuerySet(models.QuerySet):
    """Offers, with their history: a row is one stint of a film on a service (an offer type in
    a region), from ``first_seen`` until ``ended``. Whatever the public site shows or counts as
    where to watch starts from ``current()``; the other methods say so when they do not."""

    def current(self):
        """Offers open today: the only ones readers are told they can watch."""
        return self.filter(ended__isnull=True)

    def arrived_since(self, day: date):
        """Current offers first seen on or after ``day``: "New on …"."""
        return self.current().filter(first_seen__gte=day)

    def left(self):
        """Closed offers that have not come back (no current offer of the same film, service,
        offer type and region): "Recently left", "Left … on …"."""
        back = self.model.objects.current().filter(
            film=OuterRef("film"),
            service=OuterRef("service"),
            offer_type=OuterRef("offer_type"),
            region=OuterRef("region"),
        )
        return self.filter(ended__isnull=False).exclude(Exists(back))

    def left_since(self, day: date):
        return self.left().filter(ended__gte=day)

    def stale(self, days: int | None = None):
        """Current offers nobody has checked for ``days`` (``FILMMAG_OFFER_STALE_DAYS``)."""
        days = settings.FILMMAG_OFFER_STALE_DAYS if days is None else days
        return self.current().filter(last_checked__lt=timezone.localdate() - timedelta(days=days))

    def for_film_page(self):
        """The film page's offers in one query: the current ones, and those that left in the
        last ``FILMMAG_OFFER_RECENT_DAYS`` days (``is_current`` tells them apart)."""
        return (
            (self.current() | self.left_since(recent_since()))
            .select_related("service")
            .order_by("offer_type", "region", "service__name", "-ended")
        )

    def for_service_page(self, service: "StreamingService", *, per_list: int = 12):
        """A service page's "New on" and "Recently left" offers, newest first, in one query:
        at most ``per_list`` of each, from the last ``FILMMAG_OFFER_RECENT_DAYS`` days."""
        since = recent_since()
        mine = self.filter(service=service)
        # Each list's ids walk their own index newest first and stop at ``per_list``. Ranking
        # both lists' rows in one window read every recent offer with its film, and its "not
        # back" test over an OR read every current offer: 150 ms at 300,000 offers.
        arrived = mine.arrived_since(since).order_by("-first_seen", "film_id", "pk")
        left = mine.left_since(since).order_by("-ended", "film_id", "pk")
        newest = [arrived.values("pk")[:per_list], left.values("pk")[:per_list]]
        if uses_postgres(mine):
            # As one array, whose few ids the planner expects: from an OR of two IN subqueries
            # it expected thousands of rows, and hashed every film to join theirs (70 ms).
            both = Func(
                *map(ArraySubquery, newest),
                function="array_cat",
                output_field=ArrayField(models.BigIntegerField()),
            )
            chosen = mine.filter(EqualsAny(F("pk"), both))
        else:
            chosen = mine.filter(Q(pk__in=newest[0]) | Q(pk__in=newest[1]))
        return (
            chosen.filter(Q(first_seen__gte=since) | Q(ended__gte=since))
            .annotate(event=Coalesce("ended", "first_seen"))
            .select_related("film", "service")
            .order_by("-event", "film_id", "pk")
        )

    def for_new_feed(self, service: "StreamingService"):
        """The "New on …" feed: the service's current offers, latest arrivals first."""
        return (
            self.current()
            .filter(service=service)
            .select_related("film", "service")
            .order_by("-first_seen", "-pk")
        )

    def for_left_feed(self, service: "StreamingService"):
        """The "Recently left" feed: the service's departed offers, latest first."""
        return (
            self.left()
            .filter(service=service)
            .select_related("film", "service")
            .order_by("-ended", "-pk")
        )

    def in_region(self, region: str):
        """The offers in the reader's region (films/regions.py says which that is)."""
        return self.filter(region=region)

    def outside_region(self, region: str):
        return self.exclude(region=region)

    def regions(self) -> set[str]:
        """The country codes that have current offers."""
        return {
            str(code)
            for code in self.current().order_by().values_list("region", flat=True).distinct()
        }


def recent_since() -> date:
    """The first day that counts as recent for "New on", "Recently left" and "Left … on"."""
    return timezone.localdate() - timedelta(days=settings.FILMMAG_OFFER_RECENT_DAYS)


class Availability(models.Model):
    class OfferType(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        RENT = "rent", "Rent"
        BUY = "buy", "Buy"
        FREE = "free", "Free"
        ADS = "ads", "Free with ads"

    film = models.ForeignKey(Film, on_delete=models.CASCADE, related_name="availabilities")
    service = models.ForeignKey(
        StreamingService, on_delete=models.CASCADE, related_name="availabilities"
    )
    offer_type = models.CharField(max_length=20, choices=OfferType)
    region = CountryField(default=default_region, help_text="Where this offer applies.")
    url = models.URLField("link", max_length=500, blank=True, help_text="Deep link to the film.")
    first_seen = models.DateField(
        default=timezone.localdate,
        help_text="When the offer was first seen on the service: “New on …” lists it from then.",
    )
    last_checked = models.DateField(
        default=timezone.localdate,
        help_text="When someone last saw the offer on the service. Saving an offer, or an "
        "import that lists it, counts as a check.",
    )
    ended = models.DateField(
        "left on",
        null=True,
        blank=True,
        help_text="When the offer left the service. Empty while readers can watch it; a closed "
        "offer stays as history, and the film page says when it left.",
    )

    objects = AvailabilityQuerySet.as_manager()

    class Meta:
        ordering = ["film", "offer_type", "region", "service", "-first_seen"]
        verbose_name = "offer"
        indexes = [
            models.Index(
                fields=["service", "offer_type", "region"], name="avail_service_offer_idx"
            ),
            models.Index(fields=["service", "first_seen"], name="avail_service_first_seen_idx"),
            models.Index(fields=["service", "ended"], name="avail_service_ended_idx"),
            # The admin's list of offers, least recently checked first, and its dates.
            models.Index(fields=["last_checked"], name="avail_last_checked_idx"),
            # The service and offer-type facets: a region's current offers, by service or by
            # offer type, with the film (index-only scans). By offer type, in the films' order
            # with their service: the service counts of films of a genre merge the two indexes.
            models.Index(
                fields=["region", "service", "offer_type", "film"],
                condition=Q(ended__isnull=True),
                name="avail_current_service_idx",
            ),
            models.Index(
                fields=["region", "offer_type", "film", "service"],
                condition=Q(ended__isnull=True),
                name="avail_current_offer_film_idx",
            ),
            # The stale-offers list: open offers by the date they were last checked.
            models.Index(
                fields=["last_checked"],
                condition=Q(ended__isnull=True),
                name="avail_current_checked_idx",
            ),
        ]
        constraints = [
            # One open offer per film, service, type and region; closed ones are its history,
            # and an offer that comes back is a new row (a new stint with its own dates).
            models.UniqueConstraint(
                fields=["film", "service", "offer_type", "region"],
                condition=Q(ended__isnull=True),
                name="availability_unique_current_offer",
                violation_error_message="This film already has this offer (service, offer type "
                "and region) open.",
            ),
            models.CheckConstraint(
                condition=Q(last_checked__gte=F("first_seen")),
                name="availability_checked_after_first_seen",
                violation_error_message="An offer cannot be checked before it was first seen.",
            ),
            models.CheckConstraint(
                condition=Q(ended__isnull=True) | Q(ended__gte=F("first_seen")),
                name="availability_ended_after_first_seen",
                violation_error_message="An offer cannot leave before it was first seen.",
            ),
        ]

    def __str__(self):
        text = f"{self.film} on {self.service} ({self.get_offer_type_display()}, {self.region})"
        return f"{text}, left {self.ended.day} {self.ended:%B %Y}" if self.ended else text

    def save(self, *args, **kwargs):
        # Revisions saved before the offer history had no check date for some offers: reverting
        # a film to one of them must not fail on it.
        if self.last_checked is None:
            self.last_checked = self.first_seen
        super().save(*args, **kwargs)

    def close(self) -> bool:
        """The offer has left its service: closed today and kept as history. An offer first
        seen today is deleted instead (today's entry corrected: nothing to keep, and readers
        should not be told it left). Returns whether the row was kept."""
        today = timezone.localdate()
        if self.first_seen >= today:
            self.delete()
            return False
        self.ended = self.last_checked = today
        self.save(update_fields=["ended", "last_checked"])
        return True

    @property
    def is_current(self) -> bool:
        return self.ended is None


# A film's sort keys from its reviews: the reviews app keeps them current (in the same
# transaction as each change to a published review, and when a scheduled publication or expiry
# comes, see films.cache.register_due_refresh); nothing else writes them.
REVIEW_KEY_FIELDS = ("latest_rating", "last_reviewed_at", "review_keys_stale_at")

# What site search looks at (films.search): a film's names are those of its director and cast.
SEARCHED_ROLES = [Credit.Role.DIRECTOR, Credit.Role.ACTOR]
FILM_SEARCH = SearchFields(
    primary=("title", "original_title"),
    related=Related(
        rows=lambda: Credit.objects.filter(role__in=SEARCHED_ROLES),
        fields=("person__name", "person__original_name"),
    ),
    tie_break=("title", "year", "pk"),
)
PERSON_SEARCH = SearchFields(primary=("name", "original_name"), tie_break=("name", "pk"))


class FacetCountQuerySet(models.QuerySet):
    def for_home(self, region: str):
        """The home page's ways into the catalogue: the genres and decades with their films,
        and the services with those they offer in ``region``, in one query."""
        return self.filter(
            Q(region="", facet__in=[FacetCount.Facet.GENRE, FacetCount.Facet.DECADE])
            | Q(region=region, facet=FacetCount.Facet.SERVICE)
        ).select_related("genre", "service")


class FacetCount(models.Model):
    """How many films each option of the film list's filters gives when nothing is filtered:
    the counts of the unfiltered film list and of the home page. films/counts.py keeps them
    current, in the same transaction as the change; a row with no films is deleted."""

    class Facet(models.TextChoices):
        FILMS = "films", "Films"
        GENRE = "genre", "Genre"
        DIRECTOR = "director", "Director"
        DECADE = "decade", "Decade"
        SERVICE = "service", "Streaming service"
        OFFER = "offer", "Offer type"
        # Films in a genre with a current offer on a service of an offer type, in a region; any
        # genre, service or offer type when left out (option "<genre>.<service>.<offer type>",
        # "0" or "" for any): the counts of a list filtered by one genre, service and offer
        # type at most (films/counts.py, FilmFilter.combo_counts()).
        COMBO = "combo", "Genre, service and offer type"

    facet = models.CharField(max_length=20, choices=Facet)
    # Offers are per country: the service and offer-type counts are a region's, the rest "".
    region = models.CharField(max_length=2, blank=True)
    # The option: a genre's, person's or service's id, an offer type, a decade; "" for films.
    option = models.CharField(max_length=40, blank=True)
    genre = models.ForeignKey(
        Genre, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey(
        StreamingService, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    n = models.PositiveIntegerField("films")

    objects = FacetCountQuerySet.as_manager()

    class Meta:
        ordering = ["facet", "region", "-n", "option"]
        constraints = [
            models.UniqueConstraint(
                fields=["facet", "region", "option"], name="facet_count_unique_option"
            ),
        ]
        indexes = [
            # The director facet's most frequent directors.
            models.Index(fields=["facet", "region", "-n"], name="facet_count_top_idx"),
        ]

    def __str__(self):
        where = f" in {self.region}" if self.region else ""
        return f"{self.facet} {self.option}{where}: {self.n}"


class SlugHistory(models.Model):
    """A slug a row had before: its old URL redirects (301) to the row's current URL."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    slug = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["content_type", "slug"]
        verbose_name = "old address"
        verbose_name_plural = "old addresses"
        constraints = [
            models.UniqueConstraint(fields=["content_type", "slug"], name="slug_history_unique"),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="slug_history_object_idx"),
        ]

    def __str__(self):
        return self.slug


# Loads what a version of a tag link needs (the tag's name, and the content type and tagged object
# its description names) for many films or reviews at once, so that a bulk change records their
# revisions in the same number of queries however many there are.
REVISION_PREFETCH = [
    Prefetch("tagged_items", queryset=TaggedItem.objects.select_related("tag", "content_type")),
    "tagged_items__content_object",
]


def revision_tagged_items(instance: models.Model) -> models.Manager | models.QuerySet:
    """The tag links a revision of ``instance`` keeps: from ``REVISION_PREFETCH`` if done."""
    if "tagged_items" in getattr(instance, "_prefetched_objects_cache", {}):
        return instance.tagged_items
    return instance.tagged_items.select_related("tag", "content_type").prefetch_related(
        "content_object"
    )


# Revisions (django-reversion): each save of a film in a revision block (the admin, the importer)
# stores the film with its credits, offers and tag links as they are after the save. The version
# counter is left out, so reverting never moves it back and forms opened before a revert go stale.
reversion.register(Credit)
reversion.register(Availability)
# The tag by name (its natural key), so a revision shows its keywords without the Tag rows, which
# are shared: reverting one film must not rename a tag that other films and reviews use.
reversion.register(TaggedItem, use_natural_foreign_keys=True)
# The poster too, with its alt text, credit and focal point: its file is removed once replaced
# (films.images), so no revision may name it.
POSTER_FIELDS = [
    "poster",
    "poster_alt",
    "poster_credit",
    "poster_focal_x",
    "poster_focal_y",
    "poster_renditions",
]
reversion.register(
    Film,
    exclude=["version", "search_vector", *REVIEW_KEY_FIELDS, *POSTER_FIELDS],
    follow=["credits", "availabilities", "revision_tagged_items"],
)
