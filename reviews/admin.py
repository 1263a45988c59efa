from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.urls import path
from django.utils import timezone
from taggit.managers import TaggableManager

from films.forms import KeywordsField, OptimisticLockingForm
from reviews import admin_tags  # noqa: F401  (the tag admin: rename, merge, duplicates)
from reviews.admin_import import import_document_view
from reviews.models import STATE_FIELDS, Review
from reviews.workflow import (
    review_create,
    review_transition,
    reviews_publish,
    reviews_return_to_draft,
)


class VisibilityListFilter(admin.SimpleListFilter):
    """What readers see, from ``Review.objects.published()``: live, scheduled or draft."""

    title = "visibility"
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return [
            ("live", "Live on the site"),
            ("scheduled", "Published, not yet live"),
            ("draft", "Draft"),
        ]

    def queryset(self, request, queryset):
        live = Review.objects.published().values("pk")
        if self.value() == "live":
            return queryset.filter(pk__in=live)
        if self.value() == "scheduled":
            return queryset.filter(status=Review.Status.PUBLISHED).exclude(pk__in=live)
        if self.value() == "draft":
            return queryset.filter(status=Review.Status.DRAFT)
        return queryset


class ReviewAdminForm(OptimisticLockingForm):
    def clean_published_at(self):
        # The widget shows whole seconds: an untouched time keeps its stored microseconds, so
        # saving the text does not move the review's publication time.
        if "published_at" not in self.changed_data:
            return self.instance.published_at
        return self.cleaned_data["published_at"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    formfield_overrides = {TaggableManager: {"form_class": KeywordsField}}
    form = ReviewAdminForm
    list_display = [
        "headline",
        "film",
        "displayed_byline",
        "rating",
        "status",
        "published_at",
        "is_live",
    ]
    list_filter = [
        VisibilityListFilter,
        "status",
        ("author", admin.RelatedOnlyFieldListFilter),
        "film__genres",
        "is_demo",
    ]
    list_select_related = ["film", "author"]
    search_fields = ["headline", "film__title", "byline", "keywords__name"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["film"]
    prepopulated_fields = {"slug": ["headline"]}
    fieldsets = [
        (
            "Film and byline",
            {"fields": ["film", "headline", "slug", "byline", "author", "rating"]},
        ),
        ("Synopsis", {"fields": ["synopsis"]}),
        ("Critique", {"fields": ["critique"]}),
        ("Criticisms", {"fields": ["criticisms"]}),
        ("Conclusion", {"fields": ["conclusion"]}),
        # loaded_version is hidden: it guards against overwriting another editor's save.
        (
            "Publishing",
            {"fields": ["status", "published_at", "keywords", "is_demo", "loaded_version"]},
        ),
    ]
    actions = ["publish_now", "return_to_draft"]
    change_list_template = "admin/reviews/review/change_list.html"

    class Media:
        # A copy of what the writer types, kept in the browser until it is saved.
        css = {"all": ["reviews/admin/review_backup.css"]}
        js = ["reviews/admin/review_backup.js"]

    def get_urls(self):
        import_url = path(
            "import/",
            self.admin_site.admin_view(import_document_view),
            name="reviews_review_import",
        )
        return [import_url, *super().get_urls()]

    def get_queryset(self, request):
        live = Review.objects.published().filter(pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(live=Exists(live))

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("author", request.user.pk)
        return initial

    def save_model(self, request, obj, form, change):
        if obj.author_id is None:
            obj.author = request.user
        if not change:
            review_create(review=obj, by=request.user)
            return
        if set(STATE_FIELDS) & set(form.changed_data):
            # The state through the workflow first, which bumps the version the form was
            # opened with; the save then writes the other fields, and that same version.
            review_transition(
                review=obj, status=obj.status, published_at=obj.published_at, by=request.user
            )
        super().save_model(request, obj, form, change)

    def view_on_site(self, obj):
        """Only live reviews have a public page; drafts and scheduled ones would 404."""
        return obj.get_absolute_url() if obj.is_public() else None

    @admin.display(description="byline", ordering="byline")
    def displayed_byline(self, review):
        return review.displayed_byline

    @admin.display(description="live", boolean=True, ordering="live")
    def is_live(self, review):
        return review.live

    @admin.action(description="Publish now", permissions=["change"])
    def publish_now(self, request, queryset):
        published = reviews_publish(reviews=queryset, by=request.user)
        message = f"Published {len(published)} review(s)."
        now = timezone.now()
        if scheduled := sum(review.published_at > now for review in published):
            message += f" {scheduled} will go live at their publication time."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Return to draft", permissions=["change"])
    def return_to_draft(self, request, queryset):
        drafts = reviews_return_to_draft(reviews=queryset, by=request.user)
        self.message_user(request, f"Returned {len(drafts)} review(s) to draft.", messages.SUCCESS)
