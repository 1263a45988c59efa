"""Each public catalogue page runs a fixed number of queries, however many films it shows."""

import pytest
from django.urls import reverse

from films.models import Credit
from tests.factories import make_film, make_person, make_review, make_user
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db


def add_films(n, start=0):
    for i in range(start, start + n):
        film = make_film(
            f"Film {i}",
            year=1950 + i,
            genres=["Drama", "War"],
            directors=["Stanley Kubrick", f"Co-director {i}"],
            cast=[(f"Actor {i}", "Hero")],
            availability=[("Mubi", "subscription"), ("iTunes", "rent"), ("Mubi", "rent", "GB")],
        )
        make_review(film, rating=4)


# Facets 3 (genre + service + offer, director, decade + reviewed), the page of films 3 (films,
# directors, genres), and 1 for the genres, services and director named in the address; a
# service page 1 more, for its "New on" and "Recently left" lists; a title search 1 more, for
# the ids of the films it finds, which every count then reuses.
LIST_PAGES = [
    (reverse("films:film_list"), {}, 6),
    (
        reverse("films:film_list"),
        {"genre": "war", "service": "mubi", "director": "stanley-kubrick"},
        7,
    ),
    (reverse("films:film_list"), {"offer": "rent", "decade": "1950", "sort": "rating"}, 6),
    (
        reverse("films:film_list"),
        {
            "q": "film",
            "genre": ["war", "drama", "nope"],
            "director": "stanley-kubrick",
            "service": ["mubi", "itunes"],
            "offer": ["rent", "subscription"],
            "decade": "1950",
            "year_min": "1950",
            "year_max": "2000",
            "reviewed": "yes",
            "sort": "rating",
            "director_q": "kub",
        },
        8,
    ),
    # The reader's region, from the address or the cookie, costs no query.
    (reverse("films:film_list"), {"service": "mubi", "offer": "rent", "region": "GB"}, 7),
    (reverse("films:film_list"), {"region": "nowhere"}, 6),
    (reverse("films:film_list"), {"director_q": "co-dir"}, 6),
    (reverse("films:genre_detail", kwargs={"slug": "war"}), {}, 7),
    (reverse("films:service_detail", kwargs={"slug": "mubi"}), {"region": "gb"}, 8),
    (reverse("films:service_detail", kwargs={"slug": "mubi"}), {}, 8),
]


@pytest.mark.parametrize(("url", "params", "expected"), LIST_PAGES)
def test_list_pages_query_count_is_constant(client, url, params, expected):
    add_films(2)
    assert count_queries(client, url, params) == expected
    add_films(30, start=2)
    assert count_queries(client, url, params) == expected


def test_film_detail_query_count_is_constant(client):
    add_films(1)
    film = make_film(
        "Crowded",
        genres=["Drama", "War", "Romance"],
        directors=["A B", "C D"],
        cast=[(f"Actor {i}", f"Role {i}") for i in range(12)],
        availability=[("Mubi", "subscription"), ("iTunes", "rent"), ("iTunes", "buy", "GB")],
    )
    film.tags.add("one", "two")
    for n in range(3):  # bylines from the author accounts: no query per review
        make_review(film, author=make_user(f"critic{n}"))
    # Rendered: 8, with the regions with offers (for the region chooser), 7 with another
    # region's (the first's are cached). Again in the same catalogue version: the film's lookup
    # alone (films.fragments).
    assert count_queries(client, film.get_absolute_url()) == 8
    assert count_queries(client, film.get_absolute_url(), {"region": "GB"}) == 7
    assert count_queries(client, film.get_absolute_url()) == 1
    film.tags.add("three")  # a change: rendered anew
    assert count_queries(client, film.get_absolute_url()) == 8
    assert count_queries(client, film.get_absolute_url()) == 1


def test_person_page_query_count_is_constant(client):
    person = make_person("Stanley Kubrick")
    add_films(2)
    # The person, the number of credits per role, and the latest of each role with their films.
    assert count_queries(client, person.get_absolute_url()) == 3
    add_films(20, start=2)
    Credit.objects.create(film=make_film("Extra"), person=person, role="writer")
    for n in range(30):
        Credit.objects.create(film=make_film(f"Part {n}"), person=person, role="actor")
    assert count_queries(client, person.get_absolute_url()) == 3
    assert count_queries(client, person.get_absolute_url(), {"role": "actor", "page": "1"}) == 3
