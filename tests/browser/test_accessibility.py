"""Every kind of public page, checked by axe-core in a real browser."""

import pytest
from django.urls import reverse

from tests.factories import make_film, make_review

pytestmark = pytest.mark.browser


@pytest.fixture
def pages(live_server):
    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        runtime=97,
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika")],
        availability=[("Criterion Channel", "subscription"), ("iTunes", "rent", "GB")],
    )
    review = make_review(film, rating=4.5, keywords=["soviet cinema"])
    person = film.credits.first().person
    return [
        reverse("reviews:home"),
        reverse("reviews:review_list"),
        review.get_absolute_url(),
        reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}),
        reverse("films:film_list") + "?genre=war&year_min=abc",
        film.get_absolute_url(),
        person.get_absolute_url(),
        reverse("films:genre_detail", kwargs={"slug": "war"}),
        reverse("films:service_detail", kwargs={"slug": "criterion-channel"}),
        "/no-such-page/",
    ]


def test_public_pages_have_no_serious_accessibility_problems(page, pages, assert_accessible):
    for url in pages:
        page.goto(url)
        assert_accessible()


def test_film_list_is_usable_on_a_phone(page, pages, assert_accessible):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(reverse("films:film_list"))

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.get_by_role("button", name="Apply filters").is_visible()
    assert_accessible()
