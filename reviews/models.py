from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from taggit.managers import TaggableManager

from films.models import Film

# One decimal place, as the column stores them ("4.0", not "4"), so a saved rating matches
# its choice when a form shows it again.
RATING_CHOICES = [(Decimal(f"{n / 2:.1f}"), f"{n / 2:g} / 5") for n in range(1, 11)]


class ReviewQuerySet(models.QuerySet):
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
    slug = models.SlugField(
        max_length=220,
        unique=True,
        blank=True,
        help_text="Part of the page's address. Leave empty to make one from the headline.",
    )
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
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("reviews:review_detail", kwargs={"slug": self.slug})

    def clean(self):
        # Before the constraint check, so "Published" with an empty time means "now".
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()

    def is_public(self) -> bool:
        return Review.objects.published().filter(pk=self.pk).exists()

    @property
    def displayed_byline(self) -> str:
        if self.byline:
            return self.byline
        if self.author_id:
            return self.author.get_full_name() or self.author.get_username()
        return "filmmag"
