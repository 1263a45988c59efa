"""Redis down or hung: pages and the admin still answer, within the cache timeout; the outage
is logged once; caching resumes by itself when Redis answers again."""

import logging
import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

import filmmag.cache
from filmmag.cache import DEFAULT_RETRY_AFTER, ResilientRedisCache
from filmmag.settings import cache_settings
from films.cache import catalogue_version
from tests.factories import make_film, make_genre, make_review, make_user
from tests.outages import FakeRedisServer, closed_port

pytestmark = pytest.mark.django_db

DUMMY_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


class Clock:
    """Stands in for the backend's monotonic clock, so a test can skip the retry period."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(autouse=True)
def _fresh_outages(monkeypatch):
    """Outage state is per process and per Redis address; each test starts from none."""
    monkeypatch.setattr(filmmag.cache, "_outages", {})


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(filmmag.cache, "monotonic", clock)
    return clock


@pytest.fixture
def fake_redis():
    server = FakeRedisServer()
    yield server
    server.stop()


@pytest.fixture(params=["refused", "hung"])
def redis_down(request, settings):
    """REDIS_URL at a closed port, or at a server that accepts and never answers."""
    server = None
    if request.param == "refused":
        url = f"redis://127.0.0.1:{closed_port()}/0"
    else:
        server = request.getfixturevalue("fake_redis")
        url = server.url
    caches = cache_settings(url)
    settings.CACHES = caches
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return SimpleNamespace(
        kind=request.param,
        server=server,
        caches=caches,
        timeout=caches["default"]["OPTIONS"]["socket_timeout"],
    )


@pytest.fixture
def magazine():
    film = make_film(
        "Vertigo",
        genres=["Thriller"],
        directors=["Alfred Hitchcock"],
        availability=[("Criterion Channel", "subscription")],
    )
    review = make_review(film, rating=5)
    return SimpleNamespace(
        film=film,
        review=review,
        genre=film.genres.get(),
        service=film.availabilities.get().service,
        director=film.credits.get().person,
    )


def public_pages(magazine):
    return [
        "/",
        reverse("films:film_list"),
        reverse("films:film_list") + "?genre=thriller&offer=subscription",
        magazine.genre.get_absolute_url(),
        magazine.service.get_absolute_url(),
        magazine.film.get_absolute_url(),
        magazine.director.get_absolute_url(),
        magazine.review.get_absolute_url(),
    ]


def timed_get(client, url):
    started = time.perf_counter()
    response = client.get(url)
    return response, time.perf_counter() - started


def test_cache_settings_put_redis_behind_short_timeouts():
    config = cache_settings("redis://cache.example:6379/0", timeout_ms=250)["default"]

    assert config["BACKEND"] == "filmmag.cache.ResilientRedisCache"
    assert config["OPTIONS"]["socket_connect_timeout"] == 0.25
    assert config["OPTIONS"]["socket_timeout"] == 0.25


def test_every_cache_operation_is_a_miss_or_does_nothing_while_redis_is_unreachable():
    backend = ResilientRedisCache(f"redis://127.0.0.1:{closed_port()}/0", {})

    assert backend.get("key", "default") == "default"
    assert backend.add("key", 1) is False
    backend.set("key", 1)
    assert backend.get_many(["key"]) == {}
    assert backend.has_key("key") is False
    assert backend.touch("key") is False
    assert backend.delete("key") is False
    with pytest.raises(ValueError, match="not found"):
        backend.incr("key")
    assert backend.set_many({"key": 1}) == []
    backend.delete_many(["key"])
    assert backend.clear() is False
    assert backend.get_or_set("key", 5) == 5


def test_public_pages_answer_within_the_cache_timeout_while_redis_is_down(
    client, redis_down, magazine, settings
):
    settings.CACHES["default"]["OPTIONS"]["retry_after"] = 60  # one attempt in this test
    pages = public_pages(magazine)
    with override_settings(CACHES=DUMMY_CACHE):  # warm up: templates, URL resolvers
        for url in pages:
            client.get(url)

    without_cache = with_redis_down = 0.0
    for url in pages:
        with override_settings(CACHES=DUMMY_CACHE):
            response, elapsed = timed_get(client, url)
        assert response.status_code == 200, url
        without_cache += elapsed
        response, elapsed = timed_get(client, url)
        assert response.status_code == 200, url
        with_redis_down += elapsed

    # What Redis may cost: one attempt that waits for the timeout, then none until
    # retry_after has passed; one timeout more is the slack for a busy machine.
    assert with_redis_down < without_cache + 2 * redis_down.timeout
    if redis_down.server:
        assert redis_down.server.connections == 1


def test_the_film_list_counts_without_a_cache(client, redis_down, magazine):
    assert catalogue_version() is None

    response = client.get(reverse("films:film_list"))

    assert response.status_code == 200
    assert response.context["facets"]["fresh"] is True
    thriller = next(o for o in response.context["facets"]["genre"] if o.value == "thriller")
    assert thriller.count == 1


def test_editors_log_in_and_save_while_redis_is_down(client, redis_down):
    make_user("editor", superuser=True)
    genre = make_genre("Thriller")

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor", "password": "a-test-password-123", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    change_url = reverse("admin:films_genre_change", args=[genre.pk])
    assert client.get(change_url).status_code == 200
    response = client.post(change_url, {"name": "Suspense", "slug": "suspense"})

    assert response.status_code == 302
    genre.refresh_from_db()
    assert genre.name == "Suspense"
    # Still logged in: the session lives in the database too.
    assert client.get("/admin/films/genre/").status_code == 200


def cache_log(caplog):
    return [r.getMessage().split(" at ")[0] for r in caplog.records if r.name == "filmmag.cache"]


def test_an_outage_is_logged_once_and_caching_resumes_when_redis_answers(
    client, settings, caplog, clock, fake_redis, magazine
):
    settings.CACHES = cache_settings(fake_redis.url)
    settings.PAGE_CACHE_ENABLED = False  # the counts' cache, seen in each made page's context
    settings.SHARED_PAGES_ENABLED = False
    caplog.set_level(logging.INFO, logger="filmmag.cache")
    url = reverse("films:film_list")

    for _ in range(3):
        assert client.get(url).status_code == 200
        clock.advance(DEFAULT_RETRY_AFTER)  # each request tries Redis again, and fails again
    assert cache_log(caplog) == ["cache unavailable"]
    assert fake_redis.connections == 3

    fake_redis.answer()
    clock.advance(DEFAULT_RETRY_AFTER)
    first = client.get(url)
    second = client.get(url)

    assert cache_log(caplog) == ["cache unavailable", "cache back"]
    assert first.context["facets"]["fresh"] is True
    assert second.context["facets"]["fresh"] is False  # read back from Redis
    assert any(b"catalogue-version" in key for key in fake_redis.store)


def test_values_changed_during_an_outage_do_not_come_back_stale(settings, clock, fake_redis):
    settings.CACHES = cache_settings(fake_redis.url)
    fake_redis.answer()
    cache.set("catalogue", "old")

    fake_redis.silent = True
    cache.set("catalogue", "new")  # lost: Redis does not answer
    assert cache.get("catalogue") is None

    fake_redis.answer()
    clock.advance(DEFAULT_RETRY_AFTER)
    assert cache.get("catalogue") is None  # the old value was deleted, not served
    cache.set("catalogue", "newer")
    assert cache.get("catalogue") == "newer"
