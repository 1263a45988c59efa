"""The search page (/search/): films, people and published reviews, best first, highlighted."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from films.models import Person
from reviews.models import Review
from tests.factories import make_film, make_review, make_review_in
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

URL = reverse("reviews:search")

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's full-text search and pg_trgm"
)


@pytest.fixture
def cranes():
    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika")],
    )
    Person.objects.filter(name="Mikhail Kalatozov").update(
        original_name="Михаил Калатозов", birth_year=1903, death_year=1973
    )
    return film


def group(response, key):
    """The result titles of one group, as the reader sees them (tags stripped)."""
    html = response.content.decode()
    section = re.search(
        rf'<section [^>]*aria-labelledby="search-{key}">(.*?)</section>', html, re.S
    )
    if section is None:
        return []
    return [
        re.sub(r"<[^>]+>", "", title)
        for title in re.findall(r'class="search-result__title"[^>]*>(.*?)</a>', section[1], re.S)
    ]


def test_the_header_search_box_goes_to_the_search_page(client):
    response = client.get(reverse("reviews:home"))

    assert f'action="{URL}"' in response.content.decode()


def test_a_name_finds_the_person_and_their_films(client, cranes):
    response = client.get(URL, {"q": "kalatozov"})

    assert group(response, "people") == ["Mikhail Kalatozov"]
    assert group(response, "films") == ["The Cranes Are Flying"]
    assert "Directed by <mark>Mikhail</mark>" not in response.content.decode()
    assert "Directed by Mikhail <mark>Kalatozov</mark> (Михаил Калатозов)" in (
        response.content.decode()
    )
    assert "1903–1973" in response.content.decode()


def test_a_review_is_found_by_its_sections_with_a_highlighted_snippet(client, cranes):
    review = make_review(
        cranes,
        headline="A Soviet masterpiece",
        critique="Urusevsky's camera circles Veronika on the stairs.",
    )

    response = client.get(URL, {"q": "urusevsky"})

    assert group(response, "reviews") == ["A Soviet masterpiece"]
    html = response.content.decode()
    assert f'href="{review.get_absolute_url()}"' in html
    assert "<mark>Urusevsky</mark>&#x27;s camera circles Veronika" in html


def test_drafts_and_other_unpublished_reviews_never_appear(client, cranes):
    for state in ("draft", "in_review", "scheduled", "expired", "unpublished"):
        make_review_in(state, cranes, headline=f"Secret {state} zeppelin")
    make_review(cranes, headline="Public zeppelin")

    response = client.get(URL, {"q": "zeppelin"})

    assert group(response, "reviews") == ["Public zeppelin"]
    assert "Secret" not in response.content.decode()


def test_a_headline_match_ranks_above_a_section_match(client, cranes):
    other = make_film("Wings", year=1966)
    make_review(other, headline="Steppe and sky", conclusion="A film about a pilot, not cranes.")
    make_review(cranes, headline="Cranes over Moscow", conclusion="Tender.")

    response = client.get(URL, {"q": "cranes"})

    assert group(response, "reviews") == ["Cranes over Moscow", "Steppe and sky"]


def test_a_film_is_found_by_its_original_title_in_cyrillic(client, cranes):
    response = client.get(URL, {"q": "Летят журавли"})

    assert group(response, "films") == ["The Cranes Are Flying"]
    assert "<mark>Летят</mark> <mark>журавли</mark>" in response.content.decode()


@on_postgresql
def test_postgresql_finds_kalatozov_from_a_misspelling(client, cranes):
    response = client.get(URL, {"q": "Kalatozof"})

    assert group(response, "people") == ["Mikhail Kalatozov"]
    assert group(response, "films") == ["The Cranes Are Flying"]
    assert "<mark>Kalatozov</mark>" in response.content.decode()


@on_postgresql
def test_postgresql_finds_people_and_reviews_in_another_script_and_with_stems(client, cranes):
    make_review(cranes, headline="Журавли", critique="The cranes were flying over the city.")

    assert group(client.get(URL, {"q": "калатозов"}), "people") == ["Mikhail Kalatozov"]
    assert group(client.get(URL, {"q": "журавли"}), "reviews") == ["Журавли"]
    # English stems: "fly" finds "flying" in a section.
    assert group(client.get(URL, {"q": "fly crane"}), "reviews") == ["Журавли"]


def test_no_results_say_so(client, cranes):
    response = client.get(URL, {"q": "zzyzx"})

    assert response.status_code == 200
    assert "Nothing found for “zzyzx”" in response.content.decode()


HOSTILE = [
    "",
    "   ",
    "!!! ?? …",
    "' OR '1'='1",
    "1; DROP TABLE films_film; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "a\x00b",
    "\x00",
    "x" * 5000,
    "é" * 300,
    "\u202e1957",
    "{{ 7|add:7 }}",
    "%_%",
    '"unclosed phrase',
    "-",
    "or or or",
    "cranes & | ! :* <->",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_give_a_normal_page(client, cranes, query):
    make_review(cranes, headline="The cranes <b>fly</b>")

    response = client.get(URL, {"q": query})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "\x00" not in html
    assert "<b>fly</b>" not in html


def test_an_overlong_query_is_cut_and_says_so(client, cranes):
    response = client.get(URL, {"q": "cranes " + "x" * 300})

    assert "Only the first 200 characters" in response.content.decode()
    assert len(response.context["query"]) == 200


def test_punctuation_only_asks_for_a_word(client):
    response = client.get(URL, {"q": "!!!"})

    assert "“!!!” has no letters or digits" in response.content.decode()


def test_more_films_than_shown_link_to_the_film_list(client):
    for n in range(12):
        make_film(f"Storm {n}", year=1950 + n)

    response = client.get(URL, {"q": "storm"})

    assert len(group(response, "films")) == 10
    assert f'href="{reverse("films:film_list")}?q=storm"' in response.content.decode()


def test_the_search_page_is_not_indexed(client):
    assert '<meta name="robots" content="noindex, follow">' in client.get(URL).content.decode()


def test_search_page_query_count_is_constant(client, cranes):
    for n in range(12):
        film = make_film(
            f"Storm {n}",
            year=1950 + n,
            directors=[f"Storm Director {n}"],
            cast=[(f"Storm Actor {n}", "Sailor")],
        )
        make_review(film, headline=f"Storm review {n}", critique="Storm at sea.")

    # Films and their credits (2), people (1), reviews with film and author (1).
    assert count_queries(client, URL, {"q": "storm"}) == 4
    assert count_queries(client, URL, {"q": "!!!"}) == 0
    assert Review.objects.published().count() == 12
