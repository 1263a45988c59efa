"""The catalogue version: one cache key that any change to what the film list counts replaces.

Cached facet counts carry the version in their key, so a change makes them unreachable at
once. Some changes happen with no write at all: a scheduled review reaching its publication
time, or its expiry. So the version also knows the next such time (``next_change_at``, from
the providers that apps register with ``register_next_change``); a reader at or past it takes a
new version, and nothing is cached for longer than until then (``CatalogueVersion.timeout``).
The next change time is computed once per change (one query), not per request.

What an app stores from such rows (the film list's review sort keys) must follow them when
their time comes: ``register_due_refresh`` runs its refresh before a new version is made
whenever the previous one's next change has come, or no version is known (an emptied cache,
or none at all: then on every request, so that the keys are right without a cache).
"""

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.apps import apps
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.middleware.csp import get_nonce
from django.utils import timezone

# Holds (number, next_change_at): plain values, which unpickle whatever this module becomes.
# ":2" because the first format was a bare number.
VERSION_KEY = "catalogue-version:2"

type NextChangeProvider = Callable[[datetime], datetime | None]
type DueRefresh = Callable[[datetime], None]

_next_change_providers: list[NextChangeProvider] = []
_due_refreshes: list[DueRefresh] = []
_ignoring_changes: ContextVar[bool] = ContextVar("catalogue_changes_ignored", default=False)


@dataclass(frozen=True)
class CatalogueVersion:
    number: int
    next_change_at: datetime | None  # the next scheduled change readers will see; None: none

    def is_current(self, now: datetime) -> bool:
        return self.next_change_at is None or now < self.next_change_at

    def timeout(self, limit: int, now: datetime) -> int:
        """Seconds a value cached now may live: ``limit`` at most, and never past the next
        scheduled change (0: do not cache)."""
        if self.next_change_at is None:
            return limit
        return max(0, min(limit, int((self.next_change_at - now).total_seconds())))


def register_next_change(provider: NextChangeProvider) -> None:
    """Let an app say when what the catalogue shows changes by itself: ``provider(now)`` returns
    the earliest such time after ``now``, or None. Reviews register their publications and
    expiries (the catalogue cannot import them)."""
    if provider not in _next_change_providers:
        _next_change_providers.append(provider)


def register_due_refresh(refresh: DueRefresh) -> None:
    """Let an app bring what it stores up to date with the scheduled changes that have come:
    ``refresh(now)`` runs when the version's next change time has come, before the new version
    is made (so before the reader who makes it reads), and whenever no version is known. It
    must be cheap when nothing is due, and harmless when two readers run it at once. Reviews
    register the film list's sort keys (the catalogue cannot import them)."""
    if refresh not in _due_refreshes:
        _due_refreshes.append(refresh)


def next_change_after(now: datetime) -> datetime | None:
    times = [t for provider in _next_change_providers if (t := provider(now)) is not None]
    return min(times, default=None)


def current_version(
    now: datetime | None = None, *, stored: object = None
) -> CatalogueVersion | None:
    """The version in force at ``now``; None when the cache is unavailable. ``stored``: the
    value of ``VERSION_KEY`` when the caller has read it already (with other keys, in one
    round trip to the cache)."""
    now = now or timezone.now()
    version = version_of(stored) if stored is not None else _stored()
    if version is not None and version.is_current(now):
        return version
    _refresh_due(now)
    fresh = _new_version(now)
    if version is not None:  # its next change has come: readers need new counts
        _store(fresh)
        return fresh
    if cache.add(VERSION_KEY, (fresh.number, fresh.next_change_at), timeout=None):
        return fresh
    return _stored()  # another process was first; None if the cache is down


def stored_version() -> CatalogueVersion | None:
    """The version in the cache as it is, or None: never a query, for values (the regions with
    offers) that scheduled changes do not touch."""
    return _stored()


# At most this long; a change (or a scheduled one coming due) makes a fragment unreachable sooner.
FRAGMENT_TIMEOUT = 600


def cached_fragment[T](
    name: str,
    parts: object,
    render: Callable[[], T],
    request=None,
    version: CatalogueVersion | None = None,
) -> T:
    """``render()``'s value (a page's rendered part, and what its head needs of it) for the
    catalogue version in force, made once and shared by every request that asks with the same
    ``parts`` (values JSON can write). The version is in the key, so whatever an editor saves, or a
    scheduled publication, is seen by the next request, as with the facet counts; the page
    cache does the same for whole pages, but only for readers without a session and for the
    exact address. Rendered anew when the cache is unavailable. With ``request``, a rendering
    that used the request's CSP nonce is not kept: the next reader gets another nonce.
    ``version``: the one this request already read (it spares a round trip to the cache)."""
    now = timezone.now()
    version = version or current_version(now)
    if version is None:
        return render()
    parts = {"parts": parts, "primary": reads_primary()}
    state = json.dumps(parts, sort_keys=True, default=str).encode()
    digest = hashlib.md5(state, usedforsecurity=False).hexdigest()
    key = f"fragment:{name}:{version.number}:{digest}"
    value = cache.get(key)
    if value is None:
        value = render()
        if request is not None and get_nonce(request):
            return value
        if timeout := version.timeout(FRAGMENT_TIMEOUT, now):
            cache.set(key, value, timeout)
    return value


def reads_primary() -> bool:
    """Does this request read the catalogue from the primary database? What is made from a
    replica is kept apart from what is made from the primary, so that an editor, who always
    reads the primary, sees their own writes (filmmag/db_router.py), even one the router did
    not see (raw SQL) and a replica has yet to replay."""
    return router.db_for_read(apps.get_model("films", "Film")) == DEFAULT_DB_ALIAS


def catalogue_version() -> int | None:
    version = current_version()
    return version.number if version else None


@contextmanager
def catalogue_changes_ignored() -> Iterator[None]:
    """Within the block, saves leave the version alone: for writes that are rolled back
    (an import's dry run), which would otherwise throw away every cached count."""
    token = _ignoring_changes.set(True)
    try:
        yield
    finally:
        _ignoring_changes.reset(token)


def catalogue_changed(**kwargs) -> None:
    """Signal receiver: new version now, and again once the transaction commits, so a reader
    who cached counts from before the commit does not keep them."""
    _changed(reschedule=False)


def schedule_changed(**kwargs) -> None:
    """``catalogue_changed`` for rows that carry scheduled changes (reviews): the next change
    time is computed again too."""
    _changed(reschedule=True)


def _changed(*, reschedule: bool) -> None:
    if _ignoring_changes.get():
        return
    bump(reschedule=reschedule)
    transaction.on_commit(partial(bump, reschedule=reschedule))


def bump(*, reschedule: bool = True) -> None:
    """A new version. ``reschedule=False`` keeps the known next change time, and skips the
    query that finds it; with no version stored, there is nothing to keep: the next reader
    makes one. A next change time that has come is kept either way."""
    now = timezone.now()
    stored = _stored()
    if stored is not None and (not reschedule or not stored.is_current(now)):
        # A change time that has come is kept as well: the next reader makes the version that
        # follows it, with the due refreshes, outside this write's transaction (which might
        # yet roll them back).
        version = CatalogueVersion(_new_number(), stored.next_change_at)
    elif reschedule:
        if stored is None:  # whatever was due is not known to have been done
            _refresh_due(now)
        version = _new_version(now)
    else:
        return
    _store(version)


def _refresh_due(now: datetime) -> None:
    for refresh in _due_refreshes:
        refresh(now)


def _new_version(now: datetime) -> CatalogueVersion:
    return CatalogueVersion(_new_number(), next_change_after(now))


def _new_number() -> int:
    # Random rather than the time: unique even when the clock stands still or steps back.
    return secrets.randbits(63)


def _store(version: CatalogueVersion) -> None:
    cache.set(VERSION_KEY, (version.number, version.next_change_at), timeout=None)


def _stored() -> CatalogueVersion | None:
    return version_of(cache.get(VERSION_KEY))


def version_of(value: object) -> CatalogueVersion | None:
    match value:
        case (int() as number, datetime() | None as next_change_at):
            return CatalogueVersion(number, next_change_at)
    return None
