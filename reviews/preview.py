"""Previews: a review that is not public, on its real page, for those allowed to see it.

Who: the review's writer and editors (logged in, at the review's own address), and anyone
holding a live preview link an editor shared (``/preview/<token>/``). Everyone else gets the
404 readers get. A preview is never cached or indexed, and a shared link's address is not
passed on as a referrer.

Editors are superusers and holders of ``reviews.publish_review`` (the Editors group), as
reviews.workflow's ``user_is_editor()`` says; previews also ask for a staff account.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

from reviews.models import PreviewLink, Review
from reviews.workflow import user_is_editor, user_is_writer_of

type User = AbstractBaseUser | AnonymousUser


def is_editor(user: User) -> bool:
    """Editors and superusers, with a staff account: they preview every review and share
    preview links. reviews.workflow decides who is an editor."""
    return user.is_staff and user_is_editor(user)


def can_preview(user: User, review: Review) -> bool:
    """May ``user`` read ``review`` before it is public? Its writer and editors may."""
    if not (user.is_authenticated and user.is_staff):
        return False
    return is_editor(user) or user_is_writer_of(review, user)


def previewable_by(user: User) -> QuerySet[Review]:
    """The reviews ``user`` may preview, as ``can_preview()`` decides, as a QuerySet."""
    if not (user.is_authenticated and user.is_staff):
        return Review.objects.none()
    if is_editor(user):
        return Review.objects.all()
    # A writer previews the reviews they are the writer of, as the workflow defines one.
    if user_is_writer_of(Review(author_id=user.pk), user):
        return Review.objects.filter(author_id=user.pk)
    return Review.objects.none()


@dataclass(frozen=True)
class Preview:
    """What the banner on a preview says."""

    state: str
    goes_live: datetime | None = None
    link_expires: datetime | None = None


def preview_of(review: Review, *, link: PreviewLink | None = None) -> Preview:
    state = review.state
    return Preview(
        state.label,
        goes_live=review.published_at if state == Review.State.SCHEDULED else None,
        link_expires=link.expires_at if link else None,
    )


def mark_private(response: HttpResponse, *, shared_link: bool = False) -> HttpResponse:
    """Headers for a preview: no cache may keep it, no search engine index it, and a shared
    link's secret address goes to no other site, nor to this one's logs as a referrer."""
    patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, ["Cookie"])
    response["X-Robots-Tag"] = "noindex"
    if shared_link:
        response["Referrer-Policy"] = "no-referrer"
    return response


def preview_link_create(*, review: Review, by: User, days: int | None = None) -> PreviewLink:
    """A link that opens ``review`` for ``days`` (at most, and by default,
    ``FILMMAG_PREVIEW_LINK_DAYS``). Only editors make them."""
    if not is_editor(by):
        raise PermissionDenied("Only editors can share preview links.")
    longest = settings.FILMMAG_PREVIEW_LINK_DAYS
    days = longest if days is None else days
    if not 1 <= days <= longest:
        raise ValueError(f"A preview link lasts from 1 to {longest} days, not {days}.")
    now = timezone.now()
    return PreviewLink.objects.create(
        review=review,
        token=secrets.token_urlsafe(32),
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )


def preview_link_revoke(*, link: PreviewLink, by: User) -> PreviewLink:
    """Stop ``link`` from opening its review, from now on. Only editors revoke links."""
    if not is_editor(by):
        raise PermissionDenied("Only editors can revoke preview links.")
    # The first revocation stands: revoking twice keeps its time and editor.
    PreviewLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    link.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return link
