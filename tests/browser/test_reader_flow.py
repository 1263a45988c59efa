"""A reader finds a film by genre and service, opens it, and reads its review."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reviews.models import Review
from tests.factories import make_film, make_review

pytestmark = pytest.mark.browser


@pytest.fixture
def catalogue():
    """Four films that differ in genre, director and where to watch them."""
    cranes = make_film(
        "The Cranes Are Flying",
        year=1957,
        genres=["Drama", "War", "Romance"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika"), ("Aleksey Batalov", "Boris")],
        availability=[("Criterion Channel", "subscription", "US")],
    )
    make_film(
        "Come and See",
        year=1985,
        genres=["War", "Drama"],
        directors=["Elem Klimov"],
        availability=[("Max", "subscription", "US")],
    )
    make_film(
        "I Am Cuba",
        year=1964,
        genres=["Drama"],
        directors=["Mikhail Kalatozov"],
        availability=[("Criterion Channel", "subscription", "US")],
    )
    make_film(
        "Vertigo",
        year=1958,
        genres=["Thriller", "Romance"],
        directors=["Alfred Hitchcock"],
        availability=[("Apple TV", "rent", "US")],
    )
    review = make_review(
        cranes,
        headline="Love and war in one breathless take",
        synopsis="Veronika and Boris part when he volunteers for the front.",
        critique="Urusevsky's camera runs, climbs and spins with her grief.",
        criticisms="The last reel leans on speeches.",
        conclusion="One of the great films about waiting.",
    )
    return {"cranes": cranes, "review": review}


def result_titles(page):
    results = page.get_by_role("region", name="Films")
    return results.get_by_role("article").get_by_role("link").all_inner_texts()


def genre(page, name):
    """A genre checkbox, whatever its facet count: its label reads "War (2)"."""
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)} \(\d+\)$"))


def test_reader_filters_by_genre_and_service_then_reads_the_review(page, catalogue):
    page.goto("/films/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Films")
    expect(page.get_by_role("status")).to_have_text("4 films")
    expect(genre(page, "War")).to_have_accessible_name("War (2)")

    genre(page, "War").check()
    page.get_by_role("checkbox", name=re.compile(r"^Criterion Channel \(\d+\)$")).check()
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"[?&]genre=war(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]service=criterion-channel(&|$)"))
    expect(page.get_by_role("status")).to_have_text("1 film")
    assert result_titles(page) == ["The Cranes Are Flying"]
    # The choices survive the round trip, and each count now assumes the other filters.
    expect(genre(page, "War")).to_be_checked()
    expect(genre(page, "War")).to_have_accessible_name("War (1)")
    expect(genre(page, "Drama")).to_have_accessible_name("Drama (2)")  # Cranes, I Am Cuba

    page.get_by_role("link", name="The Cranes Are Flying").click()
    expect(page).to_have_url(re.compile(r"/films/the-cranes-are-flying/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("The Cranes Are Flying")
    reviews = page.get_by_role("region", name="Reviews")
    expect(reviews.get_by_role("link")).to_have_text(["Love and war in one breathless take"])

    reviews.get_by_role("link", name="Love and war in one breathless take").click()
    expect(page).to_have_url(re.compile(re.escape(catalogue["review"].get_absolute_url()) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Love and war in one breathless take")
    expect(page.get_by_role("heading", level=2)).to_contain_text(
        ["Synopsis", "Critique", "Criticisms", "Conclusion"]
    )
    expect(page.get_by_role("region", name="Critique")).to_contain_text("Urusevsky's camera")
    expect(page.get_by_role("region", name="Conclusion")).to_contain_text(
        "One of the great films about waiting."
    )


def test_reader_filters_by_director(page, catalogue):
    page.goto("/films/")

    page.get_by_label("Director", exact=True).select_option(label="Mikhail Kalatozov (2)")
    page.get_by_role("button", name="Apply filters").click()

    expect(page.get_by_role("status")).to_have_text("2 films")
    assert result_titles(page) == ["I Am Cuba", "The Cranes Are Flying"]


def test_a_draft_review_is_not_linked_from_the_film_page(page, catalogue):
    film = catalogue["cranes"]
    draft = make_review(film, published=False, headline="Notes towards a second look")
    scheduled = make_review(
        film,
        headline="Coming next week",
        status=Review.Status.PUBLISHED,
        published_at=timezone.now() + timedelta(days=7),
    )

    page.goto(film.get_absolute_url())

    reviews = page.get_by_role("region", name="Reviews")
    expect(reviews.get_by_role("link")).to_have_text(["Love and war in one breathless take"])
    expect(page.get_by_text(draft.headline)).to_have_count(0)
    expect(page.get_by_text(scheduled.headline)).to_have_count(0)
    for hidden in (draft, scheduled):
        response = page.goto(hidden.get_absolute_url())
        assert response is not None and response.status == 404


def test_film_list_has_no_serious_accessibility_problems(page, catalogue, assert_accessible):
    page.goto("/films/?genre=war")
    expect(page.get_by_role("status")).to_have_text("2 films")

    assert_accessible()
