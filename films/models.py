import reversion
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
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
        """The person page: every credit with its film, newest film first."""
        credits = Credit.objects.select_related("film").order_by(
            "-film__year", "film__title", "order"
        )
        return self.prefetch_related(Prefetch("credits", queryset=credits))


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
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        indexes = [models.Index(fields=["name"], name="person_name_idx")]
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


class StreamingService(WrittenFilesMixin, models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = slug_field(max_length=100)
    website = models.URLField(blank=True)
    logo = ImageUploadField(upload_to="logos/", blank=True)
    logo_alt = alt_text_field()
    logo_renditions = RenditionsField(source="logo", kind="logo")
    updated_at = models.DateTimeField(auto_now=True)

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
        """Everything a film card shows: genres, directors and its latest published review."""
        from reviews.models import Review

        published = Review.objects.published()
        latest = published.filter(film=models.OuterRef("pk")).order_by("-published_at")
        return (
            self.with_directors()
            .prefetch_related("genres")
            .annotate(
                last_reviewed_at=models.Subquery(latest.values("published_at")[:1]),
                latest_rating=models.Subquery(latest.values("rating")[:1]),
            )
        )

    def for_detail(self):
        from reviews.models import Review

        return self.prefetch_related(
            "genres",
            "tags",
            "stills",
            Prefetch("credits", queryset=Credit.objects.select_related("person")),
            Prefetch(
                "availabilities",
                queryset=Availability.objects.select_related("service").order_by(
                    "offer_type", "region", "service__name"
                ),
            ),
            Prefetch(
                "reviews",
                queryset=Review.objects.published()
                .select_related("author")
                .order_by("-published_at"),
                to_attr="published_reviews",
            ),
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

    objects = FilmQuerySet.as_manager()

    class Meta:
        ordering = ["title", "year"]
        indexes = [
            models.Index(fields=["year"], name="film_year_idx"),
            models.Index(fields=["title"], name="film_title_idx"),
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

    class Meta:
        ordering = ["film", "role", "order", "pk"]
        indexes = [
            models.Index(fields=["role", "person"], name="credit_role_person_idx"),
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
    last_checked = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["film", "offer_type", "region", "service"]
        verbose_name_plural = "availability"
        indexes = [
            models.Index(
                fields=["service", "offer_type", "region"], name="avail_service_offer_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["film", "service", "offer_type", "region"], name="availability_unique_offer"
            ),
        ]

    def __str__(self):
        return f"{self.film} on {self.service} ({self.get_offer_type_display()}, {self.region})"


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
    exclude=["version", *POSTER_FIELDS],
    follow=["credits", "availabilities", "revision_tagged_items"],
)
