"""The film list: every filter alone and combined, facet counts, bad input, query counts."""

import re

import pytest
from django.urls import reverse

from films.models import Film
from reviews.workflow import reviews_publish
from tests.factories import make_film, make_review

pytestmark = pytest.mark.django_db

URL = reverse("films:film_list")


@pytest.fixture
def catalogue():
    films = {
        "cranes": make_film(
            "The Cranes Are Flying",
            year=1957,
            genres=["Drama", "War", "Romance"],
            directors=["Mikhail Kalatozov"],
            availability=[
                ("Criterion Channel", "subscription"),
                ("iTunes", "rent"),
                ("iTunes", "buy"),
            ],
        ),
        "cuba": make_film(
            "I Am Cuba",
            year=1964,
            genres=["Drama", "History"],
            directors=["Mikhail Kalatozov"],
            availability=[("Mubi", "subscription")],
        ),
        "paths": make_film(
            "Paths of Glory",
            year=1957,
            genres=["War", "Drama"],
            directors=["Stanley Kubrick"],
            availability=[("Criterion Channel", "rent"), ("Tubi", "ads")],
        ),
        "strangelove": make_film(
            "Dr. Strangelove",
            year=1964,
            genres=["Comedy", "War"],
            directors=["Stanley Kubrick"],
            availability=[("Max", "subscription"), ("iTunes", "buy")],
        ),
        "spirited": make_film(
            "Spirited Away",
            year=2001,
            genres=["Animation", "Fantasy"],
            directors=["Hayao Miyazaki"],
            availability=[("Tubi", "free", "GB")],
        ),
    }
    make_review(films["cranes"], rating=5)
    make_review(films["strangelove"], rating=4)
    make_review(films["spirited"], published=False, rating=3)
    return films


def titles(response):
    return [film.title for film in response.context["films"]]


def option_count(response, facet, value):
    return next(o.count for o in response.context["facets"][facet] if o.value == value)


def test_lists_every_film_sorted_by_title_with_a_count(client, catalogue):
    response = client.get(URL)

    assert response.status_code == 200
    assert titles(response) == [
        "Dr. Strangelove",
        "I Am Cuba",
        "Paths of Glory",
        "Spirited Away",
        "The Cranes Are Flying",
    ]
    assert "5 films" in response.content.decode()


def test_genre_filter(client, catalogue):
    response = client.get(URL, {"genre": "war"})

    assert set(titles(response)) == {"The Cranes Are Flying", "Paths of Glory", "Dr. Strangelove"}
    assert "3 films" in response.content.decode()


def test_several_genres_widen_the_result(client, catalogue):
    response = client.get(URL, {"genre": ["comedy", "animation"]})

    assert set(titles(response)) == {"Dr. Strangelove", "Spirited Away"}


def test_director_filter(client, catalogue):
    response = client.get(URL, {"director": "mikhail-kalatozov"})

    assert set(titles(response)) == {"The Cranes Are Flying", "I Am Cuba"}


def test_service_filter_with_several_services(client, catalogue):
    response = client.get(URL, {"service": ["mubi", "max"]})

    assert set(titles(response)) == {"I Am Cuba", "Dr. Strangelove"}


def test_offer_type_filter(client, catalogue):
    response = client.get(URL, {"offer": "ads"})

    assert titles(response) == ["Paths of Glory"]


def test_service_and_offer_type_must_be_the_same_offer(client, catalogue):
    # Criterion has Cranes by subscription and Paths for rent: "Criterion + rent" is only Paths.
    response = client.get(URL, {"service": "criterion-channel", "offer": "rent"})

    assert titles(response) == ["Paths of Glory"]


def test_decade_and_year_range(client, catalogue):
    assert set(titles(client.get(URL, {"decade": "1960"}))) == {"I Am Cuba", "Dr. Strangelove"}
    assert titles(client.get(URL, {"year_min": "1990"})) == ["Spirited Away"]
    assert set(titles(client.get(URL, {"year_min": "1957", "year_max": "1957"}))) == {
        "The Cranes Are Flying",
        "Paths of Glory",
    }


def test_reviewed_filter_counts_only_published_reviews(client, catalogue):
    reviewed = client.get(URL, {"reviewed": "yes"})
    not_reviewed = client.get(URL, {"reviewed": "no"})

    assert set(titles(reviewed)) == {"The Cranes Are Flying", "Dr. Strangelove"}
    assert "Spirited Away" in titles(not_reviewed)  # its only review is a draft


def test_title_search_matches_title_and_original_title(client, catalogue):
    catalogue["cranes"].original_title = "Летят журавли"
    catalogue["cranes"].save()

    assert titles(client.get(URL, {"q": "cuba"})) == ["I Am Cuba"]
    assert titles(client.get(URL, {"q": "журавли"})) == ["The Cranes Are Flying"]


@pytest.mark.parametrize("ids_limit", [5000, 0], ids=["films fetched once", "search repeated"])
def test_a_title_search_narrows_the_counts_as_it_narrows_the_list(
    client, catalogue, monkeypatch, ids_limit
):
    monkeypatch.setattr("films.filters.TITLE_IDS_LIMIT", ids_limit)
    # "the", short and common: on PostgreSQL its condition stands alone, with no typo tolerance.
    response = client.get(URL, {"q": "the"})

    assert titles(response) == ["The Cranes Are Flying"]
    assert response.context["facets"]["total"] == 1
    assert option_count(response, "genre", "war") == 1
    assert option_count(response, "genre", "comedy") == 0
    assert option_count(response, "service", "itunes") == 1
    assert option_count(response, "offer", "buy") == 1
    assert option_count(response, "director", "mikhail-kalatozov") == 1
    assert option_count(response, "decade", "1950") == 1
    assert option_count(response, "reviewed", "yes") == 1


@pytest.mark.parametrize("ids_limit", [5000, 0], ids=["films fetched once", "search repeated"])
def test_a_title_search_and_other_filters_count_together(client, catalogue, monkeypatch, ids_limit):
    monkeypatch.setattr("films.filters.TITLE_IDS_LIMIT", ids_limit)
    # Kubrick's two films, found by their director's name; Paths of Glory alone is on Criterion.
    response = client.get(URL, {"q": "kubrick", "genre": "war", "service": "criterion-channel"})

    assert titles(response) == ["Paths of Glory"]
    assert option_count(response, "genre", "war") == 1
    assert option_count(response, "genre", "drama") == 1
    assert option_count(response, "service", "criterion-channel") == 1
    assert option_count(response, "service", "max") == 1
    assert option_count(response, "service", "itunes") == 1
    assert option_count(response, "offer", "rent") == 1
    assert option_count(response, "director", "stanley-kubrick") == 1
    assert option_count(response, "decade", "1950") == 1


def test_combined_filters_find_the_cranes(client, catalogue):
    response = client.get(
        URL, {"genre": "war", "director": "mikhail-kalatozov", "service": "criterion-channel"}
    )

    assert titles(response) == ["The Cranes Are Flying"]
    assert "1 film" in response.content.decode()


def test_facet_counts_apply_the_other_filters(client, catalogue):
    response = client.get(URL, {"genre": "war", "service": "criterion-channel"})

    # Genres are counted with the service filter applied but not the genre filter itself.
    assert option_count(response, "genre", "war") == 2
    assert option_count(response, "genre", "drama") == 2
    assert option_count(response, "genre", "comedy") == 0
    # Services are counted with the genre filter applied.
    assert option_count(response, "service", "criterion-channel") == 2
    assert option_count(response, "service", "itunes") == 2
    assert option_count(response, "service", "max") == 1
    assert option_count(response, "service", "mubi") == 0
    # Offer types: War films on Criterion, by offer.
    assert option_count(response, "offer", "subscription") == 1
    assert option_count(response, "offer", "rent") == 1
    assert option_count(response, "offer", "ads") == 0
    # Directors and decades with everything else applied.
    assert option_count(response, "director", "stanley-kubrick") == 1
    assert option_count(response, "decade", "1950") == 2


def test_a_film_that_matches_several_chosen_options_is_counted_once(client, catalogue):
    # The Cranes Are Flying is War and Drama, and on Criterion and iTunes (twice: rent and buy).
    response = client.get(
        URL, {"genre": ["war", "drama"], "service": ["criterion-channel", "itunes"]}
    )

    assert response.context["facets"]["total"] == 3
    assert option_count(response, "genre", "war") == 3
    assert option_count(response, "genre", "drama") == 2
    assert option_count(response, "service", "criterion-channel") == 2
    assert option_count(response, "service", "itunes") == 2
    assert option_count(response, "service", "mubi") == 1
    assert option_count(response, "offer", "rent") == 2
    assert option_count(response, "offer", "buy") == 2
    assert option_count(response, "offer", "ads") == 0
    assert option_count(response, "director", "stanley-kubrick") == 2
    assert option_count(response, "director", "mikhail-kalatozov") == 1
    assert option_count(response, "decade", "1950") == 2


def test_facet_counts_are_shown_next_to_each_option(client, catalogue):
    response = client.get(URL, {"genre": "war"})

    html = response.content.decode()
    assert re.search(r'value="drama"[^>]*>\s*Drama <span class="facet__count">\(3\)</span>', html)
    assert re.search(r'value="criterion-channel"[^>]*>\s*Criterion Channel <span[^>]*>\(2\)', html)
    assert "Stanley Kubrick (2)</option>" in html


def test_selected_options_stay_ticked(client, catalogue):
    html = client.get(URL, {"genre": ["war", "drama"], "director": "stanley-kubrick"}).content
    html = html.decode()

    assert re.search(r'name="genre" value="war" checked', html)
    assert re.search(r'name="genre" value="drama" checked', html)
    assert 'value="stanley-kubrick" selected' in html


@pytest.mark.parametrize(
    ("sort", "first"),
    [
        ("title", "Dr. Strangelove"),
        ("-year", "Spirited Away"),
        ("year", "Paths of Glory"),
        ("reviewed", "Dr. Strangelove"),
        ("rating", "The Cranes Are Flying"),
    ],
)
def test_sorting(client, catalogue, sort, first):
    strangelove = catalogue["strangelove"]
    reviews_publish(reviews=strangelove.reviews.all(), at=strangelove.created_at)
    assert titles(client.get(URL, {"sort": sort}))[0] == first


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year_min": "nineteen"}, "Enter a year"),
        ({"genre": "no-such-genre"}, "no-such-genre is not one of the available choices"),
        ({"director": "nobody"}, "Select a valid choice"),
        ({"service": "<script>"}, "is not one of the available choices"),
        ({"offer": "steal"}, "steal is not one of the available choices"),
        ({"decade": "1955"}, "1955 is not one of the available choices"),
        ({"sort": "price"}, "price is not one of the available choices"),
        ({"year_max": "99999999999999999999"}, "less than or equal to 9999"),
        ({"genre": "war\x00drama"}, "is not one of the available choices"),
        ({"director": "a\x00b"}, "Select a valid choice"),
    ],
)
def test_bad_filter_values_are_explained_and_ignored(client, catalogue, params, message):
    response = client.get(URL, {**params, "genre": params.get("genre", "war")})

    assert response.status_code == 200
    html = response.content.decode()
    assert "could not be used and were ignored" in html
    assert message in html
    assert "<script>" not in html  # the site has no scripts; bad input is escaped
    assert len(titles(response)) >= 1


def test_page_out_of_range_shows_the_last_page(client, catalogue):
    for n in range(30):
        make_film(f"Extra {n:02}", year=1990)

    response = client.get(URL, {"page": "9999"})
    assert response.status_code == 200
    assert response.context["page_obj"].number == 2

    response = client.get(URL, {"page": "abc"})
    assert response.status_code == 200
    assert response.context["page_obj"].number == 1


def test_pagination_links_keep_the_filters(client, catalogue):
    for n in range(30):
        make_film(f"War {n:02}", year=1990, genres=["War"])

    html = client.get(URL, {"genre": "war", "sort": "-year"}).content.decode()

    assert 'href="?genre=war&amp;sort=-year&amp;page=2"' in html


def test_genre_page_is_the_list_filtered_by_genre(client, catalogue):
    response = client.get(reverse("films:genre_detail", kwargs={"slug": "war"}))

    assert response.status_code == 200
    assert "<h1>War films</h1>" in response.content.decode()
    assert len(titles(response)) == 3


def test_service_page_is_the_list_filtered_by_service_in_the_readers_region(client, catalogue):
    response = client.get(reverse("films:service_detail", kwargs={"slug": "tubi"}))

    assert "<h1>Films on Tubi</h1>" in response.content.decode()
    assert set(titles(response)) == {"Paths of Glory"}  # Spirited Away is on Tubi in Britain


def test_unknown_genre_or_service_page_is_404(client):
    assert client.get(reverse("films:genre_detail", kwargs={"slug": "nope"})).status_code == 404
    assert client.get(reverse("films:service_detail", kwargs={"slug": "nope"})).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"genre": ["war", "drama"], "director": "stanley-kubrick", "service": "itunes"},
        {"offer": "rent", "decade": "1950", "reviewed": "yes", "sort": "rating", "q": "the"},
    ],
)
def test_query_count_does_not_grow_with_the_number_of_films(
    client, catalogue, django_assert_max_num_queries, django_assert_num_queries, params
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(URL, params)
    for n in range(20):
        make_film(
            f"More {n}",
            year=1957,
            genres=["War", "Drama"],
            directors=[f"Director {n}", "Stanley Kubrick"],
            availability=[("iTunes", "rent"), ("Criterion Channel", "rent")],
        )
    with django_assert_num_queries(len(few)):
        client.get(URL, params)
    with django_assert_max_num_queries(12):
        client.get(URL, params)


def test_repeated_request_reuses_the_cached_facet_counts(client, catalogue, settings):
    from tests.query_counting import count_queries

    settings.SHARED_PAGES_ENABLED = False  # the counts' own cache, not the shared page
    first = count_queries(client, URL, {"genre": "war"})
    second = count_queries(client, URL, {"genre": "war", "sort": "-year"})  # sort: same counts

    assert (first, second) == (7, 4)  # 4: genre check, page, genres, directors
    response = client.get(URL, {"genre": "war"})
    assert option_count(response, "service", "criterion-channel") == 2
    assert "3 films" in response.content.decode()


def test_a_change_to_the_catalogue_shows_in_the_counts_at_once(client, catalogue):
    assert option_count(client.get(URL), "genre", "comedy") == 1

    catalogue["paths"].genres.add(catalogue["strangelove"].genres.get(slug="comedy"))
    assert option_count(client.get(URL), "genre", "comedy") == 2

    catalogue["cuba"].availabilities.all().delete()
    assert option_count(client.get(URL), "service", "mubi") == 0

    make_review(catalogue["cuba"])
    assert option_count(client.get(URL), "reviewed", "yes") == 3


def test_each_active_filter_can_be_removed_on_its_own(client, catalogue):
    response = client.get(
        URL, {"genre": ["war", "drama"], "service": "itunes", "year_min": "1950", "page": "1"}
    )

    chips = dict(response.context["active_filters"])
    assert chips["Genre: War"] == "?genre=drama&service=itunes&year_min=1950"
    assert chips["Streaming service: iTunes"] == "?genre=war&genre=drama&year_min=1950"
    assert chips["From year: 1950"] == "?genre=war&genre=drama&service=itunes"
    assert 'href="?genre=drama&amp;service=itunes&amp;year_min=1950"' in response.content.decode()


def test_invalid_values_get_no_remove_link(client, catalogue):
    response = client.get(URL, {"genre": "nope", "year_min": "abc"})

    assert response.context["active_filters"] == []


@pytest.mark.parametrize("query", [{"genre": "comedy"}, {"genre": "nope"}, {"genre": ""}])
def test_a_genre_page_lists_only_its_genre_whatever_the_query(client, catalogue, query):
    response = client.get(reverse("films:genre_detail", kwargs={"slug": "war"}), query)

    assert set(titles(response)) == {"The Cranes Are Flying", "Paths of Glory", "Dr. Strangelove"}


def test_a_service_page_lists_only_its_service_whatever_the_query(client, catalogue):
    url = reverse("films:service_detail", kwargs={"slug": "tubi"})
    response = client.get(url, {"service": "x", "region": "GB"})

    assert set(titles(response)) == {"Spirited Away"}


def test_a_key_repeated_thousands_of_times_is_one_lookup(client, catalogue, settings):
    from tests.query_counting import count_queries

    settings.SHARED_PAGES_ENABLED = False  # the page made again, from the cached counts
    params = {"genre": ["war"] * 3000 + ["drama", "no-such-genre"], "service": ["mubi"] * 3000}

    assert count_queries(client, URL, params) <= 10
    response = client.get(URL, params)
    assert "no-such-genre is not one of the available choices" in response.content.decode()
    assert set(titles(response)) == {
        film.title
        for film in Film.objects.filter(genres__slug__in=["war", "drama"])
        if film.availabilities.filter(service__slug="mubi").exists()
    }


def test_services_and_genres_are_listed_in_alphabetical_order_whatever_their_case(client):
    make_film(
        "Tokyo Story",
        genres=["drama", "Comedy"],
        availability=[("Tubi", "free"), ("iTunes", "rent"), ("Apple TV", "buy")],
    )
    for url in (reverse("films:film_list"), reverse("reviews:home")):
        page = client.get(url).content.decode()
        positions = [page.index(name) for name in ("Apple TV", "iTunes", "Tubi")]
        assert positions == sorted(positions), url
        assert page.index("Comedy") < page.index("drama"), url
