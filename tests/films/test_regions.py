"""The reader's region: the address, then the cookie, then DJANGO_DEFAULT_REGION; the chooser;
counts, film page and caches per region; hostile values."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from films.filters import FilmFilter
from films.models import Film
from films.regions import REGION_COOKIE
from tests.factories import make_film
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

LIST = reverse("films:film_list")
CHOOSE = reverse("films:region_choose")


@pytest.fixture
def offers():
    """Netflix has two films in the US and one, another, in Britain; iTunes rents in both."""
    return {
        "cranes": make_film(
            "The Cranes Are Flying",
            year=1957,
            genres=["War"],
            availability=[("Netflix", "subscription", "US"), ("iTunes", "rent", "US")],
        ),
        "paths": make_film(
            "Paths of Glory",
            year=1957,
            genres=["War"],
            availability=[("Netflix", "subscription", "US"), ("iTunes", "rent", "GB")],
        ),
        "spirited": make_film(
            "Spirited Away",
            year=2001,
            genres=["Animation"],
            availability=[("Netflix", "subscription", "GB"), ("Mubi", "buy", "FR")],
        ),
    }


def titles(response):
    return {film.title for film in response.context["films"]}


def count(response, facet, value):
    return next(o.count for o in response.context["facets"][facet] if o.value == value)


# --- counts and lists per region ------------------------------------------------------------


def test_service_and_offer_counts_are_those_of_the_default_region(client, offers):
    response = client.get(LIST)

    assert count(response, "service", "netflix") == 2
    assert count(response, "service", "itunes") == 1
    assert count(response, "service", "mubi") == 0
    assert count(response, "offer", "subscription") == 2
    assert count(response, "offer", "buy") == 0
    assertContains(
        response,
        '<legend>Streaming service <span class="facet__region">in United States</span></legend>',
        html=True,
    )


def test_the_cookie_region_gives_its_own_counts_and_films(client, offers):
    client.cookies[REGION_COOKIE] = "GB"

    response = client.get(LIST, {"service": "netflix"})

    assert titles(response) == {"Spirited Away"}
    assert count(response, "service", "netflix") == 1
    assert count(response, "service", "itunes") == 1
    assert count(response, "offer", "rent") == 0  # not on Netflix in Britain
    assert count(client.get(LIST), "offer", "rent") == 1  # Paths of Glory on iTunes
    assertContains(response, "1 film</p>")


def test_the_address_region_wins_over_the_cookie(client, offers):
    client.cookies[REGION_COOKIE] = "GB"

    response = client.get(LIST, {"service": "netflix", "region": "US"})

    assert titles(response) == {"The Cranes Are Flying", "Paths of Glory"}
    assert count(response, "service", "netflix") == 2


def test_a_region_in_the_address_does_not_change_the_cookie(client, offers):
    response = client.get(LIST, {"region": "GB"})

    assert REGION_COOKIE not in response.cookies
    assert count(client.get(LIST), "service", "netflix") == 2  # back to the reader's own


def test_a_lower_case_region_in_the_address_is_understood(client, offers):
    response = client.get(LIST, {"service": "netflix", "region": "gb"})

    assert titles(response) == {"Spirited Away"}
    assert not response.context["filter_errors"]


def test_the_region_does_not_narrow_a_list_without_service_or_offer(client, offers):
    assert len(titles(client.get(LIST, {"region": "FR"}))) == 3


def test_a_country_without_offers_gives_zero_counts_and_is_offered_in_the_chooser(client, offers):
    response = client.get(LIST, {"region": "JP", "service": "netflix"})

    assert titles(response) == set()
    assert count(response, "service", "netflix") == 0
    assertContains(response, '<option value="JP" selected>Japan</option>', html=True)


def test_the_service_page_counts_in_the_readers_region(client, offers):
    url = reverse("films:service_detail", kwargs={"slug": "netflix"})

    assert titles(client.get(url)) == {"The Cranes Are Flying", "Paths of Glory"}
    assert titles(client.get(url, {"region": "GB"})) == {"Spirited Away"}
    client.cookies[REGION_COOKIE] = "GB"
    assert titles(client.get(url)) == {"Spirited Away"}


def test_the_genre_page_counts_services_in_the_readers_region(client, offers):
    url = reverse("films:genre_detail", kwargs={"slug": "war"})

    assert count(client.get(url), "service", "itunes") == 1
    assert count(client.get(url, {"region": "GB"}), "service", "netflix") == 0


def test_the_home_page_counts_services_in_the_readers_region(client, offers):
    home = reverse("reviews:home")
    netflix_us = '<span>Netflix</span> <span class="chips__count">(2)</span>'  # two films in the US

    assertContains(client.get(home), netflix_us)
    client.cookies[REGION_COOKIE] = "FR"
    response = client.get(home)
    assertNotContains(response, "Netflix")  # none in France
    assertContains(response, '<span>Mubi</span> <span class="chips__count">(1)</span>')


# --- the chooser ----------------------------------------------------------------------------


def test_the_chooser_lists_the_regions_with_offers_and_comes_back_to_the_page(client, offers):
    response = client.get(LIST, {"genre": "war", "page": "1"})

    assertContains(
        response,
        f'<form class="region-chooser" method="get" action="{CHOOSE}">'
        '<input type="hidden" name="next" value="/films/?genre=war&amp;page=1">'
        '<label for="region-chooser">Streaming offers in</label>'
        '<select id="region-chooser" name="region">'
        '<option value="FR">France</option>'
        '<option value="GB">United Kingdom</option>'
        '<option value="US" selected>United States</option>'
        "</select>"
        '<button type="submit">Change region</button></form>',
        html=True,
    )


def test_choosing_a_region_sets_the_cookie_and_goes_back(client, offers):
    response = client.get(CHOOSE, {"region": "gb", "next": "/films/?genre=war&region=US"})

    assert response.status_code == 302
    assert response["Location"] == "/films/?genre=war"  # the address's region would hide it
    cookie = response.cookies[REGION_COOKIE]
    assert cookie.value == "GB"
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert "no-store" in response["Cache-Control"]

    page = client.get(response["Location"])
    assert page.context["region"].code == "GB"
    assert count(page, "service", "itunes") == 1  # Paths of Glory, for rent in Britain


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
        "/%09/evil.example",
        "",
        "films",
        "/films/\x00",
    ],
)
def test_the_chooser_never_sends_the_reader_to_another_site(client, target):
    response = client.get(CHOOSE, {"region": "GB", "next": target})

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location or location.startswith("/%09")


def test_the_chooser_page_without_a_region_shows_the_form(client, offers):
    response = client.get(CHOOSE)

    assert response.status_code == 200
    assertContains(response, '<option value="US" selected>United States</option>', html=True)
    assertContains(response, '<input type="hidden" name="next" value="/films/">', html=True)
    assert REGION_COOKIE not in response.cookies


@pytest.mark.parametrize("value", ["XX", "USA", "<script>", "a\x00b", "🎬", "G" * 5000])
def test_the_chooser_refuses_what_is_not_a_country(client, offers, value):
    response = client.get(CHOOSE, {"region": value, "next": "/films/"})

    assert response.status_code == 200
    assertContains(response, "is not a country we know")
    assert REGION_COOKIE not in response.cookies


# --- the film page ----------------------------------------------------------------------------


def test_the_film_page_shows_the_readers_region_first_and_the_others_below(client, offers):
    client.cookies[REGION_COOKIE] = "GB"

    response = client.get(offers["paths"].get_absolute_url())

    assertContains(
        response,
        '<h2 id="watch-heading">Where to watch <span class="watch__in">in United Kingdom</span>'
        "</h2>",
        html=True,
    )
    html = response.content.decode()
    assert html.index("iTunes") < html.index("In other regions") < html.index("Netflix")
    assertContains(response, '<h4 class="watch__region">United States</h4>', html=True)


def test_the_film_page_follows_the_address_region(client, offers):
    response = client.get(offers["spirited"].get_absolute_url(), {"region": "FR"})

    html = response.content.decode()
    assert html.index("Mubi") < html.index("In other regions") < html.index("Netflix")
    assertContains(response, '<option value="FR" selected>France</option>', html=True)
    assertContains(
        response,
        f'<input type="hidden" name="next" value="{offers["spirited"].get_absolute_url()}">',
        html=True,
    )


def test_the_film_page_says_when_nothing_is_in_the_readers_region(client, offers):
    response = client.get(offers["cranes"].get_absolute_url(), {"region": "GB"})

    assertContains(
        response,
        '<p class="watch__none">Not streaming in United Kingdom that we know of; '
        "see other regions below.</p>",
        html=True,
    )


@pytest.mark.parametrize("value", ["XX", "<b>x</b>", "\x00", "ZZZZZZZZ" * 100, "‮GB"])
def test_an_invalid_region_on_the_film_page_is_reported_and_the_readers_own_used(
    client, offers, value
):
    response = client.get(offers["paths"].get_absolute_url(), {"region": value})

    assert response.status_code == 200
    assertContains(response, "is not a country we know: showing United States.")
    assert response.context["region"].code == "US"


# --- links keep the address's region -----------------------------------------------------------


def test_links_from_a_list_in_another_region_keep_it(client, offers):
    response = client.get(LIST, {"region": "GB", "service": "netflix"})

    assertContains(response, '<input type="hidden" name="region" value="GB">', html=True)
    assertContains(response, 'href="/films/spirited-away/?region=GB"')
    assertContains(response, '<a href="/films/?region=GB">Clear all</a>', html=True)
    # The chip that removes the service keeps the region.
    chip = next(url for label, url in response.context["active_filters"])
    assert QueryDict(chip.lstrip("?"))["region"] == "GB"


def test_links_from_a_list_in_the_readers_own_region_are_plain(client, offers):
    response = client.get(LIST, {"service": "netflix"})

    assertNotContains(response, 'name="region" value=')
    assertContains(response, 'href="/films/paths-of-glory/"')


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["XX", "<script>alert(1)</script>", "a\x00b", "🎬", "U" * 5000])
def test_an_invalid_region_in_the_address_is_reported_like_any_filter(client, offers, value):
    client.cookies[REGION_COOKIE] = "GB"

    response = client.get(LIST, {"region": value, "service": "netflix"})

    assert response.status_code == 200
    assert [label for label, _ in response.context["filter_errors"]] == ["Region"]
    assert titles(response) == {"Spirited Away"}  # the reader's own region, from the cookie
    assertNotContains(response, "<script>alert(1)</script>")


# What a browser can send in a cookie (the test client sends Latin-1 only).
@pytest.mark.parametrize(
    "value", ["XX", "", "<script>", "GB; path=/", "U" * 4000, "' OR '1'='1", "café", "\t"]
)
def test_a_hostile_cookie_is_ignored(client, offers, value):
    client.cookies[REGION_COOKIE] = value

    for url in [LIST, offers["paths"].get_absolute_url(), CHOOSE]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["region"].code == "US", url
    assertContains(client.get(reverse("reviews:home")), "Netflix")  # the US's counts


# --- caching ----------------------------------------------------------------------------------


def test_counts_cached_for_one_region_are_not_served_for_another(offers):
    cache.clear()
    query = QueryDict("service=netflix")

    us = FilmFilter(query, queryset=Film.objects.all(), own_region="US")
    us.is_valid()
    first = us.facets()
    again = FilmFilter(query, queryset=Film.objects.all(), own_region="US")
    again.is_valid()
    gb = FilmFilter(query, queryset=Film.objects.all(), own_region="GB")
    gb.is_valid()
    by_address = FilmFilter(
        QueryDict("service=netflix&region=GB"), queryset=Film.objects.all(), own_region="US"
    )
    by_address.is_valid()

    assert first["fresh"] and first["total"] == 2
    assert not again.facets()["fresh"]
    gb_facets = gb.facets()
    assert gb_facets["fresh"] and gb_facets["total"] == 1
    # The same region from the address or the cookie is the same cached entry.
    assert by_address.facets_cache_key(1) == gb.facets_cache_key(1)
    assert us.facets_cache_key(1) != gb.facets_cache_key(1)


def test_pages_that_read_the_region_cookie_vary_on_it(client, offers):
    pages = [
        LIST,
        reverse("films:genre_detail", kwargs={"slug": "war"}),
        reverse("films:service_detail", kwargs={"slug": "netflix"}),
        offers["paths"].get_absolute_url(),
        reverse("reviews:home"),
    ]
    for url in pages:
        assert "Cookie" in client.get(url)["Vary"], url


def test_a_warm_list_in_another_region_is_counted_from_the_cache(client, offers, settings):
    settings.PAGE_CACHE_ENABLED = False  # the counts' cache, seen in the made page's context
    settings.SHARED_PAGES_ENABLED = False
    client.get(LIST, {"region": "GB"})
    cached = client.get(LIST, {"region": "GB"})
    other = client.get(LIST, {"region": "FR"})

    assert cached.context["facets"]["fresh"] is False
    assert other.context["facets"]["fresh"] is True


# --- queries ----------------------------------------------------------------------------------


def test_the_region_adds_no_query_to_the_list(client, offers):
    plain = count_queries(client, LIST, {"service": "netflix"})
    cache.clear()
    client.cookies[REGION_COOKIE] = "GB"
    # 7, and on an empty cache the two that bring the review sort keys up to date and find the
    # next scheduled change.
    assert count_queries(client, LIST, {"service": "netflix", "region": "US"}) == plain == 9


def test_the_chooser_runs_no_query_when_it_redirects(client):
    with CaptureQueriesContext(connection) as queries:
        client.get(CHOOSE, {"region": "GB", "next": "/"})
    assert len(queries) == 0


def test_the_chooser_page_runs_one_query(client, offers):
    cache.clear()
    assert count_queries(client, CHOOSE) == 1


@override_settings(FILMMAG_DEFAULT_REGION="GB")
def test_the_default_region_comes_from_the_setting(client, offers):
    response = client.get(LIST, {"service": "netflix"})

    assert titles(response) == {"Spirited Away"}


def test_the_notice_for_an_invalid_region_does_not_repeat_it(client, offers):
    response = client.get(LIST, {"region": "Q" * 500})

    assertContains(
        response,
        "<li>Region: Not a country code we know, such as GB or US; showing your own region.</li>",
        html=True,
    )
    assertNotContains(response, "Q" * 50)
