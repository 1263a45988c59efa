"""The catalogue version: one cache key that any change to what the film list counts replaces.

Cached facet counts carry the version in their key, so a change makes them unreachable at
once; a short timeout bounds what signals cannot see (bulk writes, a scheduled review
reaching its publication time).
"""

import time

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "catalogue-version"


def catalogue_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def catalogue_changed(**kwargs) -> None:
    """Signal receiver: new version now, and again once the transaction commits, so a reader
    who cached counts from before the commit does not keep them."""
    bump()
    transaction.on_commit(bump)


def bump() -> None:
    cache.set(VERSION_KEY, time.time_ns(), timeout=None)
