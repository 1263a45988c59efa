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
  costs readers nothing but the primary's load;
- the replica has replayed the last change to a public model (below).

The last change: once a transaction that wrote a public model commits, the primary's WAL
position is kept in the cache for DJANGO_REPLICA_STICKY_SECONDS, and a replica serves readers
only once it has replayed that far. Without this, the first reader after an edit could take
the new catalogue version (films/cache.py), read the old rows from a replica a moment behind,
and cache counts or a page that stay wrong until the next change. Saves and deletes count, in a
transaction or not, and so do QuerySet.update() and bulk writes in a transaction (the admin,
the review workflow and the importer use one); raw SQL is not seen. With the cache down
nothing is cached, and replicas are used within their lag limit.

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
from contextlib import suppress
from dataclasses import dataclass, field
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger("filmmag.replicas")

PUBLIC_APPS = frozenset({"films", "reviews", "taggit"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STICKY_COOKIE = "filmmag_primary"
STICKY_SALT = "filmmag.db_router.sticky"
LAST_CHANGE_KEY = "replicas:last-change-lsn"

# The replica's replay lag in seconds: none while it has replayed all it has received (an idle
# primary sends nothing, and an old last-replay time then means nothing), otherwise the age of
# the last transaction it replayed (zero for a server that is not a standby at all); and
# whether it has replayed up to a WAL position (true for none).
CHECK_SQL = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
    END,
    COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, true)
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

    def usable(self, last_change: str | None = None) -> bool:
        """Is the replica up, close enough behind, and past ``last_change`` (a WAL position)?
        Costs a round trip (the health check Django would make before the request's first
        query anyway), and one more every DJANGO_REPLICA_CHECK_SECONDS or with a
        ``last_change``."""
        now = monotonic()
        with self.lock:
            if now < self.unusable_until:
                return False
            check = now >= self.next_lag_check or last_change is not None
            if check:
                self.next_lag_check = now + settings.FILMMAG_REPLICA_CHECK_SECONDS
        connection = connections[self.alias]
        try:
            connection.close_if_health_check_failed()
            with connection.cursor() as cursor:
                if check:
                    cursor.execute(CHECK_SQL, [last_change])
                    lag, replayed = cursor.fetchone()
        except DatabaseError as error:
            with suppress(DatabaseError):
                connection.close()
            self._set_aside("down", f"{type(error).__name__}: {error}".strip())
            return False
        if check and float(lag) > settings.FILMMAG_REPLICA_MAX_LAG_SECONDS:
            self._set_aside("lagging", f"{float(lag):.1f} s behind the primary")
            return False
        self._back()
        # Not there yet is no fault: the primary serves this request, the replica the next.
        return not check or replayed

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
    last_change = cache.get(LAST_CHANGE_KEY)
    for alias in aliases:
        if replica_state(alias).usable(last_change):
            return alias
    return DEFAULT_DB_ALIAS


def public_change_coming() -> None:
    """From db_for_write, before a public row is written in a transaction: its position is
    recorded when it commits, before the callbacks registered after this one (the catalogue
    version's), so that no reader takes the new version and then reads a replica that lacks
    the change."""
    if connections[DEFAULT_DB_ALIAS].in_atomic_block and not _recording():
        transaction.on_commit(record_last_change, using=DEFAULT_DB_ALIAS, robust=True)


def public_change_made(sender, action=None, **kwargs) -> None:
    """Signal receiver, after a public row is saved or deleted, or links added or removed:
    outside a transaction the change is committed, and its position is recorded now."""
    if (
        sender._meta.app_label not in PUBLIC_APPS
        or action in {"pre_add", "pre_remove", "pre_clear"}
        or not replica_aliases()
    ):
        return
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        record_last_change()
    elif not _recording():
        transaction.on_commit(record_last_change, using=DEFAULT_DB_ALIAS, robust=True)


def _recording() -> bool:
    """Will the current transaction record its position when it commits?"""
    pending = connections[DEFAULT_DB_ALIAS].run_on_commit
    return any(callback is record_last_change for _, callback, _ in pending)


def record_last_change() -> None:
    """The insert position covers the commit just made, written to disk or not yet."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        (position,) = cursor.fetchone()
    kept = cache.get(LAST_CHANGE_KEY)
    if kept is None or wal_position(position) > wal_position(kept):
        cache.set(LAST_CHANGE_KEY, position, timeout=settings.FILMMAG_REPLICA_STICKY_SECONDS)


def wal_position(lsn: str) -> int:
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


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

    def __init__(self):
        # After the row is written (db_for_write comes before it).
        for signal in (post_save, post_delete, m2m_changed):
            signal.connect(public_change_made, dispatch_uid=f"filmmag.replicas.{signal!r}")

    def db_for_write(self, model, **hints):
        reads = _current.get()
        if reads is not None:
            reads.wrote = True
        if model._meta.app_label in PUBLIC_APPS:
            public_change_coming()
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
        if reads.wrote or request.method in WRITING_METHODS:
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
