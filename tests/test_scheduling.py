"""A scheduled review goes public at its time, and an expiring one goes away at its time, on
every page at once, cached counts included, with no process running: only the clock moves.

The clock is time-machine's, which moves every clock the process reads (timezone.now(),
datetime.now(), time.time(), so the local-memory cache's expiry too); Redis keeps real time,
so on Redis (CI) nothing but the catalogue version can retire the cached counts.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from films.cache import current_version
from films.filters import FACETS_TIMEOUT
from reviews.workflow import review_set_expiry
from tests.factories import make_film, make_review, make_user
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
# Well within the counts' five-minute timeout: today's code would still serve them cached.
PUBLICATION = START + timedelta(minutes=1)
EXPIRY = PUBLICATION + timedelta(days=2)

FILM_LIST = reverse("films:film_list")
BY_RATING = {"sort": "rating"}


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def magazine(clock):
    """Two films in one genre; only the second has a review, scheduled for PUBLICATION, and it
    alone carries the keyword "vertigo effect"."""
    make_film("Aardvark", year=1960, genres=["Thriller"])
    vertigo = make_film("Vertigo", year=1958, genres=["Thriller"], directors=["Alfred Hitchcock"])
    review = make_review(
        vertigo,
        headline="Dizzying and tender",
        rating="5.0",
        published_at=PUBLICATION,
        keywords=["vertigo effect"],
    )
    return {"film": vertigo, "review": review}


def reviewed_count(response):
    """The "Reviewed" facet's count, as the page shows it (pages may come from the page
    cache, which keeps no template context)."""
    found = re.search(
        r'name="reviewed" value="yes"[^>]*>[^<]*<span class="facet__count">\((\d+)\)',
        response.text,
    )
    return int(found[1])


def titles(response):
    return re.findall(r'<h2 class="film-card__title"><a [^>]*>([^<]*)</a>', response.text)


LISTS = [
    (FILM_LIST, {}),
    (FILM_LIST, BY_RATING),
    (reverse("films:genre_detail", kwargs={"slug": "thriller"}), {}),
]


def cache_the_counts(client):
    """Load each film list until its counts come from the cache (made with the page cache and
    the shared pages off, which would answer the second request without making the page)."""
    with override_settings(PAGE_CACHE_ENABLED=False, SHARED_PAGES_ENABLED=False):
        for url, params in LISTS:
            client.get(url, params)
            assert client.get(url, params).context["facets"]["fresh"] is False, (url, params)


def seen(client, review, *, with_counts=True):
    """Where readers see ``review``: the pages that show it, by name."""
    film, headline = review.film, review.headline
    tag = reverse("reviews:tag_detail", kwargs={"slug": "vertigo-effect"})
    pages = {
        "review page": client.get(review.get_absolute_url()).status_code == 200,
        "review list": headline in client.get(reverse("reviews:review_list")).text,
        "home": headline in client.get(reverse("reviews:home")).text,
        "film page": headline in client.get(film.get_absolute_url()).text,
        "feed": headline in client.get(reverse("reviews:review_feed")).text,
        "Atom feed": headline in client.get(reverse("reviews:review_atom_feed")).text,
        "filters feed": headline in client.get("/films/feed/", {"genre": "thriller"}).text,
        "genre feed": headline in client.get("/genres/thriller/feed/atom/").text,
        "person feed": headline in client.get("/people/alfred-hitchcock/feed/").text,
        "tag feed": client.get("/tags/vertigo-effect/feed/").status_code == 200,
        "sitemap": review.get_absolute_url() in client.get("/sitemap-reviews.xml").text,
        "tag page": client.get(tag).status_code == 200,
    }
    for url, params in LISTS:
        response = client.get(url, params)
        pages[f"count on {url} {params}"] = reviewed_count(response) == 1
        if params == BY_RATING:
            pages["rating sort"] = titles(response) == ["Vertigo", "Aardvark"]
    return pages


def everywhere(pages):
    return dict.fromkeys(pages, True)


def nowhere(pages):
    return dict.fromkeys(pages, False)


def test_a_scheduled_review_shows_nowhere_before_its_time_and_everywhere_at_it(
    client, clock, magazine
):
    review = magazine["review"]
    before = seen(client, review)
    assert before == nowhere(before)
    cache_the_counts(client)

    clock.move_to(PUBLICATION - timedelta(seconds=1))
    assert seen(client, review) == nowhere(before)

    clock.move_to(PUBLICATION)
    assert seen(client, review) == everywhere(before)


def test_an_expiring_review_shows_everywhere_before_its_expiry_and_nowhere_after(
    client, clock, magazine
):
    review = review_set_expiry(review=magazine["review"], expires_at=EXPIRY)
    clock.move_to(EXPIRY - timedelta(minutes=1))
    before = seen(client, review)
    assert before == everywhere(before)
    cache_the_counts(client)

    clock.move_to(EXPIRY - timedelta(microseconds=1))
    assert seen(client, review) == everywhere(before)

    clock.move_to(EXPIRY)
    assert seen(client, review) == nowhere(before)


def test_the_counts_stay_cached_until_the_next_change(client, clock, magazine, settings):
    """Exact, not merely safe: between changes the cache is used, and the version changes
    once, when the time comes, not on every request."""
    settings.PAGE_CACHE_ENABLED = False  # the counts' cache, seen in each made page's context
    settings.SHARED_PAGES_ENABLED = False
    cache_the_counts(client)
    version = current_version()
    assert version.next_change_at == PUBLICATION

    clock.move_to(PUBLICATION - timedelta(seconds=1))
    assert client.get(FILM_LIST).context["facets"]["fresh"] is False
    assert current_version() == version

    clock.move_to(PUBLICATION)
    assert client.get(FILM_LIST).context["facets"]["fresh"] is True
    after = current_version()
    assert after.number != version.number
    assert after.next_change_at is None  # nothing else is scheduled
    assert client.get(FILM_LIST).context["facets"]["fresh"] is False


def test_no_count_is_cached_for_longer_than_until_the_next_change(clock, magazine):
    version = current_version()

    assert version.timeout(FACETS_TIMEOUT, START) == 60
    assert version.timeout(FACETS_TIMEOUT, PUBLICATION - timedelta(seconds=0.5)) == 0
    review_set_expiry(review=magazine["review"], expires_at=None)
    clock.move_to(PUBLICATION)
    assert current_version().timeout(FACETS_TIMEOUT, PUBLICATION) == FACETS_TIMEOUT


def test_reading_at_the_next_change_costs_three_queries_once(client, clock, magazine):
    """The next change time is found when something changes, not per request."""
    cold = count_queries(client, FILM_LIST)
    warm = count_queries(client, FILM_LIST)
    assert warm < cold

    clock.move_to(PUBLICATION)
    # New counts, two queries for the sort keys of the films whose reviews went live (are there
    # any, then their update), and one for the next change after this one.
    assert count_queries(client, FILM_LIST) == cold + 3
    assert count_queries(client, FILM_LIST) == warm


def test_an_emptied_cache_costs_the_film_list_two_queries_once(client, clock, magazine):
    """After a Redis restart or flush: the sort keys that came due meanwhile are refreshed (it
    cannot be known that none did) and the next change time is found again, once."""
    cached = count_queries(client, FILM_LIST)
    cache.clear()

    assert count_queries(client, FILM_LIST) == cached + 2
    assert current_version().next_change_at == PUBLICATION
    assert count_queries(client, FILM_LIST, {"decade": "1950"}) == cached


def test_the_sitemap_dates_a_review_scheduled_in_advance_from_its_publication(client, clock):
    """Its last edit was days before it went live: crawlers must see a change when it does."""
    review = make_review(headline="Planned", published_at=START + timedelta(days=3))

    clock.move_to(START + timedelta(days=3))
    sitemap = "".join(client.get("/sitemap-reviews.xml").text.split())

    assert f"{review.get_absolute_url()}</loc><lastmod>2030-03-04</lastmod>" in sitemap


def freshness(response):
    """Seconds a browser or a proxy may reuse ``response`` without asking again."""
    directives = {}
    for part in response.get("Cache-Control", "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name] = int(value) if value else 0
    if {"no-cache", "no-store"} & set(directives) or "max-age" not in directives:
        # No max-age: with Last-Modified a cache may guess a tenth of the page's age.
        return 0 if {"no-cache", "no-store"} & set(directives) else float("inf")
    shared = directives.get("s-maxage", directives["max-age"])
    return max(directives["max-age"], shared + directives.get("stale-while-revalidate", 0))


def test_browsers_and_proxies_never_keep_the_feed_past_a_scheduled_review(client, clock, magazine):
    """The feed carries Last-Modified, from which a cache may guess a freshness of a tenth of
    its age; its Cache-Control must end before the review goes live, or say no-cache."""
    response = client.get(reverse("reviews:review_feed"))

    assert freshness(response) <= (PUBLICATION - START).total_seconds()


@pytest.mark.parametrize(
    "url",
    [
        reverse("reviews:review_atom_feed"),
        "/films/feed/?genre=thriller",
        "/genres/thriller/feed/atom/",
        "/people/alfred-hitchcock/feed/",
        "/tags/vertigo-effect/feed/atom/",
    ],
)
def test_browsers_and_proxies_never_keep_any_feed_past_an_expiry(client, clock, magazine, url):
    review_set_expiry(review=magazine["review"], expires_at=EXPIRY)
    clock.move_to(EXPIRY - timedelta(seconds=10))
    response = client.get(url)

    assert response.status_code == 200
    assert freshness(response) <= 10


def test_a_reader_with_a_session_sees_a_scheduled_review_at_its_time(client, clock, magazine):
    """A logged-in reader skips the page cache, but pages made once per catalogue version are
    shared with them (films.fragments): those follow the schedule too."""
    client.force_login(make_user())
    review = magazine["review"]
    before = seen(client, review)
    assert before == nowhere(before)
    seen(client, review)  # every page again: now from the shared renderings

    clock.move_to(PUBLICATION - timedelta(seconds=1))
    assert seen(client, review) == nowhere(before)

    clock.move_to(PUBLICATION)
    assert seen(client, review) == everywhere(before)
