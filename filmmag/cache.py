"""A Redis cache that degrades instead of failing: an unreachable Redis is a cache miss.

Django's RedisCache raises on every connection error, so a Redis outage turns each page that
reads the cache (film list, sessions, the admin) into a 500. This backend catches the errors
once, here, and answers as a cache would if it held nothing:

- reads miss (``get`` returns the default, ``get_many`` nothing, ``add`` and ``has_key`` False);
- writes are dropped, and their keys remembered, so they are deleted once Redis is back
  (a value written or deleted during the outage must not come back stale afterwards);
- after a failure Redis is left alone for ``retry_after`` seconds (a circuit breaker), so a
  dead or hung Redis costs one timeout every few seconds per process, not one per cache call;
- the outage is logged once when it starts and once when it ends, per process.

Set ``socket_connect_timeout`` and ``socket_timeout`` in OPTIONS (settings does) so that a
Redis that accepts connections but never answers fails fast too.
"""

import logging
import threading
from time import monotonic

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger("filmmag.cache")

CACHE_ERRORS = (RedisError, OSError)
DEFAULT_RETRY_AFTER = 5.0  # seconds
MAX_REMEMBERED_KEYS = 10_000


class Outage:
    """The state of one Redis location in this process, shared by every thread's cache."""

    def __init__(self, location: str, retry_after: float):
        self.location = location
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.next_attempt = 0.0
        self.stale_keys: set[str] = set()
        self.stale_overflow = False

    def may_try(self) -> bool:
        """True while Redis is up; during an outage, True for one caller per retry period."""
        with self.lock:
            if self.down_since is None:
                return True
            now = monotonic()
            if now < self.next_attempt:
                return False
            self.next_attempt = now + self.retry_after
            return True

    def failed(self, error: BaseException) -> None:
        with self.lock:
            self.next_attempt = monotonic() + self.retry_after
            if self.down_since is not None:
                return
            self.down_since = monotonic()
        logger.warning(
            "cache unavailable at %s (%s: %s): serving without the cache, trying again every %g s",
            self.location,
            type(error).__name__,
            error,
            self.retry_after,
        )

    def remember(self, keys) -> None:
        """Keys written or deleted while Redis was unreachable: to delete once it is back."""
        with self.lock:
            for key in keys:
                if len(self.stale_keys) >= MAX_REMEMBERED_KEYS:
                    self.stale_overflow = True
                    break
                self.stale_keys.add(key)

    def clean_up(self, client: "ResilientRedisCacheClient") -> None:
        """Before the first command after an outage: delete what changed during it."""
        with self.lock:
            if self.down_since is None or not self.stale_keys:
                return
            keys = list(self.stale_keys)
        super(ResilientRedisCacheClient, client).delete_many(keys)
        with self.lock:
            self.stale_keys.difference_update(keys)

    def back(self) -> None:
        with self.lock:
            if self.down_since is None:
                return
            duration = monotonic() - self.down_since
            overflow = self.stale_overflow
            self.down_since = None
            self.stale_overflow = False
        logger.warning(
            "cache back at %s after %.1f s%s",
            self.location,
            duration,
            "; more keys changed during the outage than were remembered, "
            "so cached values may be stale until they expire"
            if overflow
            else "",
        )


_outages: dict[tuple[str, ...], Outage] = {}
_outages_lock = threading.Lock()


def outage_for(servers: list[str], retry_after: float) -> Outage:
    with _outages_lock:
        key = tuple(servers)
        if key not in _outages:
            _outages[key] = Outage(",".join(_without_password(s) for s in servers), retry_after)
        _outages[key].retry_after = retry_after
        return _outages[key]


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


class ResilientRedisCacheClient(RedisCacheClient):
    """Django's Redis client with every command guarded by the location's Outage."""

    def __init__(self, servers, *, outage: Outage, **options):
        super().__init__(servers, **options)
        self._outage = outage

    def _guarded(self, command, fallback, *args, writes=()):
        outage = self._outage
        if not outage.may_try():
            outage.remember(writes)
            return fallback
        try:
            outage.clean_up(self)
            result = getattr(super(), command)(*args)
        except CACHE_ERRORS as error:
            outage.failed(error)
            outage.remember(writes)
            return fallback
        outage.back()
        return result

    def add(self, key, value, timeout):
        return self._guarded("add", False, key, value, timeout, writes=[key])

    def get(self, key, default):
        return self._guarded("get", default, key, default)

    def set(self, key, value, timeout):
        self._guarded("set", None, key, value, timeout, writes=[key])

    def touch(self, key, timeout):
        return self._guarded("touch", False, key, timeout)

    def delete(self, key):
        return self._guarded("delete", False, key, writes=[key])

    def get_many(self, keys):
        return self._guarded("get_many", {}, keys)

    def has_key(self, key):
        return self._guarded("has_key", False, key)

    def incr(self, key, delta):
        missing = object()
        result = self._guarded("incr", missing, key, delta, writes=[key])
        if result is missing:
            # What Django's backends raise for a key that is not in the cache.
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")
        return result

    def set_many(self, data, timeout):
        self._guarded("set_many", None, data, timeout, writes=list(data))

    def delete_many(self, keys):
        self._guarded("delete_many", None, keys, writes=list(keys))

    def clear(self):
        return self._guarded("clear", False)


def cache_is_down(backend) -> bool:
    """Is ``backend`` a ResilientRedisCache whose Redis is not answering? Callers that would
    do work only to fill the cache (a query for a value to store) can skip it."""
    outage = getattr(backend, "_options", {}).get("outage")
    return outage is not None and outage.down_since is not None


class ResilientRedisCache(RedisCache):
    """RedisCache whose errors are misses. OPTIONS["retry_after"]: seconds between attempts
    while Redis is unreachable (default 5); the other OPTIONS go to redis-py as usual."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS", {}))
        retry_after = float(options.pop("retry_after", DEFAULT_RETRY_AFTER))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ResilientRedisCacheClient
        self._options = {**options, "outage": outage_for(self._servers, retry_after)}
