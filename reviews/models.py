from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from decimal import Decimal

import reversion
from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models, transaction
from django.db.models import Case, F, Min, OuterRef, Q, Subquery, When
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from taggit.managers import TaggableManager
from taggit.models import TaggedItem

from films.images import ImageUploadField, WrittenFilesMixin
from films.models import Film, revision_tagged_items, slug_field
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
from films.search import SearchFields, search_queryset
from reviews.text import first_sentence, repeats_title

# One decimal place, as the column stores them ("4.0", not "4"), so a saved rating matches
# its choice when a form shows it again.
RATING_CHOICES = [(Decimal(f"{n / 2:.1f}"), f"{n / 2:g} / 5") for n in range(1, 11)]

# A review's state: what decides whether readers see it. Only reviews.workflow writes these.
STATE_FIELDS = ("status", "published_at", "expires_at")
# What else of a published review its film's sort keys read (film_review_keys_refresh).
KEY_FIELDS = ("film", "rating")

_state_writes_allowed: ContextVar[bool] = ContextVar("review_state_writes", default=False)


class ReviewStateError(RuntimeError):
    """Code wrote a review's status, publication or expiry time outside reviews.workflow."""


@contextmanager
def allow_state_writes() -> Iterator[None]:
    """For reviews.workflow alone: within the block, the state fields may be saved."""
    token = _state_writes_allowed.set(True)
    try:
        yield
    finally:
        _state_writes_allowed.reset(token)


def _refuse_state_write(how: str) -> None:
    if not _state_writes_allowed.get():
        raise ReviewStateError(
            f"{how} would change a review's status, publication or expiry time outside "
            "reviews.workflow. Call review_create() or one of its moves (review_submit(), "
            "review_publish(), review_set_expiry(), review_transition()...) instead: they "
            "check who may, record the change, bump the version and keep the film list's "
            "cached counts right, which a direct write does not."
        )


def _together(films: set[int], using: str | None):
    """A transaction for a write and the refresh of these films' keys, when there are any (no
    savepoint: the two fail together)."""
    return transaction.atomic(using=using, savepoint=False) if films else nullcontext()


def _key_fields_in(fields) -> bool:
    return bool({name.removesuffix("_id") for name in fields} & set(KEY_FIELDS))


class ReviewQuerySet(models.QuerySet):
    # The three writes that bypass Review.save() refuse state fields outside the workflow; they
    # and delete() keep the films' review keys, as Review.save() and delete() do.
    def update(self, **kwargs):
        if kwargs.keys() & set(STATE_FIELDS):
            _refuse_state_write("QuerySet.update()")
        if not _key_fields_in(kwargs):
            return super().update(**kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            films = self._published_films()
            count = super().update(**kwargs)
            film = kwargs.get("film", kwargs.get("film_id"))
            if films and film is not None:
                films.add(getattr(film, "pk", film))
            film_review_keys_refresh(film_ids=films)
        return count

    def bulk_update(self, objs, fields, *args, **kwargs):
        if set(fields) & set(STATE_FIELDS):
            _refuse_state_write("QuerySet.bulk_update()")
        if not _key_fields_in(fields):
            return super().bulk_update(objs, fields, *args, **kwargs)
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            films = self.filter(pk__in=[obj.pk for obj in objs])._published_films()
            count = super().bulk_update(objs, fields, *args, **kwargs)
            films |= {obj.film_id for obj in objs if obj.status == Review.Status.PUBLISHED}
            film_review_keys_refresh(film_ids=films)
        return count

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if not all(obj.is_draft_without_time() for obj in objs):
            _refuse_state_write("QuerySet.bulk_create()")
        return super().bulk_create(objs, *args, **kwargs)

    def delete(self):
        with transaction.atomic(using=self.db, savepoint=False):
            films = self._published_films()
            deleted = super().delete()
            film_review_keys_refresh(film_ids=films)
        return deleted

    def _published_films(self) -> set[int]:
        """The films of these reviews that have a published one (live or not: its keys may
        count it, or will)."""
        published = self.filter(status=Review.Status.PUBLISHED).order_by()
        return set(published.values_list("film_id", flat=True).distinct())

    def published(self, *, now=None):
        """The one rule for what readers may see: published, the publication time has come and
        the expiry time, if any, has not (as of ``now``, by default the present)."""
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            status=Review.Status.PUBLISHED,
            published_at__lte=now,
        )

    def next_visibility_change(self, now):
        """The earliest time after ``now`` at which ``published()`` answers differently: a
        scheduled publication or an expiry. One query, on the two visibility indexes."""
        published = Q(status=Review.Status.PUBLISHED)
        times = self.filter(
            published & (Q(published_at__gt=now) | Q(expires_at__gt=now))
        ).aggregate(
            publication=Min("published_at", filter=Q(published_at__gt=now)),
            expiry=Min("expires_at", filter=Q(expires_at__gt=now)),
        )
        return min(filter(None, times.values()), default=None)

    def in_state(self, state: "Review.State", *, now=None):
        """Reviews in this editorial state (``Review.State``), as of ``now``. A state, not
        visibility: what readers see is ``published()``."""
        return self.filter(Review.state_condition(state, now or timezone.now()))

    def for_film_page(self):
        """A film page's reviews, newest first (films.models.register_film_page_prefetch)."""
        return self.published().select_related("author").order_by("-published_at")

    def for_listing(self):
        """Review cards: with the film's stills, for each card's lead picture."""
        return self.select_related("film", "author").prefetch_related("film__stills")

    def for_home(self, count: int = 7):
        """The home page's stories, newest first: the first leads, with its lead picture (no
        query per picture: renditions are on the rows, stills come in one prefetch)."""
        return self.published().for_listing()[:count]

    def for_feed(self):
        return self.select_related("film", "author")

    def search(self, query: str, *, ranked: bool = True):
        """Reviews whose headline, standfirst or sections match ``query``, best first
        (films.search). Not a visibility rule: readers' searches start from ``published()``."""
        return search_queryset(self, query, REVIEW_SEARCH, ranked=ranked)

    def for_search(self):
        """A search result: the film and the byline's author."""
        return self.select_related("film", "author")

    def for_detail(self):
        return self.select_related("film", "author").prefetch_related(*self.detail_prefetches())

    @staticmethod
    def detail_prefetches() -> list:
        """``for_detail()``'s lookups, for ``prefetch_related_objects()`` on a review in hand."""
        from films.models import Credit

        return [
            "keywords",
            "film__genres",
            "film__stills",
            models.Prefetch(
                "film__credits",
                queryset=Credit.objects.filter(role=Credit.Role.DIRECTOR).select_related("person"),
                to_attr="director_credits",
            ),
        ]


class ReviewStatus(models.TextChoices):
    """What is stored. "Scheduled" is not a status: it is a published review whose publication
    time has not come (``ReviewState``), so it goes live at that time with nothing to run."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    SENT_BACK = "sent_back", "Sent back"
    PUBLISHED = "published", "Published"
    UNPUBLISHED = "unpublished", "Unpublished"


class ReviewState(models.TextChoices):
    """A review's place in its life, read from its status, publication and expiry time."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    SENT_BACK = "sent_back", "Sent back"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    EXPIRED = "expired", "Expired"
    UNPUBLISHED = "unpublished", "Unpublished"


def review_state(status: str, published_at, expires_at, now) -> ReviewState:
    """The state of a review with this status, publication and expiry time, as of ``now``."""
    if status == ReviewStatus.PUBLISHED:
        if published_at > now:
            return ReviewState.SCHEDULED
        if expires_at is not None and expires_at <= now:
            return ReviewState.EXPIRED
        return ReviewState.PUBLISHED
    return ReviewState(status)


class Review(WrittenFilesMixin, models.Model):
    Status = ReviewStatus
    State = ReviewState

    film = models.ForeignKey(Film, on_delete=models.PROTECT, related_name="reviews")
    headline = models.CharField(max_length=200)
    slug = slug_field(max_length=220, source="headline")
    standfirst = models.CharField(
        max_length=300,
        blank=True,
        help_text="One or two sentences under the headline, on the review and its cards. "
        "Left empty, the conclusion's first sentence is shown.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        help_text="The writer: they may edit it while it is a draft or sent back to them.",
    )
    byline = models.CharField(
        max_length=120,
        blank=True,
        help_text="The writer's name as printed; defaults to the author.",
    )
    rating = models.DecimalField(
        max_digits=2,
        decimal_places=1,
        null=True,
        blank=True,
        choices=RATING_CHOICES,
        help_text="Stars out of 5, in half steps. Leave empty for an unrated piece.",
    )
    synopsis = models.TextField(
        blank=True, help_text="Plain text; separate paragraphs with a blank line."
    )
    critique = models.TextField(blank=True, help_text="The review proper.")
    criticisms = models.TextField(blank=True)
    conclusion = models.TextField(blank=True)
    lead_image = ImageUploadField(
        upload_to="reviews/%Y/",
        blank=True,
        help_text="Optional: without one, the film's first still or its poster leads the review.",
    )
    lead_image_alt = alt_text_field()
    lead_image_caption = caption_field()
    lead_image_credit = credit_field()
    lead_image_focal_x = focal_field("x")
    lead_image_focal_y = focal_field("y")
    lead_image_renditions = RenditionsField(
        source="lead_image", kind="lead", focal="lead_image_focal"
    )
    keywords = TaggableManager(
        blank=True, help_text="Comma-separated keywords; each links to a tag page."
    )
    # taggit's rows linking the review to its keywords, for its revisions (no column).
    tagged_items = GenericRelation(TaggedItem)
    status = models.CharField(max_length=20, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        "publication time",
        null=True,
        blank=True,
        help_text="Shown on the site only once published and the publication time has passed: "
        "a time in the future schedules it.",
    )
    expires_at = models.DateTimeField(
        "expiry time",
        null=True,
        blank=True,
        help_text="Optional. From this time on the review is no longer shown on the site; it "
        "stays in the admin. Leave empty to keep it public.",
    )
    is_demo = models.BooleanField(
        "demo content", default=False, help_text="Written for the demo magazine; safe to delete."
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Headline (A), standfirst (B) and the four sections (C): written by a PostgreSQL trigger
    # (migration 0011) on every insert and update. Empty on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        permissions = [("publish_review", "Can schedule, publish, unpublish and send back reviews")]
        indexes = [
            models.Index(fields=["status", "published_at"], name="review_visibility_idx"),
            models.Index(
                fields=["film", "status", "published_at"], name="review_film_visibility_idx"
            ),
            # The next expiry (films.cache asks for it after each change).
            models.Index(fields=["status", "expires_at"], name="review_expiry_idx"),
            GinIndex(fields=["search_vector"], name="review_search_idx"),
            # The latest change of a published review (of a genre's films, say): the sitemap's
            # lastmod (reviews.sitemaps.changed_at).
            models.Index(Greatest("updated_at", "published_at"), name="review_changed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__in=[c for c, _ in RATING_CHOICES]),
                name="review_rating_half_stars_0_5_to_5",
                violation_error_message="The rating is in half stars from 0.5 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values),
                name="review_status_known",
                violation_error_message="Unknown status: choose one of "
                + ", ".join(ReviewStatus.labels)
                + ".",
            ),
            # Before publication the time is only planned (or absent); a published review,
            # live or scheduled, has one, and an unpublished review keeps the one it had.
            models.CheckConstraint(
                condition=Q(
                    status__in=[ReviewStatus.DRAFT, ReviewStatus.IN_REVIEW, ReviewStatus.SENT_BACK]
                )
                | Q(published_at__isnull=False),
                name="review_published_states_have_time",
                violation_error_message=(
                    "A published, scheduled or unpublished review needs a publication time."
                ),
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(published_at__isnull=True)
                | Q(expires_at__gt=F("published_at")),
                name="review_expires_after_publication",
                violation_error_message="The expiry time must be after the publication time.",
            ),
            *focal_constraints("lead_image_focal", "review"),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self._writes_new_state(update_fields):
            _refuse_state_write("Review.save()")
        films = self._films_with_new_keys(update_fields)
        with _together(films, kwargs.get("using")):
            super().save(*args, **kwargs)
            film_review_keys_refresh(film_ids=films)
        self._remember_state(update_fields)

    def get_absolute_url(self):
        return reverse("reviews:review_detail", kwargs={"slug": self.slug})

    def delete(self, *args, **kwargs):
        films = {self.film_id} if self.status == self.Status.PUBLISHED else set()
        with _together(films, kwargs.get("using")):
            deleted = super().delete(*args, **kwargs)
            film_review_keys_refresh(film_ids=films)
        return deleted

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        review = super().from_db(db, field_names, values, **kwargs)
        review._remember_state()
        return review

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self._remember_state(fields)

    def clean(self):
        # Before the constraint check, so "Published" with an empty time means "now", as it
        # does in reviews.workflow, which then writes it.
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        require_alt(self, "lead_image", "lead_image_alt", self.suggested_lead_image_alt)

    @property
    def suggested_lead_image_alt(self) -> str:
        if self.film_id is None and not Review.film.is_cached(self):
            return ""
        film = self.film
        return f"A still from {film}" if film.title and film.year else ""

    @property
    def lead_picture(self) -> Picture | None:
        """The picture that leads the review: its own lead image, else the film's first still,
        else its poster. List pages prefetch ``film__stills`` so this costs no query."""
        own = Picture(
            self.lead_image,
            self.lead_image_renditions,
            alt=self.lead_image_alt,
            caption=self.lead_image_caption,
            credit=self.lead_image_credit,
        )
        if own:
            return own
        still = self.film.first_still
        if still is not None and still.picture:
            return still.picture
        poster = self.film.poster_picture
        return poster or None

    @property
    def summary(self) -> str:
        """The standfirst readers see: the editor's, else the conclusion's first sentence."""
        return self.standfirst.strip() or first_sentence(self.conclusion)

    @property
    def filed_under(self) -> list:
        """The keywords shown to readers: all but those that only repeat the film's title
        ("Vertigo 1958 review"), which are written for search engines. From the ``keywords``
        prefetch of ``for_detail()``."""
        titles = (self.film.title, self.film.original_title)
        return [tag for tag in self.keywords.all() if not repeats_title(tag.name, *titles)]

    @staticmethod
    def state_condition(state: "Review.State", now) -> Q:
        """The filter for reviews in ``state`` as of ``now`` (the PUBLISHED state is what
        ``published()`` shows; a test holds them together)."""
        published = Q(status=Review.Status.PUBLISHED)
        if state == Review.State.SCHEDULED:
            return published & Q(published_at__gt=now)
        if state == Review.State.PUBLISHED:
            live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
            return published & Q(published_at__lte=now) & live
        if state == Review.State.EXPIRED:
            return published & Q(published_at__lte=now, expires_at__lte=now)
        return Q(status=state)

    def state_at(self, now=None) -> "Review.State":
        return review_state(self.status, self.published_at, self.expires_at, now or timezone.now())

    @property
    def state(self) -> "Review.State":
        return self.state_at()

    def is_draft_without_time(self) -> bool:
        """The state every review starts in, whoever creates it."""
        return (
            self.status == self.Status.DRAFT
            and self.published_at is None
            and self.expires_at is None
        )

    def _remember_state(self, fields=None) -> None:
        """Note the state fields as stored, and the film and rating (of ``fields`` if given)."""
        attnames = {"film": "film_id"}
        stored = {
            attnames.get(name, name): self.__dict__[attnames.get(name, name)]
            for name in (*STATE_FIELDS, *KEY_FIELDS)
            if attnames.get(name, name) in self.__dict__
            and (fields is None or name in fields or attnames.get(name) in fields)
        }
        # A new dict, not an update: a copy of this review must not share it.
        self.__dict__["_stored_state"] = {**self.__dict__.get("_stored_state", {}), **stored}

    def _writes_new_state(self, update_fields) -> bool:
        if self._state.adding:
            return not self.is_draft_without_time()
        stored = self.__dict__.get("_stored_state", {})
        # A field deferred when the review was loaded has no stored value to compare with.
        return any(
            self.__dict__.get(name, stored[name]) != stored[name]
            for name in STATE_FIELDS
            if name in stored and (update_fields is None or name in update_fields)
        )

    def _films_with_new_keys(self, update_fields) -> set[int]:
        """The films whose review keys this save changes: a published review's film or rating
        (its state changes in reviews.workflow, which refreshes them itself)."""
        if self._state.adding or self.status != self.Status.PUBLISHED:
            return set()
        if update_fields is not None and not _key_fields_in(update_fields):
            return set()
        stored = self.__dict__.get("_stored_state", {})
        changed = any(
            name in stored and self.__dict__.get(name, stored[name]) != stored[name]
            for name in ("film_id", "rating")
        )
        return {stored.get("film_id", self.film_id), self.film_id} if changed else set()

    @property
    def revision_tagged_items(self):
        return revision_tagged_items(self)

    def is_public(self) -> bool:
        return Review.objects.published().filter(pk=self.pk).exists()

    @property
    def modified_at(self):
        """When the public page last changed: its last edit, or its publication if that came
        later (a review scheduled in advance goes live after its last edit)."""
        return max(self.updated_at, self.published_at or self.updated_at)

    @property
    def displayed_byline(self) -> str:
        if self.byline:
            return self.byline
        if self.author_id:
            return self.author.get_full_name() or self.author.get_username()
        return "filmmag"


def film_review_keys(now) -> dict[str, Subquery]:
    """A film's review keys as of ``now`` (films.models.REVIEW_KEY_FIELDS), as expressions
    over its reviews, for ``Film.objects.update()``: the rating and publication time of its
    latest published review, and when one of its reviews is next published or expires."""
    latest = (
        Review.objects.published(now=now)
        .filter(film=OuterRef("pk"))
        .order_by("-published_at", "-pk")
    )
    # A scheduled review's next change is its publication (its expiry comes after), a live
    # one's its expiry.
    upcoming = (
        Review.objects.filter(
            Q(published_at__gt=now) | Q(expires_at__gt=now),
            film=OuterRef("pk"),
            status=Review.Status.PUBLISHED,
        )
        .order_by()
        .values("film")
        .annotate(
            at=Min(
                Case(When(published_at__gt=now, then=F("published_at")), default=F("expires_at"))
            )
        )
        .values("at")
    )
    return {
        "latest_rating": Subquery(latest.values("rating")[:1]),
        "last_reviewed_at": Subquery(latest.values("published_at")[:1]),
        "review_keys_stale_at": Subquery(upcoming),
    }


def film_review_keys_refresh(*, film_ids: Iterable[int], now=None) -> None:
    """Compute the review keys of these films again, in one UPDATE. Called in the same
    transaction as each change to a published review's state (reviews.workflow), film or rating
    (``Review.save()``, the queryset's writes) and its deletion."""
    film_ids = set(film_ids) - {None}
    if film_ids:
        now = now or timezone.now()
        Film.objects.filter(pk__in=film_ids).update(**film_review_keys(now))


def film_review_keys_refresh_all(*, now=None) -> int:
    """Every film's review keys computed again, for reviews written around the workflow (bulk
    SQL, as ``make bench`` builds its catalogue): the films with a review in the published
    status, and those whose keys say they had one. Returns how many films it wrote."""
    now = now or timezone.now()
    published = Review.objects.filter(status=Review.Status.PUBLISHED).values("film")
    films = Film.objects.filter(
        Q(pk__in=published) | Q(last_reviewed_at__isnull=False) | Q(review_keys_stale_at__lte=now)
    )
    return films.update(**film_review_keys(now))


def film_review_keys_refresh_due(now) -> None:
    """The keys of the films whose reviews were published or expired by themselves since they
    were computed: a read of an index, and an UPDATE when something is due. Run by the
    catalogue version before the reader who comes at or after such a time reads the film list
    (films.cache.register_due_refresh); two readers doing it at once do the same work twice.
    A read first: most rollovers find nothing due, and a write (even of no row) would keep that
    reader, and with read replicas every reader, on the primary (filmmag/db_router.py)."""
    due = Film.objects.filter(review_keys_stale_at__lte=now)
    if due.exists():
        due.update(**film_review_keys(now))


class ReviewAction(models.TextChoices):
    """What can be done to a review's state (reviews.workflow.TRANSITIONS says who and when)."""

    SUBMIT = "submit", "Submit for review"
    SEND_BACK = "send_back", "Send back to the writer"
    SCHEDULE = "schedule", "Schedule"
    PUBLISH = "publish", "Publish now"
    UNSCHEDULE = "unschedule", "Unschedule"
    UNPUBLISH = "unpublish", "Unpublish"
    RETURN_TO_DRAFT = "return_to_draft", "Return to draft"
    PLAN = "plan", "Set the planned publication time"
    SET_EXPIRY = "set_expiry", "Set the expiry time"


class ReviewTransition(models.Model):
    """One change of a review's state: who made it, when, and the note that went with it.
    Written by reviews.workflow alone; the writer reads the notes on their review."""

    Action = ReviewAction

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=20, choices=Action)
    from_state = models.CharField(max_length=20, choices=ReviewState)
    to_state = models.CharField(max_length=20, choices=ReviewState)
    published_at = models.DateTimeField(
        "publication time", null=True, blank=True, help_text="The review's, after the change."
    )
    expires_at = models.DateTimeField(
        "expiry time", null=True, blank=True, help_text="The review's, after the change."
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_transitions",
        help_text="Empty for changes made by the system (the demo loader, scripts).",
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = "state change"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["review", "-at"], name="reviewtransition_review_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ReviewAction.values),
                name="reviewtransition_action_known",
                violation_error_message="Unknown action.",
            ),
            models.CheckConstraint(
                condition=Q(from_state__in=ReviewState.values) & Q(to_state__in=ReviewState.values),
                name="reviewtransition_states_known",
                violation_error_message="Unknown state.",
            ),
            models.CheckConstraint(
                condition=~Q(action="send_back") | ~Q(note=""),
                name="reviewtransition_send_back_has_note",
                violation_error_message="Sending a review back needs a note for the writer.",
            ),
            models.CheckConstraint(
                condition=Q(
                    to_state__in=[ReviewState.DRAFT, ReviewState.IN_REVIEW, ReviewState.SENT_BACK]
                )
                | Q(published_at__isnull=False),
                name="reviewtransition_published_states_have_time",
                violation_error_message=(
                    "A published, scheduled or unpublished review needs a publication time."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.review_id} by {self.by_id or 'the system'}"


class PreviewLinkQuerySet(models.QuerySet):
    def live(self):
        """Links that still open their review: not revoked, not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class PreviewLink(models.Model):
    """A link an editor shares with someone outside the admin, to read a review before it is
    public. Made and revoked in reviews.preview."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="preview_links")
    # Stored as issued, not hashed: it only grants reading a review kept in the same database,
    # and editors need to copy a live link again from the admin.
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField("expires")
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = PreviewLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="previewlink_expires_after_creation",
                violation_error_message="A preview link must expire after it is made.",
            ),
        ]

    def __str__(self):
        return f"Preview link {self.token[:8]}…"

    def get_absolute_url(self):
        return reverse("reviews:preview_link_detail", kwargs={"token": self.token})

    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


REVIEW_SEARCH = SearchFields(
    primary=("headline",),
    secondary=("standfirst", "synopsis", "critique", "criticisms", "conclusion"),
    tie_break=("-published_at", "pk"),
)


# Revisions (django-reversion, see reviews/revisions.py): the review with its keyword links. The
# version counter is left out: restoring writes the next version, never an old one.
# Not the lead image and what describes it: its files are removed from storage once replaced.
reversion.register(
    Review,
    exclude=[
        "version",
        "search_vector",
        "lead_image",
        "lead_image_alt",
        "lead_image_caption",
        "lead_image_credit",
        "lead_image_focal_x",
        "lead_image_focal_y",
        "lead_image_renditions",
    ],
    follow=["revision_tagged_items"],
)
