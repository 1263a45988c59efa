from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from films.models import Availability, Credit, Film, Person
from tests.factories import make_film, make_person, make_service

pytestmark = pytest.mark.django_db


def assert_refused_by_database(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_film_year_follows_the_release_date():
    film = make_film("Vertigo", release_date=date(1958, 5, 9), year=1900)

    assert film.year == 1958
    assert film.slug == "vertigo"
    assert str(film) == "Vertigo (1958)"


def test_same_title_gets_a_distinct_slug():
    first = make_film("Hamlet", year=1948)
    second = make_film("Hamlet", year=1996)

    assert (first.slug, second.slug) == ("hamlet", "hamlet-2")


def test_film_needs_a_year_or_release_date():
    film = Film(title="Undated")
    with pytest.raises(ValidationError, match="at least the year"):
        film.full_clean()


def test_film_year_must_be_plausible():
    assert_refused_by_database(lambda: Film.objects.create(title="Future", year=2500))


def test_credit_is_unique_per_film_person_role_and_character():
    film = make_film(cast=[("Tatiana Samoilova", "Veronika")])
    person = Person.objects.get(name="Tatiana Samoilova")

    assert_refused_by_database(
        lambda: Credit.objects.create(film=film, person=person, role="actor", character="Veronika"),
    )


def test_only_actors_have_characters():
    film, person = make_film(), make_person()
    assert_refused_by_database(
        lambda: Credit.objects.create(film=film, person=person, role="director", character="X"),
    )


def test_availability_is_unique_per_film_service_offer_and_region():
    film = make_film(availability=[("Mubi", "subscription", "US")])
    service = make_service("Mubi")
    Availability.objects.create(film=film, service=service, offer_type="subscription", region="GB")

    assert_refused_by_database(
        lambda: Availability.objects.create(
            film=film, service=service, offer_type="subscription", region="US"
        ),
    )


def test_availability_region_defaults_to_the_site_region(settings):
    settings.FILMMAG_DEFAULT_REGION = "GB"
    film = make_film()
    offer = Availability.objects.create(film=film, service=make_service(), offer_type="rent")

    assert offer.region.code == "GB"


def test_person_cannot_die_before_being_born():
    assert_refused_by_database(
        lambda: Person.objects.create(name="Oddity", birth_year=1950, death_year=1900),
    )


def test_directors_reads_the_prefetch():
    film = make_film(directors=["Joel Coen", "Ethan Coen"])
    film = Film.objects.with_directors().get(pk=film.pk)

    assert [p.name for p in film.directors] == ["Joel Coen", "Ethan Coen"]
