"""The review admin's revisions: every save in the admin keeps one, and the review's history
page lists them, compares any of them with the current review and restores one as a new draft.

Who may do what (the history holds drafts and editors' revisions, so not every staff user):
- see the history and the comparisons: editors (superusers, or ``reviews.publish_review``) and
  the review's writer (its author);
- restore: editors, whatever the review's state (a published review returns to draft); the
  writer only while the review is a draft, which they may edit anyway, so that a writer never
  changes a review's state this way.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import reversion
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import capfirst

from films.models import Film
from reviews.models import Review
from reviews.revisions import (
    PROSE,
    RestoreError,
    Snapshot,
    review_diff,
    review_restore,
    review_versions,
    version_keywords,
    version_number,
)
from reviews.workflow import user_is_editor

# The states in which a writer may restore their own review (those they may edit).
WRITER_RESTORE_STATES = {Review.Status.DRAFT}


def is_editor(user) -> bool:
    return user_is_editor(user)


class ReviewHistoryMixin:
    """For the review's ModelAdmin: revision blocks around its views, and the history pages."""

    revisions_per_page = 100

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with self._revision(request):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        # Bulk actions: reviews.workflow records the reviews it changes; this names who did it.
        with self._revision(request):
            return super().changelist_view(request, extra_context)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message() or "Added.")
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message())
        return entry

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/history/<int:version_id>/",
                view(self.revision_view),
                name=f"{prefix}_revision",
            ),
            path(
                "<path:object_id>/history/<int:version_id>/restore/",
                view(self.revision_restore_view),
                name=f"{prefix}_revision_restore",
            ),
            *super().get_urls(),
        ]

    def has_history_permission(self, request, review) -> bool:
        user = request.user
        return self.has_view_or_change_permission(request, review) and (
            is_editor(user) or review.author_id == user.pk
        )

    def has_restore_permission(self, request, review) -> bool:
        if not self.has_history_permission(request, review):
            return False
        if not self.has_change_permission(request, review):
            return False
        return is_editor(request.user) or review.status in WRITER_RESTORE_STATES

    # Views ------------------------------------------------------------------------------------

    def history_view(self, request, object_id, extra_context=None):
        """Each revision: who saved it and when, the state and headline it had, and a link to
        compare it with the current review."""
        review = self._history_review(request, object_id)
        page = Paginator(review_versions(review), self.revisions_per_page).get_page(
            request.GET.get("p")
        )
        newest = page.paginator.count - page.start_index() + 1
        rows = [
            {
                "number": newest - index,
                "revision": version.revision,
                "fields": version.field_dict,
                "url": self._revision_url(review, version),
            }
            for index, version in enumerate(page)
        ]
        for row in rows:
            status = row["fields"].get("status")
            row["status"] = Review.Status(status).label if status in Review.Status else status
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {review}",
            "subtitle": None,
            "opts": self.opts,
            "object": review,
            "rows": rows,
            "page": page,
            "can_restore": self.has_restore_permission(request, review),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/reviews/review/revision_history.html", context)

    def revision_view(self, request, object_id, version_id):
        """One revision against the current review, section by section."""
        review = self._history_review(request, object_id)
        version = get_object_or_404(review_versions(review), pk=version_id)
        number = version_number(version)
        old = Snapshot.of_version(version, version_keywords(version))
        current = Snapshot.of_review(review)
        films = Film.objects.in_bulk({old.film, current.film} - {None})
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revision {number} of “{review}”",
            "subtitle": None,
            "opts": self.opts,
            "object": review,
            "version": version,
            "number": number,
            "sections": review_diff(old, current, films),
            "prose": PROSE,
            "can_restore": self.has_restore_permission(request, review),
            "restore_url": reverse(
                f"{self.admin_site.name}:reviews_review_revision_restore",
                args=[review.pk, version.pk],
            ),
            "history_url": reverse(
                f"{self.admin_site.name}:reviews_review_history", args=[review.pk]
            ),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/reviews/review/revision_diff.html", context)

    def revision_restore_view(self, request, object_id, version_id):
        """POST: the revision's text becomes the review's, as a new draft revision."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        review = self._history_review(request, object_id)
        version = get_object_or_404(review_versions(review), pk=version_id)
        if not self.has_restore_permission(request, review):
            raise PermissionDenied
        try:
            loaded = int(request.POST.get("loaded_version", ""))
        except ValueError:
            loaded = -1  # a form without its version is treated as stale
        diff_url = self._revision_url(review, version)
        number = version_number(version)
        try:
            result = review_restore(
                review=review, version=version, by=request.user, loaded_version=loaded
            )
        except RestoreError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(diff_url)
        self.log_change(request, result.review, f"Restored revision {number} as a new draft.")
        messages.success(
            request,
            f"Restored revision {number} as a new draft; the earlier revisions are kept in the "
            "history.",
        )
        for warning in result.warnings:
            messages.warning(request, warning)
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:reviews_review_change", args=[review.pk])
        )

    @contextmanager
    def _revision(self, request) -> Iterator[None]:
        """A revision block for what a POST saves, by the user who sent it."""
        if request.method != "POST":
            yield
            return
        with reversion.create_revision():
            reversion.set_user(request.user)
            yield

    def _history_review(self, request, object_id) -> Review:
        review = self.get_object(request, unquote(object_id))
        if review is None:
            raise Http404(f"No {capfirst(self.opts.verbose_name)} with ID “{object_id}”.")
        if not self.has_history_permission(request, review):
            raise PermissionDenied
        return review

    def _revision_url(self, review, version) -> str:
        return reverse(
            f"{self.admin_site.name}:reviews_review_revision", args=[review.pk, version.pk]
        )
