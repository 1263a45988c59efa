"""Each public review page runs a fixed number of queries, however many reviews it lists."""

import pytest
from django.urls import reverse

from tests.factories import make_film, make_review
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db


def add_reviews(n):
    for i in range(n):
        film = make_film(f"Film {i}", genres=["Drama", f"Genre {i}"], directors=[f"Director {i}"])
        make_review(film, keywords=["shared", f"kw {i}"])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (reverse("reviews:home"), 3),
        (reverse("reviews:review_list"), 3),
        (reverse("reviews:tag_detail", kwargs={"slug": "shared"}), 5),
        (reverse("reviews:review_feed"), 1),
        ("/sitemap.xml", 6),
        ("/sitemap-reviews.xml", 2),
    ],
)
def test_review_pages_query_count_is_constant(client, url, expected):
    add_reviews(2)
    assert count_queries(client, url) == expected
    add_reviews(15)
    assert count_queries(client, url) == expected


def test_review_detail_query_count_is_constant(client):
    film = make_film("Vertigo", genres=["Thriller", "Mystery"], directors=["Alfred Hitchcock"])
    review = make_review(film, keywords=["a", "b", "c", "d"])
    assert count_queries(client, review.get_absolute_url()) == 5
