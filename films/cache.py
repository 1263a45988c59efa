"""The catalogue version: one cache key that any change to what the film list counts replaces.

Cached facet counts carry the version in their key, so a change makes them unreachable at
once; a short timeout bounds what signals cannot see (bulk writes, a scheduled review
reaching its publication time).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "catalogue-version"

_ignoring_changes: ContextVar[bool] = ContextVar("catalogue_changes_ignored", default=False)


def catalogue_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


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
    if _ignoring_changes.get():
        return
    bump()
    transaction.on_commit(bump)


def bump() -> None:
    cache.set(VERSION_KEY, time.time_ns(), timeout=None)
