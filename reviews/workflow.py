"""A review's state, its status and publication time, changes here and nowhere else.

Every change locks the rows it changes, bumps their ``version`` (so a change form opened
before it goes stale, see films.forms), stamps ``updated_at``, and then tells the catalogue
cache once that what readers see has changed: the writes are UPDATEs, which send no signals.
``Review.save()`` and the review QuerySet's bulk writes refuse status and publication time
outside this module, so a new caller cannot forget.

``reviews_transition()`` is the core: per-action functions (publish, return to draft) and the
admin's change form call it. The editorial workflow extends its loop over the locked rows,
which is where allowed moves, permission checks and a record of each change belong.
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Final

import reversion
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone

from films.cache import catalogue_changed
from films.models import REVISION_PREFETCH
from reviews.models import STATE_FIELDS, Review, allow_state_writes

logger = logging.getLogger(__name__)


class _Keep:
    def __repr__(self):
        return "KEEP"


KEEP: Final = _Keep()
"""As ``published_at``: leave each review's publication time as it is."""

type Editor = AbstractBaseUser | None


def review_create(*, review: Review, by: Editor = None) -> Review:
    """Save a new review in the state it was built with: a draft unless it says otherwise.

    A published review without a publication time is published now.
    """
    if not review._state.adding:
        raise ValueError("review_create() saves new reviews; change one with review_transition()")
    _default_publication_time(review, timezone.now())
    with transaction.atomic(), allow_state_writes():
        review.save()
        _keep_revisions([review], by, "Created.")
        # A new draft changes nothing readers see: no new catalogue version, no log line.
        draft = review.is_draft_without_time()
        _log(
            f"created as {review.status}",
            [review],
            by,
            level=logging.DEBUG if draft else logging.INFO,
        )
        if not draft:
            _visibility_changed()
    return review


def reviews_create(*, reviews: Iterable[Review], by: Editor = None) -> list[Review]:
    """``review_create()`` for many reviews in one INSERT, for seeding. ``bulk_create`` makes
    no slugs, so each review needs its own."""
    reviews = list(reviews)
    if not all(review.slug for review in reviews):
        raise ValueError("reviews_create() needs each review's slug; review_create() makes one")
    now = timezone.now()
    for review in reviews:
        _default_publication_time(review, now)
    with transaction.atomic(), allow_state_writes():
        created = Review.objects.bulk_create(reviews)
        _keep_revisions(created, by, "Created.")
        _log("created", created, by)
        _visibility_changed()
    return created


def review_publish(*, review: Review, at: datetime | None = None, by: Editor = None) -> Review:
    """Publish ``review``: at ``at`` if given (a future time schedules it), else at the time it
    already has, else now."""
    return review_transition(
        review=review, status=Review.Status.PUBLISHED, published_at=at or KEEP, by=by
    )


def reviews_publish(
    *, reviews: QuerySet[Review], at: datetime | None = None, by: Editor = None
) -> list[Review]:
    """``review_publish()`` for each of ``reviews``; returns those that changed."""
    return reviews_transition(
        reviews=reviews, status=Review.Status.PUBLISHED, published_at=at or KEEP, by=by
    )


def review_return_to_draft(*, review: Review, by: Editor = None) -> Review:
    """Take ``review`` off the site; its publication time is kept for when it is published
    again."""
    return review_transition(review=review, status=Review.Status.DRAFT, by=by)


def reviews_return_to_draft(*, reviews: QuerySet[Review], by: Editor = None) -> list[Review]:
    """``review_return_to_draft()`` for each of ``reviews``; returns those that changed."""
    return reviews_transition(reviews=reviews, status=Review.Status.DRAFT, by=by)


def review_transition(
    *,
    review: Review,
    status: Review.Status,
    published_at: datetime | None | _Keep = KEEP,
    by: Editor = None,
) -> Review:
    """Give the saved ``review`` this status and publication time; ``review`` itself is updated.

    Only the state is written, from the row as stored: other unsaved changes to ``review`` stay
    unsaved (the admin's change form saves them afterwards).
    """
    if review.pk is None:
        raise ValueError("review_transition() changes saved reviews; use review_create()")
    rows = Review.objects.filter(pk=review.pk)
    for row in reviews_transition(reviews=rows, status=status, published_at=published_at, by=by):
        for name in (*STATE_FIELDS, "version", "updated_at"):
            setattr(review, name, getattr(row, name))
        review._remember_state()
    return review


def reviews_transition(
    *,
    reviews: QuerySet[Review],
    status: Review.Status,
    published_at: datetime | None | _Keep = KEEP,
    by: Editor = None,
) -> list[Review]:
    """Give each of ``reviews`` this status and publication time (KEEP: its own), all or none.

    Returns the reviews that changed, with their new state and version; other fields load on
    access. Reviews already in that state are left alone: no write, no new version.
    """
    now = timezone.now()
    with transaction.atomic():
        # Locked in primary-key order, so two bulk changes cannot deadlock.
        rows = (
            Review.objects.filter(pk__in=reviews.order_by().values("pk"))
            .select_for_update()
            .order_by("pk")
            .only("pk", "film", *STATE_FIELDS, "version", "updated_at")
        )
        changed = []
        for review in rows:
            new_time = review.published_at if published_at is KEEP else published_at
            if status == Review.Status.PUBLISHED and new_time is None:
                new_time = now
            if (review.status, review.published_at) == (status, new_time):
                continue
            review.status, review.published_at = status, new_time
            review.version += 1
            review.updated_at = now
            changed.append(review)
        if changed:
            with allow_state_writes():
                Review.objects.bulk_update(changed, [*STATE_FIELDS, "version", "updated_at"])
            _keep_revisions(
                Review.objects.filter(pk__in=[review.pk for review in changed]),
                by,
                f"Status: {Review.Status(status).label}.",
            )
            _log(status, changed, by)
            _visibility_changed()
    return changed


def _default_publication_time(review: Review, now: datetime) -> None:
    if review.status == Review.Status.PUBLISHED and review.published_at is None:
        review.published_at = now


def _keep_revisions(reviews: Iterable[Review], by: Editor, comment: str) -> None:
    """A revision of each of ``reviews`` (loaded in full: the history shows every field). Within
    an enclosing revision block, such as the admin's, they join its revision and its comment;
    writes the block makes afterwards (the change form's text, keywords) replace these versions.
    Needed because the state is written with UPDATEs, which django-reversion does not see."""
    with reversion.create_revision():
        if by is not None:
            reversion.set_user(by)
        if not reversion.get_comment():
            reversion.set_comment(comment)
        # The keyword links the versions follow, in one query for all.
        reviews = list(reviews)
        prefetch_related_objects(reviews, *REVISION_PREFETCH)
        for review in reviews:
            reversion.add_to_revision(review)


def _visibility_changed() -> None:
    """What readers see may have changed: the film list's cached counts must go (now, and
    again on commit; not at all in an import's dry run, see films.cache)."""
    catalogue_changed()


def _log(change: str, reviews: list[Review], by: Editor, *, level: int = logging.INFO) -> None:
    if reviews:
        logger.log(
            level,
            "Reviews %s: %s by %s",
            ", ".join(str(review.pk) for review in reviews),
            change,
            by.get_username() if by else "the system",
        )
