"""Health endpoints for a load balancer or a monitor.

/healthz: the process answers (no database, no cache).
/readyz: the database, the cache and each read replica answer; JSON with each check's status
and latency. The site serves readers without the cache (a cache error is a miss), without its
replicas (reads go to the primary), and, when it has replicas, without the primary (public
pages read from a replica), so an outage of any one makes /readyz "degraded" but still 200: a
load balancer that takes instances out on a 503 must not take every instance out because one
of them is down. The database down with no replica to read from is a 503.
"""

import logging
import time
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from filmmag.cache import CACHE_ERRORS
from filmmag.db_router import replica_aliases, replica_state

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    checks = {"database": run_check(check_database), "cache": run_check(check_cache)}
    for alias in replica_aliases():
        checks[alias] = check_replica(alias)
    replicas_up = any(checks[alias]["status"] == "ok" for alias in replica_aliases())
    if checks["database"]["status"] != "ok" and not replicas_up:
        status, code = "unavailable", 503
    elif any(check["status"] != "ok" for check in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


def run_check(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except (DatabaseError, CacheUnavailable, *CACHE_ERRORS) as error:
        logger.warning("readiness check %s failed: %r", check.__name__, error)
        result = {"status": "down", "error": type(error).__name__}
    else:
        result = {"status": "ok"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise DatabaseError("SELECT 1 did not return 1")


def check_replica(alias: str) -> dict:
    """As the router sees the replica ("ok", "down" or "lagging"): a replica already known to
    be down is not tried again before its time, so one that hangs cannot hold /readyz."""
    started = time.perf_counter()
    state = replica_state(alias)
    status = "ok" if state.usable() else state.problem or "down"
    return {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


class CacheUnavailable(Exception):
    pass


def check_cache() -> None:
    """A round trip: the Redis backend turns errors into misses, so only a read of what was
    just written shows that the cache works. The key is unique to this request."""
    key, token = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, token, timeout=10)
    if cache.get(key) != token:
        raise CacheUnavailable("a value written to the cache could not be read back")
    cache.delete(key)
