"""The admin's change lists at any size (films.admin_lists): searches over related fields find
each row once, word by word as Django's do; "By film" lists recent films and the chosen one,
not every film; deep pages hold what slicing the whole list gives."""

import pytest
from django.urls import reverse

from films.admin_lists import RecentRelatedListFilter
from films.models import Film
from tests.factories import make_editor, make_film, make_review

pytestmark = pytest.mark.django_db

FILMS = reverse("admin:films_film_changelist")
REVIEWS = reverse("admin:reviews_review_changelist")


@pytest.fixture
def editor(client):
    client.force_login(make_editor())
    return client


def titles(response):
    return [str(row) for row in response.context["cl"].result_list]


def test_a_search_over_related_fields_finds_each_film_once(editor):
    make_film(
        "The Cranes Are Flying",
        directors=["Mikhail Kalatozov"],
        cast=[("Mikhail Kalatozov", "Himself"), ("Tatiana Samoilova", "Veronika")],
    )
    make_film("I Am Cuba", directors=["Mikhail Kalatozov"])
    make_film("Ivan's Childhood", directors=["Andrei Tarkovsky"])

    assert sorted(titles(editor.get(FILMS, {"q": "kalatozov"}))) == [
        "I Am Cuba (1957)",
        "The Cranes Are Flying (1957)",
    ]
    # Every word must match a field, not necessarily the same one.
    assert titles(editor.get(FILMS, {"q": "cranes samoilova"})) == ["The Cranes Are Flying (1957)"]
    assert titles(editor.get(FILMS, {"q": "cranes tarkovsky"})) == []
    # Quotes keep words together, as in Django's own search.
    assert titles(editor.get(FILMS, {"q": '"am cuba"'})) == ["I Am Cuba (1957)"]
    assert titles(editor.get(FILMS, {"q": '"cuba am"'})) == []


def test_a_review_search_matches_keywords_and_film_titles_once(editor):
    film = make_film("Vertigo")
    make_review(film, headline="Obsession", keywords=["obsession", "san francisco"])
    make_review(make_film("Rear Window"), headline="Looking on")

    assert [
        r.headline for r in editor.get(REVIEWS, {"q": "obsession"}).context["cl"].result_list
    ] == ["Obsession"]
    assert [r.headline for r in editor.get(REVIEWS, {"q": "window"}).context["cl"].result_list] == [
        "Looking on"
    ]


def test_by_film_lists_recent_films_and_the_chosen_one_not_every_film(editor, monkeypatch):
    monkeypatch.setattr(RecentRelatedListFilter, "shown", 3)
    films = [make_film(f"Film {n}") for n in range(6)]
    for film in films:
        make_review(film, headline=f"On {film.title}")

    listed = editor.get(REVIEWS)
    chosen = editor.get(REVIEWS, {"film__id__exact": films[0].pk})

    def choices(response):
        spec = next(s for s in response.context["cl"].filter_specs if s.title == "film")
        return {str(choice["display"]) for choice in spec.choices(response.context["cl"])}

    recent = {"All", "Film 3 (1957)", "Film 4 (1957)", "Film 5 (1957)"}
    assert choices(listed) == recent
    assert choices(chosen) == recent | {"Film 0 (1957)"}
    assert [r.headline for r in chosen.context["cl"].result_list] == ["On Film 0"]


def test_every_admin_page_holds_what_slicing_the_whole_list_gives(editor, monkeypatch):
    from films.admin import FilmAdmin

    monkeypatch.setattr(FilmAdmin, "list_per_page", 2)
    for n in range(5):
        make_film("Same title", year=2000 + n % 2)  # ties: the order falls back to the id

    shown = []
    for page in (1, 2, 3):
        shown += [row.pk for row in editor.get(FILMS, {"p": page}).context["cl"].result_list]

    assert shown == list(Film.objects.order_by("title", "year", "-pk").values_list("pk", flat=True))
