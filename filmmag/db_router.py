"""PostgreSQL read replicas: public reads go to a replica, everything else to the primary.

Settings adds a connection ``replica_<n>`` for each URL in DATABASE_REPLICA_URLS and installs
``ReplicaRouter`` and ``ReplicaReadsMiddleware``. A read goes to a replica only when all hold:

- it is made while answering a request that the middleware let read from replicas: a GET or
  HEAD, without a session cookie (editors are the only people who log in, and they always read
  the primary), and without the "recently wrote" cookie (below);
- it is of a public model (films, reviews, tags); sessions, users, login attempts, revisions
  and the admin's log are always read from the primary;
- the primary has no transaction open on this thread, and nothing has been written yet during
  this request (a view that writes then reads, reads what it wrote);
- a replica is usable: it answered this request's health check, and its replay lag was at most
  DJANGO_REPLICA_MAX_LAG_SECONDS when last measured (every DJANGO_REPLICA_CHECK_SECONDS).
  Otherwise the next replica is tried, then the primary: a replica that is down or behind
  costs readers nothing but the primary's load.

Management commands, the shell and anything outside a request read the primary.

Read your own writes: a response to a request that wrote (or any POST, PUT, PATCH or DELETE)
sets a signed cookie, so that for DJANGO_REPLICA_STICKY_SECONDS that browser reads the primary.
The settings keep the sticky time at least the largest lag a replica may be used with plus the
time between lag checks, so by the time a browser reads a replica again, its write is there.
"""

import contextvars
import logging
import random
import threading
from dataclasses import dataclass, field
from time import monotonic

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger("filmmag.replicas")

PUBLIC_APPS = frozenset({"films", "reviews", "taggit"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
STICKY_COOKIE = "filmmag_primary"
STICKY_SALT = "filmmag.db_router.sticky"

# Seconds of replay lag: none while the replica has replayed all it has received (an idle
# primary sends nothing, and an old last-replay time then means nothing); otherwise the age of
# the last transaction it replayed. Zero for a server that is not a standby at all.
LAG_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
    END
"""


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != DEFAULT_DB_ALIAS]


@dataclass
class ReplicaState:
    """What this process knows of one replica, shared by its threads."""

    alias: str
    unusable_until: float = 0.0
    next_lag_check: float = 0.0
    problem: str = ""  # why it is not used ("down", "lagging"), for logging its recovery
    lock: threading.Lock = field(default_factory=threading.Lock)

    def usable(self) -> bool:
        """Is the replica up and close enough behind? Costs a round trip (the health check
        Django would make before the request's first query anyway), and the lag query every
        DJANGO_REPLICA_CHECK_SECONDS."""
        now = monotonic()
        with self.lock:
            if now < self.unusable_until:
                return False
            check_lag = now >= self.next_lag_check
            if check_lag:
                self.next_lag_check = now + settings.FILMMAG_REPLICA_CHECK_SECONDS
        connection = connections[self.alias]
        try:
            connection.close_if_health_check_failed()
            if check_lag:
                with connection.cursor() as cursor:
                    cursor.execute(LAG_SQL)
                    lag = float(cursor.fetchone()[0])
            else:
                connection.ensure_connection()
        except DatabaseError as error:
            connection.close()
            self._set_aside("down", f"{type(error).__name__}: {error}".strip())
            return False
        if check_lag and lag > settings.FILMMAG_REPLICA_MAX_LAG_SECONDS:
            self._set_aside("lagging", f"{lag:.1f} s behind the primary")
            return False
        self._back()
        return True

    def _set_aside(self, problem: str, detail: str) -> None:
        retry = settings.FILMMAG_REPLICA_CHECK_SECONDS
        with self.lock:
            self.unusable_until = monotonic() + retry
            self.next_lag_check = 0.0  # measure again before using it
            first = self.problem != problem
            self.problem = problem
        if first:
            logger.warning(
                "read replica %s %s (%s): reading from the primary, trying again every %g s",
                self.alias,
                problem,
                detail,
                retry,
            )

    def _back(self) -> None:
        with self.lock:
            problem, self.problem = self.problem, ""
        if problem:
            logger.warning("read replica %s usable again (was %s)", self.alias, problem)


_states: dict[str, ReplicaState] = {}
_states_lock = threading.Lock()


def replica_state(alias: str) -> ReplicaState:
    with _states_lock:
        if alias not in _states:
            _states[alias] = ReplicaState(alias)
        return _states[alias]


def reset_replica_states() -> None:
    """Forget what this process knows of the replicas (for tests)."""
    with _states_lock:
        _states.clear()


class RequestReads:
    """Where one request's public reads go; decided at its first public read."""

    def __init__(self, *, replicas_allowed: bool):
        self.replicas_allowed = replicas_allowed
        self.wrote = False
        self._alias: str | None = None

    def read_alias(self) -> str:
        if self.wrote or not self.replicas_allowed:
            return DEFAULT_DB_ALIAS
        if self._alias is None:
            self._alias = choose_replica()
        return self._alias


def choose_replica() -> str:
    """A usable replica, in random order to spread the readers; the primary if none is."""
    aliases = replica_aliases()
    random.shuffle(aliases)
    for alias in aliases:
        if replica_state(alias).usable():
            return alias
    return DEFAULT_DB_ALIAS


_current: contextvars.ContextVar[RequestReads | None] = contextvars.ContextVar(
    "filmmag_request_reads", default=None
)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        reads = _current.get()
        if (
            reads is None
            or model._meta.app_label not in PUBLIC_APPS
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return reads.read_alias()

    def db_for_write(self, model, **hints):
        reads = _current.get()
        if reads is not None:
            reads.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replicas hold the primary's data: an object read from one may refer to another.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def sticks_to_primary(request) -> bool:
    return (
        request.get_signed_cookie(
            STICKY_COOKIE,
            default=None,
            salt=STICKY_SALT,
            max_age=settings.FILMMAG_REPLICA_STICKY_SECONDS,
        )
        is not None
    )


class ReplicaReadsMiddleware:
    """Lets a request's public reads go to a replica (see the module's docstring), and after a
    request that wrote, keeps that browser on the primary for a while."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        allowed = (
            request.method in SAFE_METHODS
            and not request.COOKIES.get(settings.SESSION_COOKIE_NAME)
            and not sticks_to_primary(request)
        )
        reads = RequestReads(replicas_allowed=allowed)
        token = _current.set(reads)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if reads.wrote or request.method not in SAFE_METHODS:
            response.set_signed_cookie(
                STICKY_COOKIE,
                "1",
                salt=STICKY_SALT,
                max_age=settings.FILMMAG_REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
