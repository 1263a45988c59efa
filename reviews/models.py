from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

import reversion
from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from taggit.managers import TaggableManager
from taggit.models import TaggedItem

from films.models import Film, revision_tagged_items, slug_field

# One decimal place, as the column stores them ("4.0", not "4"), so a saved rating matches
# its choice when a form shows it again.
RATING_CHOICES = [(Decimal(f"{n / 2:.1f}"), f"{n / 2:g} / 5") for n in range(1, 11)]

# A review's state: what decides whether readers see it. Only reviews.workflow writes these.
STATE_FIELDS = ("status", "published_at")

_state_writes_allowed: ContextVar[bool] = ContextVar("review_state_writes", default=False)


class ReviewStateError(RuntimeError):
    """Code wrote a review's status or publication time without going through reviews.workflow."""


@contextmanager
def allow_state_writes() -> Iterator[None]:
    """For reviews.workflow alone: within the block, status and publication time may be saved."""
    token = _state_writes_allowed.set(True)
    try:
        yield
    finally:
        _state_writes_allowed.reset(token)


def _refuse_state_write(how: str) -> None:
    if not _state_writes_allowed.get():
        raise ReviewStateError(
            f"{how} would change a review's status or publication time outside "
            "reviews.workflow. Call review_create(), review_publish(), reviews_publish(), "
            "review_return_to_draft() or review_transition() instead: they bump the version "
            "and keep the film list's cached counts right, which a direct write does not."
        )


class ReviewQuerySet(models.QuerySet):
    # The three writes that bypass Review.save() refuse state fields outside the workflow.
    def update(self, **kwargs):
        if kwargs.keys() & set(STATE_FIELDS):
            _refuse_state_write("QuerySet.update()")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        if set(fields) & set(STATE_FIELDS):
            _refuse_state_write("QuerySet.bulk_update()")
        return super().bulk_update(objs, fields, *args, **kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if not all(obj.is_draft_without_time() for obj in objs):
            _refuse_state_write("QuerySet.bulk_create()")
        return super().bulk_create(objs, *args, **kwargs)

    def published(self):
        """The one rule for what readers may see: published, and the publication time has come."""
        return self.filter(status=Review.Status.PUBLISHED, published_at__lte=timezone.now())

    def for_listing(self):
        return self.select_related("film", "author")

    def for_detail(self):
        from films.models import Credit

        return self.select_related("film", "author").prefetch_related(
            "keywords",
            "film__genres",
            models.Prefetch(
                "film__credits",
                queryset=Credit.objects.filter(role=Credit.Role.DIRECTOR).select_related("person"),
                to_attr="director_credits",
            ),
        )


class Review(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    film = models.ForeignKey(Film, on_delete=models.PROTECT, related_name="reviews")
    headline = models.CharField(max_length=200)
    slug = slug_field(max_length=220, source="headline")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        help_text="The editor account responsible for this review.",
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
    keywords = TaggableManager(
        blank=True, help_text="Comma-separated keywords; each links to a tag page."
    )
    # taggit's rows linking the review to its keywords, for its revisions (no column).
    tagged_items = GenericRelation(TaggedItem)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        "publication time",
        null=True,
        blank=True,
        help_text="Shown on the site only once published and the publication time has passed.",
    )
    is_demo = models.BooleanField(
        "demo content", default=False, help_text="Written for the demo magazine; safe to delete."
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        indexes = [
            models.Index(fields=["status", "published_at"], name="review_visibility_idx"),
            models.Index(
                fields=["film", "status", "published_at"], name="review_film_visibility_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__in=[c for c, _ in RATING_CHOICES]),
                name="review_rating_half_stars_0_5_to_5",
                violation_error_message="The rating is in half stars from 0.5 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="review_published_has_time",
                violation_error_message="A published review needs a publication time.",
            ),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        if self._writes_new_state(kwargs.get("update_fields")):
            _refuse_state_write("Review.save()")
        super().save(*args, **kwargs)
        self._remember_state(kwargs.get("update_fields"))

    def get_absolute_url(self):
        return reverse("reviews:review_detail", kwargs={"slug": self.slug})

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

    def is_draft_without_time(self) -> bool:
        """The state every review starts in, whoever creates it."""
        return self.status == self.Status.DRAFT and self.published_at is None

    def _remember_state(self, fields=None) -> None:
        """Note the status and publication time as stored (of ``fields`` if given)."""
        stored = {
            name: self.__dict__[name]
            for name in STATE_FIELDS
            if name in self.__dict__ and (fields is None or name in fields)
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

    @property
    def revision_tagged_items(self):
        return revision_tagged_items(self)

    def is_public(self) -> bool:
        return Review.objects.published().filter(pk=self.pk).exists()

    @property
    def displayed_byline(self) -> str:
        if self.byline:
            return self.byline
        if self.author_id:
            return self.author.get_full_name() or self.author.get_username()
        return "filmmag"


# Revisions (django-reversion, see reviews/revisions.py): the review with its keyword links. The
# version counter is left out: restoring writes the next version, never an old one.
reversion.register(Review, exclude=["version"], follow=["revision_tagged_items"])
