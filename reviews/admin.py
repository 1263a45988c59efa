from collections import defaultdict
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, Subquery, prefetch_related_objects
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from taggit.managers import TaggableManager

from films.admin import PictureStorageAdminMixin
from films.admin_lists import RecentRelatedListFilter, ScalingChangeListMixin
from films.admin_pictures import PictureFormMixin, PictureSlot, thumbnail
from films.forms import KeywordsField, OptimisticLockingForm
from reviews import admin_tags  # noqa: F401  (the tag admin: rename, merge, duplicates)
from reviews.admin_history import ReviewHistoryMixin
from reviews.admin_import import import_document_view
from reviews.admin_preview import ReviewPreviewAdminMixin
from reviews.models import STATE_FIELDS, Review, ReviewTransition
from reviews.workflow import (
    KEEP,
    TransitionRefused,
    allowed_transitions,
    review_create,
    review_plan,
    review_transition,
    reviews_publish,
    reviews_return_to_draft,
    reviews_submit,
    reviews_unpublish,
    reviews_unschedule,
    user_can_edit,
    user_can_view,
    user_is_editor,
)

State = Review.State
Action = ReviewTransition.Action

# The state filter's values (its parameter keeps the name "visibility" it had before the
# editorial states, so saved links still work); "live" is what Review.objects.published() shows.
STATE_FILTER = [
    ("draft", "Draft"),
    ("in_review", "In review"),
    ("sent_back", "Sent back"),
    ("scheduled", "Scheduled"),
    ("live", "Published, live"),
    ("expired", "Expired"),
    ("unpublished", "Unpublished"),
]
SCHEDULE_WEEKS = 4
RECENT_DAYS = 14


class StateListFilter(admin.SimpleListFilter):
    """A review's state (``Review.State``); "live" from ``Review.objects.published()``."""

    title = "state"
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return STATE_FILTER

    def queryset(self, request, queryset):
        value = self.value()
        if value == "live":
            return queryset.filter(pk__in=Review.objects.published().values("pk"))
        if value in State.values:
            return queryset.in_state(State(value))
        return queryset


class WriterListFilter(admin.RelatedOnlyFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "writer"


LEAD_IMAGE = PictureSlot(
    "lead_image",
    "lead_image_alt",
    "lead_image_renditions",
    shape="still",
    suggestion="suggested_lead_image_alt",
    focal="lead_image_focal",
    label="lead image",
)
# What a review shows without its own lead image (Review.lead_picture), by the image field.
LEAD_FALLBACK = {"image": "The film's first still", "poster": "The film's poster"}


class ReviewChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # The page's rows with their films' stills, for the lead picture's fallback to the
        # first still: one query for the page, none per row (not for actions or counts).
        self.result_list = list(self.result_list)
        prefetch_related_objects(self.result_list, "film__stills")


class ReviewAdminForm(PictureFormMixin, OptimisticLockingForm):
    """The review form, which also carries a change of state: a workflow button
    (``_workflow=<action>``) or, for editors, the status menu. ``clean()`` checks the change
    against reviews.workflow and keeps it in ``self.change`` for the admin to make."""

    user = None  # set by ReviewAdmin.get_form
    picture_slots = (LEAD_IMAGE,)

    workflow_note = forms.CharField(
        label="Note",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the change in the review's history, where its writer reads it. "
        "Needed to send a review back.",
    )

    class Meta:
        widgets = {"standfirst": forms.Textarea(attrs={"rows": 2, "cols": 80, "maxlength": 300})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.change = None
        self.by_status = True
        self.note = ""
        if "status" in self.fields:
            self.fields["status"].choices = self._status_choices()
        self._show_lead_fallback()

    def _show_lead_fallback(self):
        """Without its own lead image, the form shows what leads the review instead."""
        field = self.fields.get("lead_image")
        review = self.instance
        if field is None or review.lead_image or review.film_id is None:
            return
        picture = review.lead_picture
        if picture is not None:
            source = LEAD_FALLBACK[picture.file.field.name].lower()
            field.widget.fallback = (
                picture,
                f"Without its own lead image, the review is led by {source}, shown here.",
            )

    def _probe(self):
        """The review as stored, as the workflow sees it (a new one: a draft by this user)."""
        if not self.instance._state.adding:
            return self.instance
        return Review(status=Review.Status.DRAFT, author_id=self.user.pk)

    def _status_choices(self):
        """The status as it is, and those the user's moves lead to."""
        review = self._probe()
        reachable = {review.status}
        for transition in allowed_transitions(review, self.user):
            if transition.status:
                reachable.add(transition.status)
        return [(value, label) for value, label in Review.Status.choices if value in reachable]

    def clean_published_at(self):
        # The widget shows whole seconds: an untouched time keeps its stored microseconds, so
        # saving the text does not move the review's publication time.
        if "published_at" not in self.changed_data:
            return self.instance.published_at
        return self.cleaned_data["published_at"]

    def clean(self):
        cleaned_data = super().clean()
        forged = [
            name
            for name in (*STATE_FIELDS, "author")
            if name not in self.fields
            and any(key == name or key.startswith(f"{name}_") for key in self.data)
        ]
        if forged:
            raise ValidationError(
                "You can't change a review's status, publication or expiry time or writer "
                "here; use the buttons below the form. Nothing was saved.",
                code="forbidden",
            )
        self.note = cleaned_data.get("workflow_note", "").strip()
        action = self.data.get("_workflow") or None
        state_edited = bool(set(STATE_FIELDS) & set(self.changed_data))
        self.by_status = not action
        if action is not None and (
            action not in Action.values or action in (Action.PLAN, Action.SET_EXPIRY)
        ):
            raise ValidationError("That is not something a review can do.", code="action")
        if action and "status" in self.changed_data:
            raise ValidationError(
                "Change the status either with the menu or with a button, not both.",
                code="action",
            )
        if not action and not state_edited:
            if self.note:
                self.add_error(
                    "workflow_note",
                    "A note goes with a change of state: use one of the buttons below "
                    "(for example “Submit for review”), or empty the note.",
                )
            return cleaned_data
        self._plan(action, cleaned_data)
        return cleaned_data

    def _plan(self, action, cleaned_data):
        review = self._probe()
        if self.instance._state.adding and not action:
            if cleaned_data.get("status", Review.Status.DRAFT) == Review.Status.DRAFT:
                return  # a new draft, planned time or not, is no change of state
        if action == Action.PUBLISH:
            published_at = timezone.now()
        else:
            published_at = self._time("published_at", cleaned_data)
        try:
            self.change = review_plan(
                review=review,
                action=action,
                status=None if action else cleaned_data.get("status", review.status),
                published_at=published_at,
                expires_at=self._time("expires_at", cleaned_data),
                by=self.user,
                note=self.note,
            )
        except TransitionRefused as refusal:
            field = {"time": "published_at", "expiry": "expires_at", "note": "workflow_note"}.get(
                refusal.code
            )
            self.add_error(field if field in self.fields else None, refusal.message)
            return
        if self.change is None and action:
            self.add_error(
                None, f"Nothing to change: “{review}” is already {review.state.label.lower()}."
            )

    def _time(self, name, cleaned_data):
        """The time as typed, when the user changed it; else the review's own."""
        if name in self.fields and name in self.changed_data:
            return cleaned_data.get(name)
        return KEEP

    def clean_expires_at(self):
        if "expires_at" not in self.changed_data:
            return self.instance.expires_at
        return self.cleaned_data["expires_at"]


@admin.register(Review)
class ReviewAdmin(
    ScalingChangeListMixin,
    PictureStorageAdminMixin,
    ReviewHistoryMixin,
    ReviewPreviewAdminMixin,
    admin.ModelAdmin,
):
    formfield_overrides = {TaggableManager: {"form_class": KeywordsField}}
    form = ReviewAdminForm
    list_display = [
        "lead_thumbnail",
        "headline",
        "film",
        "displayed_byline",
        "rating",
        "state_display",
        "published_at",
        "is_live",
    ]
    list_filter = [
        StateListFilter,
        ("author", WriterListFilter),
        ("film", RecentRelatedListFilter),
        "film__genres",
        "is_demo",
    ]
    list_display_links = ["headline"]
    list_select_related = ["film", "author"]
    search_fields = ["headline", "film__title", "byline", "keywords__name"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["film"]
    prepopulated_fields = {"slug": ["headline"]}
    fieldsets = [
        (
            "Film and byline",
            {"fields": ["film", "headline", "standfirst", "slug", "byline", "author", "rating"]},
        ),
        (
            "Lead image",
            {
                "fields": [
                    "lead_image",
                    "lead_image_alt",
                    "lead_image_caption",
                    "lead_image_credit",
                    ("lead_image_focal_x", "lead_image_focal_y"),
                ]
            },
        ),
        ("Synopsis", {"fields": ["synopsis"]}),
        ("Critique", {"fields": ["critique"]}),
        ("Criticisms", {"fields": ["criticisms"]}),
        ("Conclusion", {"fields": ["conclusion"]}),
        # loaded_version is hidden: it guards against overwriting another editor's save.
        (
            "Publishing",
            {
                "fields": [
                    "status",
                    "published_at",
                    "expires_at",
                    "keywords",
                    "is_demo",
                    "loaded_version",
                ]
            },
        ),
    ]
    actions = ["submit_for_review", "publish_now", "unschedule", "unpublish", "return_to_draft"]
    change_list_template = "admin/reviews/review/change_list.html"
    change_form_template = "admin/reviews/review/change_form.html"

    class Media:
        # A copy of what the writer types, kept in the browser until it is saved.
        css = {"all": ["reviews/admin/review_backup.css"]}
        js = ["reviews/admin/review_backup.js"]

    def get_changelist(self, request, **kwargs):
        return ReviewChangeList

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(import_document_view),
                name="reviews_review_import",
            ),
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="reviews_review_dashboard",
            ),
        ]
        return [*urls, *super().get_urls()]

    # Who may do what: editors everything; writers their own reviews, which they may change
    # while drafts or sent back (reviews.workflow says so, for the admin and the workflow).

    def get_queryset(self, request):
        live = Review.objects.published().filter(pk=OuterRef("pk"))
        reviews = super().get_queryset(request).annotate(live=Exists(live))
        if not user_is_editor(request.user):
            reviews = reviews.filter(author=request.user)
        return reviews

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or user_can_view(obj, request.user))

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or user_can_edit(obj, request.user))

    def has_publish_permission(self, request):
        return user_is_editor(request.user)

    def get_readonly_fields(self, request, obj=None):
        if user_is_editor(request.user):
            return super().get_readonly_fields(request, obj)
        return [*super().get_readonly_fields(request, obj), *STATE_FIELDS, "author"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("author", request.user.pk)
        return initial

    # The change form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            review = self.get_object(request, unquote(object_id))
            if review is not None and not self.has_change_permission(request, review):
                if self.has_view_permission(request, review):
                    return self._refuse(
                        request,
                        review,
                        f"“{review}” is {review.state.label.lower()}: only an editor can "
                        "change it now. Nothing was saved.",
                    )
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        review = self.get_object(request, unquote(object_id))
        if review is not None and not self.has_delete_permission(request, review):
            if self.has_view_permission(request, review):
                return self._refuse(request, review, "Only editors delete reviews.")
        return super().delete_view(request, object_id, extra_context)

    def _refuse(self, request, review, message):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Not allowed",
            "original": review,
            "message": message,
        }
        return TemplateResponse(request, "admin/reviews/review/refused.html", context, status=403)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        review = obj or Review(status=Review.Status.DRAFT, author_id=request.user.pk)
        may_act = add or self.has_change_permission(request, obj)
        history = list(obj.transitions.select_related("by")) if obj else []
        sent_back = [change for change in history if change.action == Action.SEND_BACK]
        context.update(
            workflow_buttons=allowed_transitions(review, request.user) if may_act else [],
            workflow_note=context["adminform"].form["workflow_note"] if may_act else None,
            review_state=review.state,
            review_history=history,
            sent_back_note=sent_back[0] if sent_back and review.state == State.SENT_BACK else None,
            time_zone=settings.TIME_ZONE,
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        if obj.author_id is None:
            obj.author = request.user
        planned = form.change
        if not change:
            if planned:
                obj.status, obj.published_at = planned.status, planned.published_at
                obj.expires_at = planned.expires_at
            review_create(review=obj, by=request.user, note=form.note)
            self._say_done(request, obj, planned)
            return
        if planned:
            # The state through the workflow first, which bumps the version the form was
            # opened with; the save then writes the other fields, and that same version.
            try:
                # The status menu's change is logged as such; a button's by its action.
                move = {"status": planned.status} if form.by_status else {"action": planned.action}
                review_transition(
                    review=obj,
                    published_at=planned.published_at,
                    expires_at=planned.expires_at,
                    by=request.user,
                    note=form.note,
                    **move,
                )
            except TransitionRefused as refusal:
                # Only if the review's time came between the check and now.
                self.message_user(request, f"{refusal.message} The text was saved.", "error")
            else:
                self._say_done(request, obj, planned)
        super().save_model(request, obj, form, change)

    def _say_done(self, request, review, planned):
        # A button says what it did; a change in the status menu gets Django's "changed".
        if planned is None or not request.POST.get("_workflow"):
            return
        message = f"“{review}” was {planned.transition.done}."
        if planned.to_state == State.SCHEDULED:
            when = timezone.localtime(planned.published_at)
            message += f" It goes live on {when:%Y-%m-%d at %H:%M} ({settings.TIME_ZONE})."
        self.message_user(request, message, messages.SUCCESS)

    def response_add(self, request, obj, post_url_continue=None):
        if request.POST.get("_workflow"):
            return self._back_to_the_review(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if request.POST.get("_workflow"):
            return self._back_to_the_review(request, obj)
        return super().response_change(request, obj)

    def _back_to_the_review(self, request, review):
        url = reverse("admin:reviews_review_change", args=[review.pk])
        return HttpResponseRedirect(url)

    def view_on_site(self, obj):
        """Only live reviews have a public page; drafts and scheduled ones would 404."""
        return obj.get_absolute_url() if obj.is_public() else None

    # The list

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "state_counts": self._state_counts(request)}
        return super().changelist_view(request, extra_context)

    def _state_counts(self, request):
        """How many reviews the user can see are in each state, in one query."""
        now = timezone.now()
        conditions = {
            value: Q(live=True) if value == "live" else Review.state_condition(State(value), now)
            for value, _ in STATE_FILTER
        }
        # Named apart from the "live" annotation the conditions read.
        counts = self.get_queryset(request).aggregate(
            **{f"n_{value}": Count("pk", filter=q) for value, q in conditions.items()}
        )
        current = request.GET.get(StateListFilter.parameter_name)
        return [
            {"value": v, "label": label, "count": counts[f"n_{v}"], "current": v == current}
            for v, label in STATE_FILTER
        ]

    @admin.display(description="lead image")
    def lead_thumbnail(self, review):
        picture = review.lead_picture
        if picture is None:
            return None
        return thumbnail(picture, note=LEAD_FALLBACK.get(picture.file.field.name, ""))

    @admin.display(description="byline", ordering="byline")
    def displayed_byline(self, review):
        return review.displayed_byline

    @admin.display(description="state", ordering="status")
    def state_display(self, review):
        return review.state.label

    @admin.display(description="live", boolean=True, ordering="live")
    def is_live(self, review):
        return review.live

    # Bulk actions: the workflow checks each review; those the action does not fit are left.

    def _run_bulk(self, request, queryset, bulk, done, **kwargs):
        selected = queryset.count()
        try:
            changed = bulk(reviews=queryset, by=request.user, **kwargs)
        except TransitionRefused as refusal:
            self.message_user(request, f"{refusal.message} Nothing was changed.", "error")
            return None
        message = f"{done.format(n=len(changed))}"
        if left := selected - len(changed):
            message += f" {left} left as they were: the action does not apply to their state."
        self.message_user(request, message, messages.SUCCESS)
        return changed

    @admin.action(description="Submit for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        self._run_bulk(request, queryset, reviews_submit, "Submitted {n} review(s) for review.")

    @admin.action(description="Publish (at the planned time, or now)", permissions=["publish"])
    def publish_now(self, request, queryset):
        selected = queryset.count()
        try:
            published = reviews_publish(reviews=queryset, by=request.user)
        except TransitionRefused as refusal:
            self.message_user(request, f"{refusal.message} Nothing was changed.", "error")
            return
        message = f"Published {len(published)} review(s)."
        now = timezone.now()
        if scheduled := sum(review.published_at > now for review in published):
            message += f" {scheduled} will go live at their publication time."
        if left := selected - len(published):
            message += f" {left} left as they were (already published, or no longer ready)."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Unschedule (back to in review)", permissions=["publish"])
    def unschedule(self, request, queryset):
        self._run_bulk(request, queryset, reviews_unschedule, "Unscheduled {n} review(s).")

    @admin.action(description="Unpublish", permissions=["publish"])
    def unpublish(self, request, queryset):
        self._run_bulk(request, queryset, reviews_unpublish, "Unpublished {n} review(s).")

    @admin.action(description="Return to draft", permissions=["publish"])
    def return_to_draft(self, request, queryset):
        self._run_bulk(
            request, queryset, reviews_return_to_draft, "Returned {n} review(s) to draft."
        )

    # The editorial dashboard

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        reviews = Review.objects.select_related("film", "author")
        if not user_is_editor(request.user):
            reviews = reviews.filter(author=request.user)
        mine = reviews.filter(author=request.user)
        sent_back = ReviewTransition.objects.filter(
            review=OuterRef("pk"), action=Action.SEND_BACK
        ).order_by("-at", "-pk")
        submitted = ReviewTransition.objects.filter(
            review=OuterRef("pk"), to_state=State.IN_REVIEW
        ).order_by("-at", "-pk")
        horizon = now + timedelta(weeks=SCHEDULE_WEEKS)
        scheduled = list(
            reviews.in_state(State.SCHEDULED, now=now)
            .filter(published_at__lt=horizon)
            .order_by("published_at", "pk")
        )
        by_day = defaultdict(list)
        for review in scheduled:
            by_day[timezone.localtime(review.published_at).date()].append(review)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Editorial dashboard",
            "now": now,
            "time_zone": settings.TIME_ZONE,
            "sent_back_to_me": mine.in_state(State.SENT_BACK, now=now)
            .annotate(
                note=Subquery(sent_back.values("note")[:1]),
                sent_back_at=Subquery(sent_back.values("at")[:1]),
            )
            .order_by("-updated_at"),
            "my_drafts": mine.in_state(State.DRAFT, now=now).order_by("-updated_at"),
            "waiting": reviews.in_state(State.IN_REVIEW, now=now)
            .annotate(submitted_at=Subquery(submitted.values("at")[:1]))
            .order_by("submitted_at", "pk"),
            "scheduled_by_day": sorted(by_day.items()),
            "schedule_weeks": SCHEDULE_WEEKS,
            "scheduled_later": reviews.in_state(State.SCHEDULED, now=now)
            .filter(published_at__gte=horizon)
            .count(),
            "recent": reviews.filter(pk__in=Review.objects.published().values("pk"))
            .filter(published_at__gte=now - timedelta(days=RECENT_DAYS))
            .order_by("-published_at")[:20],
            "recent_days": RECENT_DAYS,
            "is_editor": user_is_editor(request.user),
        }
        return TemplateResponse(request, "admin/reviews/review/dashboard.html", context)
