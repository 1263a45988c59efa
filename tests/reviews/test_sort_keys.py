"""The film list's review keys (each film's latest published rating and review time, stored on
the film so that sorting by them is an index scan) follow every change to a film's reviews, in
the same transaction, and scheduled publications and expiries exactly on time, with or
without a cache."""

import importlib
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import reversion
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

import filmmag.cache
from filmmag.settings import cache_settings
from films.cache import current_version
from films.models import Film
from reviews.models import (
    Review,
    film_review_keys_refresh_all,
    film_review_keys_refresh_due,
)
from reviews.workflow import (
    review_publish,
    review_return_to_draft,
    review_set_expiry,
    review_unpublish,
    reviews_publish,
)
from tests.admin_helpers import loaded_version
from tests.factories import make_film, make_review
from tests.films.picture_forms import form_values
from tests.outages import closed_port

pytestmark = pytest.mark.django_db

FILM_LIST = reverse("films:film_list")
START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
T = START + timedelta(hours=2)


def keys(film):
    film.refresh_from_db(fields=["latest_rating", "last_reviewed_at"])
    return film.latest_rating, film.last_reviewed_at


# Read from the page as readers get it (made, or from the page cache: these tests run through
# it, so a cached page that outlived a scheduled change would fail them).
CARD_TITLE = re.compile(r'class="film-card__title"><a href="[^"]*">([^<]*)</a>')
REVIEWED_COUNT = re.compile(
    r'name="reviewed" value="yes"[^>]*>[^<]*<span class="facet__count">\((\d+)\)</span>'
)


def titles(client, **params):
    response = client.get(FILM_LIST, params)
    assert response.status_code == 200
    return CARD_TITLE.findall(response.text)


def reviewed_count(client):
    [count] = REVIEWED_COUNT.findall(client.get(FILM_LIST).text)
    return int(count)


def what_readers_see(client):
    """The film list sorted by rating and by review time, filtered to reviewed films, and its
    count of them."""
    return {
        "by rating": titles(client, sort="rating"),
        "recently reviewed": titles(client, sort="reviewed"),
        "reviewed": titles(client, reviewed="yes"),
        "not reviewed": titles(client, reviewed="no"),
        "reviewed count": reviewed_count(client),
    }


# Every change to a published review


def test_publishing_and_unpublishing_set_and_clear_the_keys(client):
    make_film("Aardvark")
    vertigo = make_film("Vertigo")
    review = make_review(vertigo, published=False, rating="4.5")
    assert keys(vertigo) == (None, None)

    review_publish(review=review)
    assert keys(vertigo) == (Decimal("4.5"), review.published_at)
    assert titles(client, sort="rating") == ["Vertigo", "Aardvark"]
    assert titles(client, reviewed="yes") == ["Vertigo"]

    review_unpublish(review=review)
    assert keys(vertigo) == (None, None)
    assert titles(client, sort="rating") == ["Aardvark", "Vertigo"]
    assert titles(client, reviewed="yes") == []


def test_the_latest_published_review_gives_the_keys(client):
    film = make_film("Vertigo")
    older = make_review(film, rating="2.0", published_at=timezone.now() - timedelta(days=9))
    newer = make_review(film, rating="4.5", published_at=timezone.now() - timedelta(days=1))
    assert keys(film) == (Decimal("4.5"), newer.published_at)

    review_return_to_draft(review=newer)
    assert keys(film) == (Decimal("2.0"), older.published_at)


def test_a_bulk_publication_sets_the_keys_of_every_film(client):
    films = [make_film(f"Film {n}") for n in range(3)]
    for n, film in enumerate(films):
        make_review(film, published=False, rating=f"{n + 1}.0")

    reviews_publish(reviews=Review.objects.all())

    assert [keys(film)[0] for film in films] == [Decimal("1.0"), Decimal("2.0"), Decimal("3.0")]
    assert titles(client, sort="rating") == ["Film 2", "Film 1", "Film 0"]


def test_a_new_rating_saved_in_the_admin_reorders_the_list(client, admin_client):
    make_review(make_film("Aardvark"), rating="3.0")
    review = make_review(make_film("Vertigo"), rating="2.0")
    assert titles(client, sort="rating") == ["Aardvark", "Vertigo"]
    url = reverse("admin:reviews_review_change", args=[review.pk])
    published = timezone.localtime(review.published_at)
    data = {
        "film": review.film_id,
        "headline": review.headline,
        "slug": review.slug,
        "rating": "5.0",
        "critique": review.critique,
        "status": review.status,
        "published_at_0": f"{published:%Y-%m-%d}",
        "published_at_1": f"{published:%H:%M:%S}",
        "loaded_version": loaded_version(admin_client.get(url)),
    }
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert keys(review.film)[0] == Decimal("5.0")
    assert titles(client, sort="rating") == ["Vertigo", "Aardvark"]


def test_a_rating_changed_with_the_publish_button_reaches_the_keys(admin_client):
    """The workflow publishes first, with the stored rating; the form's save then writes the
    new one."""
    film = make_film("Vertigo")
    review = make_review(film, published=False, rating="2.0")
    url = reverse("admin:reviews_review_change", args=[review.pk])
    data = {
        "film": film.pk,
        "headline": review.headline,
        "slug": review.slug,
        "rating": "5.0",
        "critique": review.critique,
        "status": review.status,
        "loaded_version": loaded_version(admin_client.get(url)),
        "_workflow": "publish",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == Review.State.PUBLISHED
    assert keys(film) == (Decimal("5.0"), review.published_at)


def test_a_published_review_moved_to_another_film_takes_its_keys_along():
    aardvark, vertigo = make_film("Aardvark"), make_film("Vertigo")
    review = make_review(aardvark, rating="4.0")

    review.film = vertigo
    review.save()

    assert keys(aardvark) == (None, None)
    assert keys(vertigo) == (Decimal("4.0"), review.published_at)


def test_a_rating_written_with_a_queryset_update_reaches_the_keys():
    film = make_film("Vertigo")
    make_review(film, rating="4.0")

    Review.objects.filter(film=film).update(rating="1.5")

    assert keys(film)[0] == Decimal("1.5")


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_deleting_a_published_review_clears_its_films_keys(client, how):
    film = make_film("Vertigo")
    review = make_review(film, rating="4.0")

    if how == "instance":
        review.delete()
    else:
        Review.objects.filter(pk=review.pk).delete()

    assert keys(film) == (None, None)
    assert titles(client, reviewed="yes") == []


def test_saving_a_film_loaded_before_a_publication_keeps_the_new_keys():
    film = make_film("Vertigo")
    review = make_review(film, published=False, rating="4.0")
    loaded = Film.objects.get(pk=film.pk)

    review_publish(review=review)
    loaded.logline = "A retired detective."
    loaded.save()

    assert keys(film) == (Decimal("4.0"), review.published_at)


# Scheduled publications and expiries, exactly on time, with or without a cache


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture(params=["cache", "cache down"])
def cache_state(request, settings, monkeypatch):
    """The local-memory cache, or Redis refusing connections (the catalogue version is None)."""
    if request.param == "cache down":
        monkeypatch.setattr(filmmag.cache, "_outages", {})
        settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")
    return request.param


def test_a_scheduled_review_sorts_and_filters_from_its_time_on(client, clock, cache_state):
    make_film("Aardvark")
    make_review(make_film("Vertigo"), rating="5.0", published_at=T)
    assert (current_version() is None) == (cache_state == "cache down")
    before = what_readers_see(client)
    assert before == {
        "by rating": ["Aardvark", "Vertigo"],
        "recently reviewed": ["Aardvark", "Vertigo"],
        "reviewed": [],
        "not reviewed": ["Aardvark", "Vertigo"],
        "reviewed count": 0,
    }

    clock.move_to(T - timedelta(microseconds=1))
    assert what_readers_see(client) == before

    clock.move_to(T)
    assert what_readers_see(client) == {
        "by rating": ["Vertigo", "Aardvark"],
        "recently reviewed": ["Vertigo", "Aardvark"],
        "reviewed": ["Vertigo"],
        "not reviewed": ["Aardvark"],
        "reviewed count": 1,
    }


def test_an_expiring_review_leaves_the_sorts_and_filters_at_its_expiry(client, clock, cache_state):
    make_film("Aardvark")
    review = make_review(make_film("Vertigo"), rating="5.0", published_at=START - timedelta(1))
    review_set_expiry(review=review, expires_at=T)
    before = what_readers_see(client)
    assert before["by rating"] == ["Vertigo", "Aardvark"]
    assert before["reviewed"] == ["Vertigo"]

    clock.move_to(T - timedelta(microseconds=1))
    assert what_readers_see(client) == before

    clock.move_to(T)
    assert what_readers_see(client) == {
        "by rating": ["Aardvark", "Vertigo"],
        "recently reviewed": ["Aardvark", "Vertigo"],
        "reviewed": [],
        "not reviewed": ["Aardvark", "Vertigo"],
        "reviewed count": 0,
    }


def test_an_older_review_takes_over_when_the_latest_expires(client, clock):
    film = make_film("Vertigo")
    make_review(film, rating="2.0", published_at=START - timedelta(days=9))
    latest = make_review(film, rating="5.0", published_at=START - timedelta(days=1))
    review_set_expiry(review=latest, expires_at=T)
    client.get(FILM_LIST)

    clock.move_to(T)
    client.get(FILM_LIST)

    assert keys(film) == (Decimal("2.0"), START - timedelta(days=9))


def test_a_review_due_before_an_unrelated_change_still_shows_after_it(client, clock):
    """No reader came between the scheduled time and an editor's change, which makes a new
    catalogue version: the keys that came due are refreshed all the same."""
    make_review(make_film("Vertigo"), rating="5.0", published_at=T)
    other = make_review(make_film("Aardvark"), published=False, rating="1.0")
    client.get(FILM_LIST)

    clock.move_to(T + timedelta(hours=1))
    review_publish(review=other)

    assert titles(client, sort="rating") == ["Vertigo", "Aardvark"]
    assert titles(client, reviewed="yes") == ["Aardvark", "Vertigo"]


def test_refreshing_the_due_keys_twice_does_no_harm(clock):
    """Two readers may both find the version's change time come, and both refresh."""
    film = make_film("Vertigo")
    review = make_review(film, rating="5.0", published_at=T)
    clock.move_to(T)

    film_review_keys_refresh_due(T)
    film_review_keys_refresh_due(T)

    film.refresh_from_db()
    assert (film.latest_rating, film.last_reviewed_at) == (Decimal("5.0"), review.published_at)
    assert film.review_keys_stale_at is None


def test_the_data_migration_fills_the_keys_as_the_workflow_does(clock):
    films = [make_film(f"Film {n}") for n in range(4)]
    make_review(films[0], rating="3.5")
    make_review(films[0], rating="4.0", published_at=START - timedelta(hours=1))
    make_review(films[1], rating="1.0", published_at=T)
    expiring = make_review(films[2], rating="2.5")
    review_set_expiry(review=expiring, expires_at=T)
    make_review(films[3], published=False, rating="5.0")
    fields = ["latest_rating", "last_reviewed_at", "review_keys_stale_at"]
    kept = list(Film.objects.order_by("pk").values_list(*fields))
    assert kept[0][0] == Decimal("4.0") and kept[1][2] == T and kept[2][2] == T

    Film.objects.update(latest_rating=None, last_reviewed_at=None, review_keys_stale_at=None)
    importlib.import_module("reviews.migrations.0012_film_review_keys").fill(apps, None)

    assert list(Film.objects.order_by("pk").values_list(*fields)) == kept


def test_refreshing_every_film_puts_right_keys_written_around_the_workflow(clock):
    """As after a bulk load in SQL: missing keys are filled, and keys of no review cleared."""
    reviewed, unreviewed = make_film("Vertigo"), make_film("Aardvark")
    review = make_review(reviewed, rating="4.0")
    Film.objects.filter(pk=reviewed.pk).update(latest_rating=None, last_reviewed_at=None)
    Film.objects.filter(pk=unreviewed.pk).update(latest_rating="5.0", last_reviewed_at=START)

    assert film_review_keys_refresh_all() == 2

    assert keys(reviewed) == (Decimal("4.0"), review.published_at)
    assert keys(unreviewed) == (None, None)


def test_reverting_a_film_in_the_admin_keeps_its_review_keys(admin_client):
    """Revisions leave the keys out: a revert would write them empty, so it keeps the row's."""
    film = make_film("Vertigo", logline="Before.")
    with reversion.create_revision():
        film.save()
    review = make_review(film, published=False, rating="4.0")
    review_publish(review=review)
    version = Version.objects.get_for_object(film).first()
    url = reverse("admin:films_film_revision", args=[film.pk, version.pk])

    response = admin_client.post(url, form_values(admin_client.get(url).text))

    assert response.status_code == 302
    assert keys(film) == (Decimal("4.0"), review.published_at)
