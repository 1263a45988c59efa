"""/healthz (the process answers) and /readyz (database and cache, with detail)."""

import pytest
from django.test import Client

from filmmag.db_router import replica_aliases
from filmmag.settings import cache_settings
from tests.outages import closed_port, database_down

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor():
    return Client(raise_request_exception=False)


@pytest.fixture
def redis_down(settings):
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")


def test_healthz_answers_without_touching_the_database_or_the_cache(
    monitor, monkeypatch, redis_down, django_assert_num_queries
):
    with django_assert_num_queries(0), database_down(monkeypatch):
        response = monitor.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_readyz_reports_each_check_with_its_latency(monitor):
    response = monitor.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", *replica_aliases()}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert isinstance(check["latency_ms"], float)
    assert "no-store" in response["Cache-Control"]


def test_readyz_is_503_while_the_database_is_down(monitor, monkeypatch):
    with database_down(monkeypatch):
        response = monitor.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["cache"]["status"] == "ok"


def test_readyz_reports_the_cache_down_but_stays_in_service(monitor, redis_down):
    """Pages work without Redis: a balancer must not take every instance out for it."""
    response = monitor.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {
        "status": "down",
        "error": "CacheUnavailable",
        "latency_ms": body["checks"]["cache"]["latency_ms"],
    }
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_health_checks_over_plain_http_are_not_redirected_to_https(monitor, settings, url):
    settings.SECURE_SSL_REDIRECT = True

    assert monitor.get(url).status_code == 200
    assert monitor.get("/films/").status_code == 301
