"""The director facet: the directors with the most films, the chosen one always, and any other
found by name without JavaScript; never every director."""

import re

import pytest
from django.urls import reverse

from films import filters
from tests.factories import make_film

pytestmark = pytest.mark.django_db

URL = reverse("films:film_list")


@pytest.fixture
def directors(monkeypatch):
    monkeypatch.setattr(filters, "TOP_DIRECTORS", 3)
    for n, name in enumerate(["Agnès Varda", "Михаил Калатозов", "Stanley Kubrick"]):
        for i in range(3 + n):
            make_film(f"{name} {i}", genres=["Drama"], directors=[name])
    for name in ["黒澤 明", "Ousmane Sembène", "Chantal Akerman"]:
        make_film(f"One by {name}", genres=["War"], directors=[name])


def director_options(response):
    html = response.content.decode()
    select = re.search(r'<select id="filter-director".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select)


def test_only_the_directors_with_the_most_films_are_offered(client, directors):
    options = director_options(client.get(URL))

    assert options == [
        ("", "", "Any director"),
        ("agnes-varda", "", "Agnès Varda (3)"),
        ("stanley-kubrick", "", "Stanley Kubrick (5)"),
        ("mikhail-kalatozov", "", "Михаил Калатозов (4)"),
    ]


def test_the_counts_and_the_choice_follow_the_other_filters(client, directors):
    options = director_options(client.get(URL, {"genre": "war"}))

    assert [label for _, _, label in options[1:]] == [
        "Chantal Akerman (1)",
        "Ousmane Sembène (1)",
        "黒澤 明 (1)",
    ]


def test_the_chosen_director_is_offered_even_outside_the_most_frequent(client, directors):
    response = client.get(URL, {"director": "ousmane-sembene"})

    options = director_options(response)
    assert ("ousmane-sembene", " selected", "Ousmane Sembène (1)") in options
    assert len(options) == 1 + 3
    assert [film.title for film in response.context["films"]] == ["One by Ousmane Sembène"]


def test_the_chosen_director_with_no_film_under_the_other_filters_stays_chosen(client, directors):
    options = director_options(client.get(URL, {"director": "chantal-akerman", "genre": "drama"}))

    assert ("chantal-akerman", " selected", "Chantal Akerman (0)") in options


def test_a_name_finds_any_director_without_javascript(client, directors):
    response = client.get(URL, {"director_q": "akerman"})

    assert director_options(response)[1:] == [("chantal-akerman", "", "Chantal Akerman (1)")]
    html = response.content.decode()
    assert '<label for="filter-director-q">Find a director by name</label>' in html
    assert 'name="director_q" value="akerman"' in html
    assert "Directors whose name contains “akerman”" in html
    # The name narrows the director options only: every film is still listed.
    assert response.context["paginator"].count == 15


def test_a_name_matches_the_original_script_too(client, directors):
    options = director_options(client.get(URL, {"director_q": "Калатозов"}))

    assert [value for value, _, _ in options[1:]] == ["mikhail-kalatozov"]


def test_a_name_that_matches_no_director_says_so(client, directors):
    response = client.get(URL, {"director_q": "Tarkovsky"})

    assert director_options(response) == [("", "", "Any director")]
    assert "No director’s name contains “Tarkovsky” here" in response.content.decode()


def test_the_name_is_not_a_filter_of_the_canonical_address(client, directors):
    html = client.get(URL, {"director_q": "akerman", "decade": "1950"}).content.decode()

    assert re.search(r'<link rel="canonical" href="[^"]*/films/\?decade=1950">', html)
