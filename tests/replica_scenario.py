"""Readers, an editor and a failing replica, against a real primary and streaming replica.

Run by tests/test_replicas.py in a process of its own, whose DATABASE_URL and
DATABASE_REPLICA_URLS point at the throw-away servers of tests/pg_cluster.py (so it works
whatever database the test suite itself runs on). It migrates the primary, plays the steps
below through Django's test client, and prints what it saw as JSON: for each request its
status, whether the page lists a film, the cookies it set, and the SQL each connection ran.
The tests judge it; this script asserts nothing.

Environment: FILMMAG_TEST_PAIR (JSON: the servers, for stopping the replica and pausing
its replay), and DJANGO_REPLICA_MAX_LAG_SECONDS / _CHECK_SECONDS / _STICKY_SECONDS.
"""

import json
import logging
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import django

PASSWORD = "a-test-password-123"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "filmmag.settings")
    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment

    from tests.factories import make_film, make_user
    from tests.pg_cluster import Server, StreamingPair

    setup_test_environment()
    override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ).enable()
    spec = json.loads(os.environ["FILMMAG_TEST_PAIR"])
    pair = StreamingPair(
        primary=Server(Path(spec["primary"]), spec["primary_port"]),
        replica=Server(Path(spec["replica"]), spec["replica_port"]),
        bindir=Path(spec["bindir"]),
        owner=spec["owner"],
    )
    warnings = LogRecorder()
    logging.getLogger("filmmag.replicas").addHandler(warnings)
    seen: dict = {"settings": {"replicas": [a for a in settings.DATABASES if a != "default"]}}

    call_command("migrate", verbosity=0)
    make_user("editor", superuser=True)
    make_film("Vertigo", slug="vertigo", year=1958)
    seen["vertigo_streamed_within_s"] = wait_on_replica("Vertigo")
    seen["replica_server"] = on_replica(
        "SELECT pg_is_in_recovery(), inet_server_port()", fetch=True
    )

    reader = Client(raise_request_exception=False)
    seen["readyz"] = readiness(reader)
    seen["reader"] = visit(reader, "/films/")
    seen["reader_film_page"] = visit(reader, "/films/vertigo/", title="Vertigo")

    # Replay paused: what the primary has now, the replica has not. A heartbeat first, so the
    # replica's measured lag starts from zero here. The router is told nothing of this change
    # (as with raw SQL), so readers stay on the replica.
    make_film("Heartbeat", year=2000)
    wait_on_replica("Heartbeat")
    on_replica("SELECT pg_wal_replay_pause()")
    paused_at = time.monotonic()
    unseen_by_the_router(lambda: make_film("The Hidden Fortress", year=1958))
    seen["reader_while_replica_behind"] = visit(reader, "/films/")

    editor = Client(raise_request_exception=False)
    seen["editor_login"] = visit(
        editor, "/admin/login/?next=/admin/", data={"username": "editor", "password": PASSWORD}
    )
    # Not fresh: the reader's rendering of this version, made from the replica that has not
    # the new film, is not the editor's (films.cache.reads_primary).
    seen["editor_logged_in"] = visit(editor, "/films/", fresh=False)
    seen["editor_logout"] = visit(editor, "/admin/logout/", data={})
    seen["editor_after_logout"] = visit(editor, "/films/")
    left_at = time.monotonic()

    # Still paused: once the replica is further behind than the largest lag allowed, readers
    # read from the primary.
    sleep_until(paused_at + settings.FILMMAG_REPLICA_MAX_LAG_SECONDS + 0.5)
    unseen_by_the_router(lambda: make_film("Ran", year=1985))
    seen["reader_while_replica_lags"] = visit(reader, "/films/", title="Ran")

    on_replica("SELECT pg_wal_replay_resume()")
    seen["ran_streamed_within_s"] = wait_on_replica("Ran")
    seen["reader_after_catching_up"] = visit(reader, "/films/", title="Ran")

    # A change the router sees: readers use the primary until the replica has replayed it.
    make_film("Heartbeat 2", year=2000)
    wait_on_replica("Heartbeat 2")
    on_replica("SELECT pg_wal_replay_pause()")
    seen["warnings_before_the_change"] = len(warnings.messages)
    make_film("Kagemusha", year=1980)
    seen["reader_right_after_a_change"] = visit(reader, "/films/", title="Kagemusha")
    on_replica("SELECT pg_wal_replay_resume()")
    wait_on_replica("Kagemusha")
    seen["reader_once_the_replica_has_the_change"] = visit(reader, "/films/", title="Kagemusha")

    sleep_until(left_at + settings.FILMMAG_REPLICA_STICKY_SECONDS + 0.5)
    seen["editor_once_sticky_time_is_over"] = visit(editor, "/films/")

    pair.stop(pair.replica)
    started = time.monotonic()
    seen["reader_with_replica_stopped"] = visit(reader, "/films/")
    seen["reader_with_replica_stopped"]["seconds"] = round(time.monotonic() - started, 2)
    seen["reader_with_replica_still_stopped"] = visit(reader, "/films/vertigo/", title="Vertigo")
    seen["readyz_with_replica_stopped"] = readiness(reader)

    # The other way round: the replica back, the primary gone.
    pair.start(pair.replica)
    pair.stop(pair.primary)
    seen["reader_with_primary_stopped"] = visit(reader, "/films/")
    seen["reader_film_page_with_primary_stopped"] = visit(
        reader, "/films/vertigo/", title="Vertigo"
    )
    seen["readyz_with_primary_stopped"] = readiness(reader)
    seen["warnings"] = warnings.messages

    json.dump(seen, sys.stdout)


def visit(client, url, *, data=None, title="The Hidden Fortress", fresh=True) -> dict:
    """GET (or POST data to) url; what the page showed and which connection ran what.
    ``fresh``: in a new catalogue version, so that the page is made (its reads show where
    they went) rather than shared from an earlier visit's rendering (films.cache)."""
    from django.db import connections

    from films.cache import bump

    if fresh:
        bump(reschedule=False)

    queries = {alias: [] for alias in connections}

    def recorder(alias):
        def record(execute, sql, params, many, context):
            queries[alias].append(sql)
            return execute(sql, params, many, context)

        return record

    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        response = client.get(url) if data is None else client.post(url, data)
    return {
        "status": response.status_code,
        "shows_title": title in response.content.decode(errors="replace"),
        "cookies_set": sorted(
            name for name, morsel in response.cookies.items() if morsel.value != ""
        ),
        "film_queries": {
            alias: sum("films_film" in sql for sql in sqls) for alias, sqls in queries.items()
        },
        "queries": queries,
    }


def readiness(client) -> dict:
    response = client.get("/readyz")
    return {"http_status": response.status_code, **response.json()}


def on_replica(sql: str, *, fetch: bool = False):
    from django.db import connections

    with connections["replica_1"].cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchone()) if fetch else None


def wait_on_replica(title: str, timeout: float = 10) -> float:
    """Seconds until a film written on the primary could be read on the replica."""
    from django.core.cache import cache

    from filmmag.db_router import LAST_CHANGE_KEY
    from films.models import Film

    started = time.monotonic()
    while not Film.objects.using("replica_1").filter(title=title).exists():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{title!r} never reached the replica")
        time.sleep(0.02)
    seconds = round(time.monotonic() - started, 3)
    # And the WAL position the router noted for the change (taken after its commit, so it may
    # cover a record written since, which the primary sends a moment later): until the replica
    # has replayed it, the router rightly sends readers to the primary.
    while (last := cache.get(LAST_CHANGE_KEY)) and not on_replica(
        f"SELECT pg_last_wal_replay_lsn() >= '{last}'::pg_lsn", fetch=True
    )[0]:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the replica never replayed {last}")
        time.sleep(0.02)
    return seconds


def unseen_by_the_router(write) -> None:
    """Make a change, then forget the router's note of it: a change made where the site cannot
    see it (raw SQL, another application)."""
    from django.core.cache import cache

    from filmmag.db_router import LAST_CHANGE_KEY

    write()
    cache.delete(LAST_CHANGE_KEY)


def sleep_until(moment: float) -> None:
    time.sleep(max(0, moment - time.monotonic()))


class LogRecorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


if __name__ == "__main__":
    main()
