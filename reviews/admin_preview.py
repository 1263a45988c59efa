"""Previews in the admin: a "Preview" button on a review that is not public, and shared
preview links (made, listed and revoked by editors only; see reviews.preview).

Kept apart from ReviewAdmin, which only mixes in ``ReviewPreviewAdminMixin``.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format

from reviews.models import PreviewLink
from reviews.preview import can_preview, is_editor, preview_link_create, preview_link_revoke


class PreviewLinkForm(forms.ModelForm):
    days = forms.IntegerField(
        min_value=1,
        help_text="How long the link works. After that, it shows a page saying it has expired.",
    )

    class Meta:
        model = PreviewLink
        fields = ["review"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        longest = settings.FILMMAG_PREVIEW_LINK_DAYS
        self.fields["days"].max_value = longest
        self.fields["days"].validators.append(MaxValueValidator(longest))
        self.fields["days"].widget.attrs["max"] = longest
        self.fields["days"].initial = longest
        self.fields["days"].help_text += f" At most {longest} days."

    def clean_review(self):
        review = self.cleaned_data["review"]
        if review.is_public():
            raise forms.ValidationError(
                "This review is already live: share its address on the site instead."
            )
        return review


class LinkStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.live()
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(PreviewLink)
class PreviewLinkAdmin(admin.ModelAdmin):
    """Every preview link, for editors: a link is made here (usually from a review's page, with
    the review filled in), never changed, and revoked rather than deleted."""

    form = PreviewLinkForm
    fields = ["review", "days"]
    readonly_fields = ["link_url", "created_by", "created_at", "expires_at", "revoked_at"]
    list_display = ["review", "link_url", "created_by", "created_at", "expires_at", "state"]
    list_filter = [LinkStateFilter, ("created_by", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["review", "created_by"]
    search_fields = ["review__headline", "=token"]
    autocomplete_fields = ["review"]
    date_hierarchy = "created_at"

    # Only editors see, make and revoke links; nobody edits one.
    def has_module_permission(self, request):
        return is_editor(request.user)

    def has_view_permission(self, request, obj=None):
        return is_editor(request.user)

    def has_add_permission(self, request):
        return is_editor(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a review deletes its links: editors may, as they may delete reviews.
        return is_editor(request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return ["review", "link_url", "created_by", "created_at", "expires_at", "revoked_at"]

    def get_urls(self):
        revoke = path(
            "<int:object_id>/revoke/",
            self.admin_site.admin_view(self.revoke_view),
            name="reviews_previewlink_revoke",
        )
        return [revoke, *super().get_urls()]

    def save_form(self, request, form, change):
        # The link is made, token and expiry included, by the one function that makes links.
        return preview_link_create(
            review=form.cleaned_data["review"], by=request.user, days=form.cleaned_data["days"]
        )

    def save_model(self, request, obj, form, change):
        """Saved by ``save_form()``."""

    def save_related(self, request, form, formsets, change):
        """A link has no related rows."""

    def response_add(self, request, obj, post_url_continue=None):
        url = request.build_absolute_uri(obj.get_absolute_url())
        until = date_format(timezone.localtime(obj.expires_at), "j F Y, H:i")
        self.message_user(
            request,
            f"Preview link for “{obj.review}”, working until {until} "
            f"({timezone.get_current_timezone_name()}): {url}",
            messages.SUCCESS,
        )
        return redirect(review_change_url(obj.review_id))

    def revoke_view(self, request, object_id):
        if not is_editor(request.user):
            raise PermissionDenied
        link = get_object_or_404(PreviewLink.objects.select_related("review"), pk=object_id)
        if request.method == "POST":
            preview_link_revoke(link=link, by=request.user)
            self.message_user(
                request, f"The preview link for “{link.review}” no longer works.", messages.SUCCESS
            )
            return redirect(review_change_url(link.review_id))
        context = {
            **self.admin_site.each_context(request),
            "title": "Revoke the preview link?",
            "opts": self.opts,
            "link": link,
            "link_url": request.build_absolute_uri(link.get_absolute_url()),
        }
        return TemplateResponse(request, "admin/reviews/previewlink/revoke.html", context)

    @admin.display(description="link")
    def link_url(self, link):
        return link.get_absolute_url()

    @admin.display(description="state")
    def state(self, link):
        if link.revoked_at:
            return "Revoked"
        return "Live" if link.is_live() else "Expired"


def review_change_url(review_id) -> str:
    return reverse("admin:reviews_review_change", args=[review_id]) + "#preview-links"


class PreviewLinkInline(admin.TabularInline):
    """The review's live preview links, on its change page, for editors. A list, with no
    forms: links are made and revoked on pages of their own (a form cannot sit inside the
    review's form), so nothing typed in the review is sent along."""

    model = PreviewLink
    template = "admin/reviews/review/preview_links.html"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["expires_at"]
    verbose_name_plural = "preview links"

    class Media:
        js = ["filmmag/admin/preview_links.js"]

    def has_view_permission(self, request, obj=None):
        return obj is not None and is_editor(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        live = obj.preview_links.live().select_related("created_by") if obj else []
        return type(
            formset.__name__,
            (formset,),
            {
                "live_links": [
                    (link, request.build_absolute_uri(link.get_absolute_url())) for link in live
                ],
                "share_url": reverse("admin:reviews_previewlink_add") + f"?review={obj.pk}",
                "time_zone": timezone.get_current_timezone_name(),
            },
        )


class ReviewPreviewAdminMixin:
    """For ReviewAdmin: the "Preview" button and the preview links section."""

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        # The links section is a list that sends nothing back: left out of a save (POST), it
        # needs no management form there, and saves of the review stay as they were.
        # Added here rather than in ``inlines``, so revision libraries that follow a model
        # admin's inlines (django-reversion's VersionAdmin) do not version preview links.
        if request.method == "POST":
            return inlines
        return [*inlines, PreviewLinkInline]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and can_preview(request.user, obj):
            # Shown, by change_form_object_tools.html, when "View on site" is not.
            context["preview_url"] = obj.get_absolute_url()
        return super().render_change_form(request, context, add, change, form_url, obj)
