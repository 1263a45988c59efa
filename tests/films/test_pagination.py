"""Lists read a page's rows by the ids of that page (films.pagination.RowsByIdPaginator): every
page must hold the rows, in the order, that slicing the whole list gives, ties included."""

import pytest
from django.core.paginator import Paginator
from django.urls import reverse

from films.filters import ORDERINGS
from films.models import Film
from films.pagination import RowsByIdPaginator
from tests.factories import make_film, make_review
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def films():
    # Same titles, same years, titles differing only in case or accents: ties for every order.
    for n, (title, year) in enumerate(
        [("Ran", 1985), ("Ran", 1985), ("ran", 1985), ("Rán", 1957), ("Ida", 2013)] * 3
        + [(f"Film {i}", 1950 + i % 4) for i in range(8)]
    ):
        film = make_film(title, year=year)
        if n % 3:
            make_review(film, rating=["2", "3.5", "5"][n % 3])
    return Film.objects.all()


@pytest.mark.parametrize("order", list(ORDERINGS))
@pytest.mark.parametrize("per_page", [1, 4, 7])
def test_every_page_holds_what_slicing_the_whole_list_gives(films, order, per_page):
    ordered = films.order_by(*ORDERINGS[order])
    by_slice = Paginator(ordered, per_page, orphans=1)
    by_id = RowsByIdPaginator(ordered, per_page, orphans=1)

    assert by_id.num_pages == by_slice.num_pages > 2
    for number in by_slice.page_range:
        assert list(by_id.page(number)) == list(by_slice.page(number)), (order, number)


def test_a_list_or_a_distinct_or_sliced_queryset_is_paged_as_django_does(films):
    as_list = list(films.order_by("pk"))
    assert list(RowsByIdPaginator(as_list, 5).page(2)) == as_list[5:10]
    distinct = films.order_by("title").values_list("title", flat=True).distinct()
    assert list(RowsByIdPaginator(distinct, 2).page(2)) == list(Paginator(distinct, 2).page(2))
    sliced = films.order_by("pk")[:7]
    assert list(RowsByIdPaginator(sliced, 5).page(2)) == as_list[5:7]


def test_a_deep_page_costs_the_queries_of_the_first(client, films, settings, monkeypatch):
    """The ids are a subquery of the page's own query: no query more."""
    from reviews.views import ReviewListView

    settings.SHARED_PAGES_ENABLED = False
    monkeypatch.setattr(ReviewListView, "paginate_by", 3)
    reviews = reverse("reviews:review_list")
    first = count_queries(client, reviews)
    assert count_queries(client, reviews, {"page": "3"}) == first
    assert client.get(reviews, {"page": "3"}).context["page_obj"].number == 3
