"""Read replicas against a real streaming replica (filmmag/db_router.py).

The module starts a PostgreSQL primary and a replica cloned from it with pg_basebackup -R
(tests/pg_cluster.py); plays readers, an editor, a replica that falls behind or stops, and a
primary that stops, through the site, in a process of its own (tests/replica_scenario.py,
pointed at those two servers whatever database this suite runs on); and stops and removes both
servers afterwards. Where PostgreSQL's server binaries are missing the tests are skipped,
except on CI, where they must run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from filmmag.db_router import STICKY_COOKIE
from tests.pg_cluster import missing_reason, streaming_pair

ROOT = Path(__file__).resolve().parent.parent
MAX_LAG_SECONDS = 3
STICKY_SECONDS = 3


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    reason = missing_reason()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the replica tests must run on CI: {reason}")
        pytest.skip(reason)
    with streaming_pair() as pair:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "REDIS_URL"}
        }
        if os.environ.get("REDIS_URL"):
            # The suite's Redis, under a prefix of its own: the router's note of the last
            # change then goes through Redis as in production.
            env |= {"REDIS_URL": os.environ["REDIS_URL"], "DJANGO_CACHE_PREFIX": "replica-test"}
        env |= {
            "DATABASE_URL": pair.primary.url,
            "DATABASE_REPLICA_URLS": pair.replica.url,
            "DJANGO_DEBUG": "true",
            "DJANGO_CONN_MAX_AGE": "60",  # kept connections: a stopped replica breaks one
            "DJANGO_MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
            "DJANGO_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
            "DJANGO_REPLICA_CHECK_SECONDS": "0",
            # Where a made page's queries go: a page from the page cache makes none.
            "DJANGO_PAGE_CACHE": "false",
            "DJANGO_REPLICA_STICKY_SECONDS": str(STICKY_SECONDS),
            "FILMMAG_TEST_PAIR": json.dumps(
                {
                    "primary": str(pair.primary.folder),
                    "primary_port": pair.primary.port,
                    "replica": str(pair.replica.folder),
                    "replica_port": pair.replica.port,
                    "bindir": str(pair.bindir),
                    "owner": pair.owner,
                }
            ),
        }
        result = subprocess.run(
            [sys.executable, "-m", "tests.replica_scenario"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-5000:]
        return {**json.loads(result.stdout), "replica_port": pair.replica.port}


def reads_from(visit) -> set[str]:
    """The connections that read films during a request."""
    return {alias for alias, count in visit["film_queries"].items() if count}


def test_the_replica_is_a_standby_that_streams_from_the_primary(seen):
    assert seen["settings"]["replicas"] == ["replica_1"]
    assert seen["replica_server"] == [True, seen["replica_port"]]
    assert seen["vertigo_streamed_within_s"] < 5


def test_a_readers_public_pages_read_from_the_replica(seen):
    film_list, film_page = seen["reader"], seen["reader_film_page"]
    assert film_list["status"] == film_page["status"] == 200
    assert film_page["shows_title"]
    assert reads_from(film_list) == reads_from(film_page) == {"replica_1"}
    assert film_list["cookies_set"] == film_page["cookies_set"] == []


def test_a_replica_behind_the_primary_shows_readers_the_older_catalogue(seen):
    """Proof that the reads come from the replica: it does not have the film yet."""
    behind = seen["reader_while_replica_behind"]
    assert behind["status"] == 200
    assert not behind["shows_title"]
    assert reads_from(behind) == {"replica_1"}


def test_a_film_saved_through_the_site_is_read_from_the_primary_until_the_replica_has_it(seen):
    right_after = seen["reader_right_after_a_change"]
    assert right_after["shows_title"]
    assert reads_from(right_after) == {"default"}

    replayed = seen["reader_once_the_replica_has_the_change"]
    assert replayed["shows_title"]
    assert reads_from(replayed) == {"replica_1"}
    since = seen["warnings"][seen["warnings_before_the_change"] :]
    assert not any("lagging" in message for message in since)


def test_a_film_written_on_the_primary_streams_to_the_replica(seen):
    caught_up = seen["reader_after_catching_up"]
    assert seen["ran_streamed_within_s"] < 5
    assert caught_up["shows_title"]
    assert reads_from(caught_up) == {"replica_1"}


def test_a_logged_in_editor_reads_the_primary(seen):
    assert seen["editor_login"]["status"] == 302
    assert STICKY_COOKIE in seen["editor_login"]["cookies_set"]
    assert not seen["editor_login"]["queries"]["replica_1"]

    logged_in = seen["editor_logged_in"]
    assert logged_in["shows_title"]
    assert reads_from(logged_in) == {"default"}
    assert not logged_in["queries"]["replica_1"]


def test_after_a_write_the_editors_browser_reads_the_primary_for_a_while(seen):
    """Logging out writes (the session is deleted): without a session, the browser still
    reads the primary, and sees the film the replica does not have yet."""
    assert STICKY_COOKIE in seen["editor_logout"]["cookies_set"]
    after = seen["editor_after_logout"]
    assert after["shows_title"]
    assert reads_from(after) == {"default"}
    assert after["cookies_set"] == []

    assert reads_from(seen["editor_once_sticky_time_is_over"]) == {"replica_1"}


def test_a_replica_further_behind_than_allowed_is_not_read(seen):
    lagging = seen["reader_while_replica_lags"]
    assert lagging["status"] == 200
    assert lagging["shows_title"]
    assert reads_from(lagging) == {"default"}
    assert any("replica_1 lagging" in message for message in seen["warnings"])


def test_a_stopped_replica_falls_back_to_the_primary(seen):
    for visit in (seen["reader_with_replica_stopped"], seen["reader_with_replica_still_stopped"]):
        assert visit["status"] == 200
        assert visit["shows_title"]
        assert reads_from(visit) == {"default"}
    assert seen["reader_with_replica_stopped"]["seconds"] < 3
    assert any("replica_1 down" in message for message in seen["warnings"])


def test_readiness_reports_the_replica_and_stays_200_while_it_is_down(seen):
    assert seen["readyz"]["http_status"] == 200
    assert seen["readyz"]["status"] == "ok"
    assert seen["readyz"]["checks"]["replica_1"]["status"] == "ok"

    down = seen["readyz_with_replica_stopped"]
    assert down["http_status"] == 200
    assert down["status"] == "degraded"
    assert down["checks"]["replica_1"]["status"] == "down"
    assert down["checks"]["database"]["status"] == "ok"


def test_while_the_primary_is_down_readers_still_get_public_pages_from_the_replica(seen):
    for visit in (
        seen["reader_with_primary_stopped"],
        seen["reader_film_page_with_primary_stopped"],
    ):
        assert visit["status"] == 200
        assert visit["shows_title"]
        assert reads_from(visit) == {"replica_1"}
        assert not visit["queries"]["default"]

    ready = seen["readyz_with_primary_stopped"]
    assert ready["http_status"] == 200
    assert ready["status"] == "degraded"
    assert ready["checks"]["database"]["status"] == "down"
    assert ready["checks"]["replica_1"]["status"] == "ok"
