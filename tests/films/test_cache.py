from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

import films.cache
from films.cache import (
    CatalogueVersion,
    catalogue_changed,
    catalogue_changes_ignored,
    catalogue_version,
    current_version,
    schedule_changed,
)
from tests.factories import make_film

pytestmark = pytest.mark.django_db


def test_a_catalogue_change_gives_a_new_version():
    version = catalogue_version()

    make_film("Vertigo")

    assert catalogue_version() != version


def test_changes_are_ignored_only_inside_the_block():
    version = catalogue_version()

    with catalogue_changes_ignored():
        make_film("Vertigo", genres=["Thriller"])
    assert catalogue_version() == version

    make_film("Psycho")
    assert catalogue_version() != version


def test_the_block_ends_even_when_it_fails():
    version = catalogue_version()

    with pytest.raises(RuntimeError), catalogue_changes_ignored():
        raise RuntimeError("the dry run failed")
    make_film("Vertigo")

    assert catalogue_version() != version


@pytest.fixture
def schedule(monkeypatch):
    """A stand-in for the providers apps register: the times in ``schedule`` are changes."""
    times = []
    monkeypatch.setattr(
        films.cache,
        "_next_change_providers",
        [lambda now: min((t for t in times if t > now), default=None)],
    )
    return times


def test_the_version_knows_the_next_scheduled_change(schedule):
    now = timezone.now()
    schedule += [now + timedelta(hours=2), now + timedelta(hours=1), now - timedelta(hours=1)]

    assert current_version(now).next_change_at == now + timedelta(hours=1)


def test_the_version_changes_when_the_next_change_comes_and_not_before(schedule):
    now = timezone.now()
    schedule.append(now + timedelta(hours=1))
    version = current_version(now)

    assert current_version(now + timedelta(minutes=59)) == version
    after = current_version(now + timedelta(hours=1))
    assert after.number != version.number
    assert after.next_change_at is None
    assert current_version(now + timedelta(hours=2)) == after


def test_a_catalogue_change_keeps_the_next_change_time_without_a_query(
    schedule, django_assert_num_queries
):
    now = timezone.now()
    schedule.append(now + timedelta(hours=1))
    version = current_version(now)
    schedule.append(now + timedelta(minutes=30))  # not known to the version: nothing said so

    with django_assert_num_queries(0):
        catalogue_changed()

    assert current_version(now).number != version.number
    assert current_version(now).next_change_at == now + timedelta(hours=1)
    schedule_changed()
    assert current_version(now).next_change_at == now + timedelta(minutes=30)


def test_nothing_is_cached_past_the_next_change():
    now = timezone.now()
    version = CatalogueVersion(1, now + timedelta(seconds=90))

    assert version.timeout(300, now) == 90
    assert version.timeout(60, now) == 60
    assert version.timeout(300, now + timedelta(seconds=89.5)) == 0
    assert CatalogueVersion(1, None).timeout(300, now) == 300


def test_reviews_register_their_publications_and_expiries():
    from reviews.models import Review

    assert Review.objects.next_visibility_change in films.cache._next_change_providers


def test_a_change_gives_a_new_version_even_when_the_clock_stands_still():
    with time_machine.travel(timezone.now(), tick=False):
        version = catalogue_version()
        make_film("Vertigo")

        assert catalogue_version() != version
