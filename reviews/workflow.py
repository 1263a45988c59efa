"""A review's state, its status, publication and expiry time, changes here and nowhere else.

A review lives through these states (``Review.State``; "scheduled" is a published review whose
publication time has not come, so it goes live at that time with nothing to run; "expired" one
whose expiry time has passed, so it left the site the same way)::

    draft ──submit──▶ in review ──schedule──▶ scheduled ──(its time comes)──▶ published
      ▲                 │   ▲   ╲──publish now────────────────────────────────▶ │
      │            send back │   ╲                                               unpublish
      │                 ▼   │ unschedule                                          ▼
      │              sent back ──(writer edits)──submit──▶ in review        unpublished
      └──────────── return to draft (editors, from any state) ──────────────────┘
                                          published ──(its expiry time comes)──▶ expired

``TRANSITIONS`` is the table: each action, the states it starts from, the status it leads to
(or None: it stays) and who may take it: the review's own writer, or an editor
(``reviews.publish_review``; active superusers have every permission). ``by=None`` is the
system (the demo loader, scripts): the table applies, the roles do not.

Every change locks the rows it changes, checks the move against the table, bumps their
``version`` (so a change form opened before it goes stale, see films.forms), stamps
``updated_at``, records a ``ReviewTransition`` (who, when, the note), computes the review keys
of the films concerned again (their latest published rating and review time, which the film
list sorts by: ``film_review_keys_refresh``), and tells the catalogue cache once when what
readers see may have changed, and when it next changes by itself: the writes are UPDATEs,
which send no signals. ``Review.save()`` and the review QuerySet's bulk
writes refuse the state fields outside this module, so a new caller cannot forget.

A refused move raises ``TransitionRefused`` (a ``ValidationError``: a message for the user, and
a ``code``) and writes nothing. Bulk moves (``reviews_*``) skip reviews the action does not
apply to in their state, and refuse the whole batch if the user may not take it.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

import reversion
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone

from films.cache import schedule_changed
from films.models import REVISION_PREFETCH
from reviews.models import (
    STATE_FIELDS,
    Review,
    ReviewTransition,
    allow_state_writes,
    film_review_keys_refresh,
    review_state,
)

logger = logging.getLogger(__name__)

Status = Review.Status
State = Review.State
Action = ReviewTransition.Action


class _Keep:
    def __repr__(self):
        return "KEEP"


KEEP: Final = _Keep()
"""As ``published_at`` or ``expires_at``: leave each review's time as it is."""

type User = AbstractBaseUser | AnonymousUser | None

PUBLISH_PERMISSION: Final = "reviews.publish_review"


class Role(StrEnum):
    WRITER = "the review's writer"
    EDITOR = "editor"


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State]
    status: Status | None  # None: the status stays (a new planned or expiry time only)
    who: frozenset[Role]
    verb: str  # "only editors can <verb> reviews"
    done: str  # "“Vertigo” was <done>."
    note_required: bool = False

    @property
    def label(self) -> str:
        return self.action.label


_WRITER_OR_EDITOR = frozenset({Role.WRITER, Role.EDITOR})
_EDITOR = frozenset({Role.EDITOR})
_NOT_LIVE = frozenset(
    {
        State.DRAFT,
        State.IN_REVIEW,
        State.SENT_BACK,
        State.SCHEDULED,
        State.EXPIRED,
        State.UNPUBLISHED,
    }
)

TRANSITIONS: Final[tuple[Transition, ...]] = (
    Transition(
        Action.SUBMIT,
        frozenset({State.DRAFT, State.SENT_BACK}),
        Status.IN_REVIEW,
        _WRITER_OR_EDITOR,
        "submit",
        "submitted for review",
    ),
    Transition(
        Action.SEND_BACK,
        frozenset({State.IN_REVIEW}),
        Status.SENT_BACK,
        _EDITOR,
        "send back",
        "sent back to its writer",
        note_required=True,
    ),
    # Scheduling needs a time in the future; publishing at a future time schedules.
    Transition(Action.SCHEDULE, _NOT_LIVE, Status.PUBLISHED, _EDITOR, "schedule", "scheduled"),
    Transition(Action.PUBLISH, _NOT_LIVE, Status.PUBLISHED, _EDITOR, "publish", "published"),
    Transition(
        Action.UNSCHEDULE,
        frozenset({State.SCHEDULED}),
        Status.IN_REVIEW,
        _EDITOR,
        "unschedule",
        "unscheduled and is in review again",
    ),
    Transition(
        Action.UNPUBLISH,
        frozenset({State.PUBLISHED, State.EXPIRED}),
        Status.UNPUBLISHED,
        _EDITOR,
        "unpublish",
        "unpublished",
    ),
    Transition(
        Action.RETURN_TO_DRAFT,
        frozenset(State) - {State.DRAFT},
        Status.DRAFT,
        _EDITOR,
        "return to draft",
        "returned to draft",
    ),
    # Not a button: an editor changing the planned time of a review not yet published.
    Transition(
        Action.PLAN,
        frozenset({State.DRAFT, State.IN_REVIEW, State.SENT_BACK, State.UNPUBLISHED}),
        None,
        _EDITOR,
        "plan the publication time of",
        "given a new planned publication time",
    ),
    # Not a button either: the expiry time in the editors' Publishing section.
    Transition(
        Action.SET_EXPIRY,
        frozenset(State),
        None,
        _EDITOR,
        "set the expiry time of",
        "given a new expiry time",
    ),
)
TRANSITION: Final = {transition.action: transition for transition in TRANSITIONS}

# What the review's own writer may still change; editors may change any review.
WRITER_EDITABLE_STATES: Final = frozenset({State.DRAFT, State.SENT_BACK})

_STATE_PHRASE = {
    State.DRAFT: "a draft",
    State.IN_REVIEW: "in review",
    State.SENT_BACK: "sent back to its writer",
    State.SCHEDULED: "scheduled",
    State.PUBLISHED: "published",
    State.EXPIRED: "expired",
    State.UNPUBLISHED: "unpublished",
}


class TransitionRefused(ValidationError):
    """A move the table or the user's role does not allow; nothing was written.

    ``code``: "state" (not from the review's state), "permission" (not for this user), "note"
    (sending back needs one), "time" (the publication time does not fit the move), "expiry"
    (the expiry time is not after the publication time).
    """

    def __init__(self, message: str, *, code: str):
        super().__init__(message, code=code)


@dataclass(frozen=True)
class Change:
    """What a move will do to one review."""

    action: Action
    from_state: State
    to_state: State
    status: Status
    published_at: datetime | None
    expires_at: datetime | None

    @property
    def transition(self) -> Transition:
        return TRANSITION[self.action]


# Who may


def user_is_editor(user: User) -> bool:
    """Editors (``reviews.publish_review``) and active superusers."""
    return user is not None and user.is_authenticated and user.has_perm(PUBLISH_PERMISSION)


def user_is_writer_of(review: Review, user: User) -> bool:
    """The review's own writer (its ``author``), with the right to change reviews."""
    return (
        user is not None
        and user.is_authenticated
        and review.author_id == user.pk
        and user.has_perm("reviews.change_review")
    )


def user_can_edit(review: Review, user: User) -> bool:
    """Editors may change any review's text; its writer while it is a draft or sent back."""
    if user is None or not user.has_perm("reviews.change_review"):
        return False
    if user_is_editor(user):
        return True
    return user_is_writer_of(review, user) and review.state in WRITER_EDITABLE_STATES


def user_can_view(review: Review, user: User) -> bool:
    """Editors see every review in the admin; writers their own."""
    if user is None or not user.is_authenticated:
        return False
    return user_is_editor(user) or review.author_id == user.pk


def allowed_transitions(review: Review, user: User) -> list[Transition]:
    """The moves ``user`` may make on ``review`` in its state now: the admin's buttons (not
    the new planned or expiry times, which editors set in the form)."""
    state = review.state
    editor = user_is_editor(user)
    writer = user_is_writer_of(review, user)
    return [
        transition
        for transition in TRANSITIONS
        if transition.action not in (Action.PLAN, Action.SET_EXPIRY)
        and state in transition.sources
        and (editor or (writer and Role.WRITER in transition.who))
    ]


# Checking a move


def review_plan(
    *,
    review: Review,
    action: Action | None = None,
    status: Status | None = None,
    published_at: datetime | None | _Keep = KEEP,
    expires_at: datetime | None | _Keep = KEEP,
    by: User = None,
    note: str = "",
    now: datetime | None = None,
) -> Change | None:
    """What taking ``action`` (or moving to ``status``) would do to ``review`` as it is in
    hand; None if nothing would change. Raises ``TransitionRefused``; writes nothing.

    ``published_at``, ``expires_at``: KEEP, or the time wanted. Publishing without a time
    keeps a planned one, else takes now; a time in the future makes it a scheduling.
    """
    now = now or timezone.now()
    state = review.state_at(now)
    new_time = review.published_at if published_at is KEEP else published_at
    new_expiry = review.expires_at if expires_at is KEEP else expires_at
    if action is None:
        action = _action_for_status(review, status or review.status, new_time, new_expiry)
    transition = TRANSITION[action]
    system = by is None
    editor = system or user_is_editor(by)

    if not editor and Role.WRITER not in transition.who:
        raise TransitionRefused(f"Only editors can {transition.verb} reviews.", code="permission")

    new_status = transition.status or review.status
    if new_status == Status.PUBLISHED:
        new_time = new_time or now
        if action == Action.PUBLISH and new_time > now:
            action, transition = Action.SCHEDULE, TRANSITION[Action.SCHEDULE]
        if state == State.EXPIRED and expires_at is KEEP and transition.status:
            new_expiry = None  # published again: the expiry that took it off has done its work
    if (new_status, new_time, new_expiry) == (
        review.status,
        review.published_at,
        review.expires_at,
    ):
        return None

    if state not in transition.sources:
        raise TransitionRefused(
            f"“{review}” is {_STATE_PHRASE[state]}, so it can't be {transition.done}.",
            code="state",
        )
    if not editor and not user_is_writer_of(review, by):
        raise TransitionRefused(
            f"Only the review's writer or an editor can {transition.verb} it.", code="permission"
        )
    if not editor and (new_time, new_expiry) != (review.published_at, review.expires_at):
        raise TransitionRefused(
            "Only editors set the publication and expiry times.", code="permission"
        )
    if action == Action.SCHEDULE and new_time <= now:
        raise TransitionRefused(
            "To schedule a review, give it a publication time in the future; "
            "to publish it now, use “Publish now”.",
            code="time",
        )
    if new_status == Status.UNPUBLISHED and new_time is None:
        raise TransitionRefused("An unpublished review keeps its publication time.", code="time")
    _check_expiry(new_time, new_expiry)
    if transition.note_required and not note.strip():
        raise TransitionRefused(
            "Say what to change: sending a review back needs a note for the writer.", code="note"
        )
    return Change(
        action=action,
        from_state=state,
        to_state=review_state(new_status, new_time, new_expiry, now),
        status=new_status,
        published_at=new_time,
        expires_at=new_expiry,
    )


def _check_expiry(published_at: datetime | None, expires_at: datetime | None) -> None:
    """The database's review_expires_after_publication, as a message rather than an error."""
    if published_at and expires_at and expires_at <= published_at:
        raise TransitionRefused(
            "The expiry time must be after the publication time.", code="expiry"
        )


def _action_for_status(review: Review, status: Status, published_at, expires_at) -> Action:
    """The move a change in the editors' Publishing section stands for."""
    if (status, published_at) == (review.status, review.published_at):
        if expires_at != review.expires_at:
            return Action.SET_EXPIRY
    if status == Status.PUBLISHED:
        return Action.PUBLISH  # a scheduling when the time is in the future
    if status == review.status:
        return Action.PLAN
    if status == Status.IN_REVIEW and review.state == State.SCHEDULED:
        return Action.UNSCHEDULE
    return next(t.action for t in TRANSITIONS if t.status == status)


# Creating


def review_create(*, review: Review, by: User = None, note: str = "") -> Review:
    """Save a new review in the state it was built with: a draft unless it says otherwise.

    A review built as in review, published or scheduled is checked and recorded as that move
    from draft (a writer may create it in review; only editors published). A published review
    without a publication time is published now.
    """
    if not review._state.adding:
        raise ValueError("review_create() saves new reviews; change one with review_transition()")
    change = None
    _check_expiry(review.published_at, review.expires_at)
    if review.status != Status.DRAFT:
        wanted = review.status
        if wanted not in (Status.IN_REVIEW, Status.PUBLISHED):
            raise TransitionRefused(
                "A new review starts as a draft, in review, scheduled or published.",
                code="state",
            )
        review.status = Status.DRAFT
        change = review_plan(
            review=review,
            status=wanted,
            published_at=review.published_at,
            expires_at=review.expires_at,
            by=by,
            note=note,
        )
        review.status = wanted
        review.published_at = change.published_at
    with transaction.atomic(), allow_state_writes():
        review.save()
        if change:
            ReviewTransition.objects.create(
                review=review,
                action=change.action,
                from_state=change.from_state,
                to_state=change.to_state,
                published_at=change.published_at,
                expires_at=change.expires_at,
                by=_user(by),
                note=note,
            )
        _keep_revisions([review], by, "Created.")
        # A new draft changes nothing readers see: no new catalogue version, no log line.
        draft = review.is_draft_without_time()
        _log(
            f"created as {review.status}",
            [review],
            by,
            level=logging.DEBUG if draft else logging.INFO,
        )
        if review.status == Status.PUBLISHED:
            _visibility_changed([review.film_id])
    return review


def reviews_create(*, reviews: Iterable[Review], by: User = None) -> list[Review]:
    """``review_create()`` for many reviews in one INSERT, for seeding (``make bench``, the
    crawl): no role checks and no recorded transitions. ``bulk_create`` makes no slugs, so
    each review needs its own."""
    reviews = list(reviews)
    if not all(review.slug for review in reviews):
        raise ValueError("reviews_create() needs each review's slug; review_create() makes one")
    now = timezone.now()
    for review in reviews:
        if review.status == Status.PUBLISHED and review.published_at is None:
            review.published_at = now
        _check_expiry(review.published_at, review.expires_at)
    with transaction.atomic(), allow_state_writes():
        created = Review.objects.bulk_create(reviews)
        _keep_revisions(created, by, "Created.")
        _log("created", created, by)
        _visibility_changed(r.film_id for r in created if r.status == Status.PUBLISHED)
    return created


# The moves, one review at a time (raise TransitionRefused) and in bulk


def review_submit(*, review: Review, by: User = None, note: str = "") -> Review:
    return review_transition(review=review, action=Action.SUBMIT, by=by, note=note)


def review_send_back(*, review: Review, note: str, by: User = None) -> Review:
    return review_transition(review=review, action=Action.SEND_BACK, by=by, note=note)


def review_schedule(*, review: Review, at: datetime, by: User = None, note: str = "") -> Review:
    return review_transition(
        review=review, action=Action.SCHEDULE, published_at=at, by=by, note=note
    )


def review_publish(
    *, review: Review, at: datetime | None = None, by: User = None, note: str = ""
) -> Review:
    """Publish ``review``: at ``at`` if given (a future time schedules it), else at the time it
    already has, else now."""
    return review_transition(
        review=review, action=Action.PUBLISH, published_at=at or KEEP, by=by, note=note
    )


def review_unschedule(*, review: Review, by: User = None, note: str = "") -> Review:
    """Take a scheduled review back to in review; its time is kept as the planned one."""
    return review_transition(review=review, action=Action.UNSCHEDULE, by=by, note=note)


def review_unpublish(*, review: Review, by: User = None, note: str = "") -> Review:
    """Take ``review`` off the site; it keeps its publication time for a republication."""
    return review_transition(review=review, action=Action.UNPUBLISH, by=by, note=note)


def review_return_to_draft(*, review: Review, by: User = None, note: str = "") -> Review:
    """Back to its writer's desk; the publication time is kept for when it is published
    again."""
    return review_transition(review=review, action=Action.RETURN_TO_DRAFT, by=by, note=note)


def review_set_expiry(
    *, review: Review, expires_at: datetime | None, by: User = None, note: str = ""
) -> Review:
    """Take ``review`` off the site from ``expires_at`` on (None: keep it public); its status
    and publication time stay as they are."""
    return review_transition(
        review=review, action=Action.SET_EXPIRY, expires_at=expires_at, by=by, note=note
    )


def reviews_submit(*, reviews: QuerySet[Review], by: User = None) -> list[Review]:
    return reviews_transition(reviews=reviews, action=Action.SUBMIT, by=by)


def reviews_publish(
    *, reviews: QuerySet[Review], at: datetime | None = None, by: User = None
) -> list[Review]:
    """``review_publish()`` for each of ``reviews``; returns those that changed."""
    return reviews_transition(
        reviews=reviews, action=Action.PUBLISH, published_at=at or KEEP, by=by
    )


def reviews_unschedule(*, reviews: QuerySet[Review], by: User = None) -> list[Review]:
    return reviews_transition(reviews=reviews, action=Action.UNSCHEDULE, by=by)


def reviews_unpublish(*, reviews: QuerySet[Review], by: User = None) -> list[Review]:
    return reviews_transition(reviews=reviews, action=Action.UNPUBLISH, by=by)


def reviews_return_to_draft(*, reviews: QuerySet[Review], by: User = None) -> list[Review]:
    """``review_return_to_draft()`` for each of ``reviews``; returns those that changed."""
    return reviews_transition(reviews=reviews, action=Action.RETURN_TO_DRAFT, by=by)


# The core


def review_transition(
    *,
    review: Review,
    action: Action | None = None,
    status: Status | None = None,
    published_at: datetime | None | _Keep = KEEP,
    expires_at: datetime | None | _Keep = KEEP,
    by: User = None,
    note: str = "",
) -> Review:
    """Take ``action`` on the saved ``review`` (or move it to ``status``: the move that stands
    for, as the editors' status menu does); ``review`` itself is updated. Raises
    ``TransitionRefused``; a move that changes nothing does nothing.

    Only the state is written, from the row as stored: other unsaved changes to ``review`` stay
    unsaved (the admin's change form saves them afterwards).
    """
    if review.pk is None:
        raise ValueError("review_transition() changes saved reviews; use review_create()")
    rows = Review.objects.filter(pk=review.pk)
    changed = _transition(
        reviews=rows,
        action=action,
        status=status,
        published_at=published_at,
        expires_at=expires_at,
        by=by,
        note=note,
        strict=True,
    )
    for row in changed:
        for name in (*STATE_FIELDS, "version", "updated_at"):
            setattr(review, name, getattr(row, name))
        # The state alone: the film and rating in hand may be a form's, not yet saved.
        review._remember_state(STATE_FIELDS)
    return review


def reviews_transition(
    *,
    reviews: QuerySet[Review],
    action: Action | None = None,
    status: Status | None = None,
    published_at: datetime | None | _Keep = KEEP,
    expires_at: datetime | None | _Keep = KEEP,
    by: User = None,
    note: str = "",
) -> list[Review]:
    """``review_transition()`` for each of ``reviews``, all or none. Reviews the move does not
    apply to in their state, or that are already there, are left alone: no write, no new
    version. A move the user may not make on any of them refuses the whole batch.

    Returns the reviews that changed, with their new state and version; other fields load on
    access.
    """
    return _transition(
        reviews=reviews,
        action=action,
        status=status,
        published_at=published_at,
        expires_at=expires_at,
        by=by,
        note=note,
        strict=False,
    )


def _transition(
    *, reviews, action, status, published_at, expires_at, by, note, strict
) -> list[Review]:
    if (action is None) == (status is None):
        raise ValueError("Give either an action or a status.")
    now = timezone.now()
    with transaction.atomic():
        # Locked in primary-key order, so two bulk changes cannot deadlock.
        rows = (
            Review.objects.filter(pk__in=reviews.order_by().values("pk"))
            .select_for_update()
            .order_by("pk")
            .only("pk", "film", "author", "headline", *STATE_FIELDS, "version", "updated_at")
        )
        changed, records, descriptions = [], [], []
        films_changed = set()  # those with a review published before or after
        for review in rows:
            try:
                change = review_plan(
                    review=review,
                    action=action,
                    status=status,
                    published_at=published_at,
                    expires_at=expires_at,
                    by=by,
                    note=note,
                    now=now,
                )
            except TransitionRefused as refusal:
                if strict or refusal.code != "state":
                    raise
                continue
            if change is None:
                continue
            if Status.PUBLISHED in (review.status, change.status):
                films_changed.add(review.film_id)
            descriptions.append(_describe(review, change, status_given=status is not None))
            review.status, review.published_at = change.status, change.published_at
            review.expires_at = change.expires_at
            review.version += 1
            review.updated_at = now
            changed.append(review)
            records.append(
                ReviewTransition(
                    review=review,
                    action=change.action,
                    from_state=change.from_state,
                    to_state=change.to_state,
                    published_at=change.published_at,
                    expires_at=change.expires_at,
                    by=_user(by),
                    at=now,
                    note=note,
                )
            )
        if changed:
            with allow_state_writes():
                Review.objects.bulk_update(changed, [*STATE_FIELDS, "version", "updated_at"])
            _keep_revisions(
                Review.objects.filter(pk__in=[review.pk for review in changed]),
                by,
                "; ".join(str(d).capitalize() for d in dict.fromkeys(descriptions)) + ".",
            )
            ReviewTransition.objects.bulk_create(records)
            for description in dict.fromkeys(descriptions):
                same = [r for r, d in zip(changed, descriptions, strict=True) if d == description]
                _log(description, same, by)
            if films_changed:
                _visibility_changed(films_changed)
    return changed


def _describe(review: Review, change: Change, *, status_given: bool) -> str:
    """For the log: the new status (unless only the expiry was asked for), and the expiry."""
    parts = [str(change.status)] if status_given or change.action != Action.SET_EXPIRY else []
    if change.expires_at != review.expires_at:
        expiry = change.expires_at
        parts.append(f"expiry {expiry.isoformat() if expiry else 'removed'}")
    return ", ".join(parts) or "changed"


def _user(by: User):
    return by if by is not None and by.is_authenticated else None


def _keep_revisions(reviews: Iterable[Review], by: User, comment: str) -> None:
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


def _visibility_changed(film_ids: Iterable[int]) -> None:
    """What readers see of these films' reviews may have changed, and when it next changes by
    itself: their sort keys are computed again, and the film list's cached counts must go (now,
    and again on commit; not at all in an import's dry run, see films.cache)."""
    film_review_keys_refresh(film_ids=film_ids)
    schedule_changed()


def _log(change: str, reviews: list[Review], by: User, *, level: int = logging.INFO) -> None:
    if reviews:
        logger.log(
            level,
            "Reviews %s: %s by %s",
            ", ".join(str(review.pk) for review in reviews),
            change,
            by.get_username() if by else "the system",
        )
