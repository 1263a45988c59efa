"""The page cache (filmmag/page_cache.py): whole public pages for anonymous readers, served with
no query, answered 304 on a repeat visit, compressed, and never out of date: every change an
editor saves, and every scheduled publication and expiry, shows at the next request."""

import gzip
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils.http import http_date

from filmmag.page_cache import PageCacheMiddleware
from films.models import Availability, Credit, Genre, Person, Still, StreamingService
from films.regions import REGION_COOKIE
from reviews.models import PreviewLink
from reviews.preview import preview_link_create
from reviews.workflow import review_set_expiry
from tests.factories import (
    make_editor,
    make_film,
    make_offer,
    make_person,
    make_public_pages,
    make_review,
    make_service,
    make_user,
)
from tests.outages import closed_port

pytestmark = pytest.mark.django_db

FILM_LIST = reverse("films:film_list")
HOME = reverse("reviews:home")


def get(client, url, **extra):
    """The response and the number of queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries)


def made(response) -> bool:
    """Did the view make ``response`` (its templates rendered), rather than the page cache? Not
    the same as running queries: a page made again in the same catalogue version may run none
    (films.fragments)."""
    return bool(response.templates)


def cached(client, url, **extra):
    """Load ``url`` until it comes from the page cache; the cached response."""
    first, _ = get(client, url, **extra)
    assert first.status_code == 200, url
    response, queries = get(client, url, **extra)
    assert queries == 0, url
    return response


@pytest.fixture
def vertigo():
    film = make_film(
        "Vertigo",
        year=1958,
        genres=["Thriller"],
        directors=["Alfred Hitchcock"],
        cast=[("Kim Novak", "Madeleine")],
        availability=[("Criterion Channel", "subscription"), ("iTunes", "rent", "GB")],
    )
    film.tags.add("obsession")
    author = make_user(first_name="Pauline", last_name="Kael")
    review = make_review(
        film, headline="Dizzying and tender", rating="5.0", keywords=["height"], author=author
    )
    return {"film": film, "review": review}


def public_urls(vertigo):
    film, review = vertigo["film"], vertigo["review"]
    return [
        HOME,
        reverse("reviews:review_list"),
        review.get_absolute_url(),
        reverse("reviews:tag_detail", kwargs={"slug": "height"}),
        reverse("reviews:search") + "?q=vertigo",
        FILM_LIST,
        FILM_LIST + "?genre=thriller&sort=rating",
        film.get_absolute_url(),
        reverse("films:person_detail", kwargs={"slug": "alfred-hitchcock"}),
        reverse("films:genre_detail", kwargs={"slug": "thriller"}),
        reverse("films:service_detail", kwargs={"slug": "criterion-channel"}),
        reverse("reviews:review_feed"),
        "/films/feed/atom/?genre=thriller",
        "/services/criterion-channel/new/feed/",
        "/sitemap.xml",
        "/sitemap-films.xml",
        "/robots.txt",
    ]


# --- Hits -------------------------------------------------------------------------------------


def test_every_public_page_comes_from_the_cache_the_second_time_with_no_query(client, vertigo):
    for url in public_urls(vertigo):
        first, queries = get(client, url)
        assert first.status_code == 200, url

        again, queries = get(client, url)

        assert queries == 0, url
        assert again.status_code == 200
        assert again.content == first.content, url
        assert again["Content-Type"] == first["Content-Type"]


def test_a_cached_page_keeps_the_security_headers(client, vertigo):
    first = client.get(FILM_LIST)
    again = cached(client, FILM_LIST)

    for header in [
        "Content-Security-Policy",
        "X-Frame-Options",
        "Permissions-Policy",
        "Referrer-Policy",
        "X-Content-Type-Options",
    ]:
        assert again[header] == first[header], header


def test_the_page_cache_can_be_switched_off_at_run_time(client, vertigo):
    client.get(FILM_LIST)
    with override_settings(PAGE_CACHE_ENABLED=False):
        response, _ = get(client, FILM_LIST)
    assert made(response)


def test_head_is_cached_apart_from_get(client, vertigo):
    cached(client, FILM_LIST)

    first = client.head(FILM_LIST)
    with CaptureQueriesContext(connection) as again:
        response = client.head(FILM_LIST)

    assert made(first)
    assert not made(response)
    assert len(again) == 0
    assert response.status_code == 200
    assert response.content == b""


def test_a_page_with_other_cookies_is_served_from_the_same_entry(client, vertigo):
    client.get(FILM_LIST)
    client.cookies["csrftoken"] = "x" * 32
    client.cookies["_ga"] = "GA1.1.123"

    _, queries = get(client, FILM_LIST)

    assert queries == 0


# --- Conditional requests and headers ---------------------------------------------------------


def test_a_repeat_visit_with_the_etag_is_answered_not_modified(client, vertigo):
    first = client.get(FILM_LIST)
    assert first["ETag"].startswith('W/"')

    response, queries = get(client, FILM_LIST, HTTP_IF_NONE_MATCH=first["ETag"])

    assert response.status_code == 304
    assert response.content == b""
    assert queries == 0
    assert response["ETag"] == first["ETag"]
    assert "s-maxage" in response["Cache-Control"]


def test_a_repeat_visit_with_the_date_is_answered_not_modified(client, vertigo):
    first = client.get(FILM_LIST)

    response = client.get(FILM_LIST, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert response.status_code == 304


def test_a_changed_page_is_sent_whole_to_a_repeat_visit(client, vertigo):
    first = client.get(FILM_LIST)
    make_film("Psycho", year=1960)

    response = client.get(FILM_LIST, HTTP_IF_NONE_MATCH=first["ETag"])

    assert response.status_code == 200
    assert "Psycho" in response.text
    assert response["ETag"] != first["ETag"]


def test_a_page_made_again_with_the_same_bytes_keeps_its_etag(client, vertigo):
    """A new version that changes nothing on this page: made again, and still 304."""
    first = client.get(FILM_LIST)
    make_person("Nobody On Any Page")

    response, queries = get(client, FILM_LIST, HTTP_IF_NONE_MATCH=first["ETag"])

    assert queries > 0  # made again
    assert response.status_code == 304


def directives(response):
    values = {}
    for part in response["Cache-Control"].split(","):
        name, _, value = part.strip().partition("=")
        values[name] = int(value) if value else True
    return values


def test_pages_say_how_long_browsers_and_a_cdn_may_keep_them(client, vertigo):
    for response in [client.get(FILM_LIST), client.get(FILM_LIST)]:
        cache_control = directives(response)
        assert cache_control["public"] is True
        assert cache_control["max-age"] == settings.PAGE_CACHE_MAX_AGE
        assert cache_control["s-maxage"] == settings.PAGE_CACHE_S_MAXAGE
        assert cache_control["stale-while-revalidate"] == settings.PAGE_CACHE_STALE_WHILE_REVALIDATE
        assert {"Cookie", "Accept-Encoding"} <= {v.strip() for v in response["Vary"].split(",")}


# --- Compression ------------------------------------------------------------------------------


def test_pages_are_compressed_for_readers_who_accept_gzip(client, vertigo):
    plain = client.get(FILM_LIST)
    assert "Content-Encoding" not in plain

    for _ in range(2):  # made, then from the cache
        response = client.get(FILM_LIST, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response["Content-Encoding"] == "gzip"
        assert int(response["Content-Length"]) == len(response.content)
        assert len(response.content) < len(plain.content) / 2
        assert gzip.decompress(response.content) == plain.content
        assert response["ETag"] == plain["ETag"]


def test_a_page_with_a_csrf_token_or_for_an_editor_is_never_compressed(client, vertigo):
    """BREACH needs a secret in a compressed body: only pages the same for every reader are."""
    login = client.get("/admin/login/", HTTP_ACCEPT_ENCODING="gzip")
    assert "csrfmiddlewaretoken" in login.text
    assert "Content-Encoding" not in login
    assert "private" in login["Cache-Control"] or "no-store" in login["Cache-Control"]

    client.force_login(make_editor())
    page = client.get(FILM_LIST, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in page


# --- Who is never served from the cache -------------------------------------------------------


def test_logged_in_readers_are_never_served_from_nor_stored_in_the_cache(client, vertigo):
    cached(client, FILM_LIST)
    client.force_login(make_user())

    for _ in range(2):
        response, _ = get(client, FILM_LIST)
        assert made(response)
        cache_control = directives(response)
        assert "private" in cache_control and "public" not in cache_control
        assert "Cookie" in response["Vary"]


def test_a_session_cookie_alone_bypasses_the_cache(client, vertigo):
    cached(client, FILM_LIST)
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"

    response, _ = get(client, FILM_LIST)

    assert made(response)


def test_an_editors_preview_is_never_cached_for_readers(client, vertigo):
    draft = make_review(vertigo["film"], headline="Not yet", published=False)
    url = draft.get_absolute_url()
    assert client.get(url).status_code == 404

    editor = make_editor()
    client.force_login(editor)
    preview = client.get(url)
    assert preview.status_code == 200
    assert "Not yet" in preview.text
    assert "no-store" in preview["Cache-Control"]

    client.logout()
    assert client.get(url).status_code == 404


def test_a_shared_preview_link_is_never_cached(client, vertigo):
    draft = make_review(vertigo["film"], headline="Not yet", published=False)
    link = preview_link_create(review=draft, by=make_editor())
    url = reverse("reviews:preview_link_detail", kwargs={"token": link.token})

    first = client.get(url)
    assert first.status_code == 200
    PreviewLink.objects.filter(pk=link.pk).update(revoked_at=datetime.now(UTC))

    again = client.get(url)

    assert again.status_code == 410
    assert "no-store" in first["Cache-Control"]


def test_a_region_chosen_in_a_cookie_is_part_of_the_key(client, vertigo):
    film_page = vertigo["film"].get_absolute_url()
    us = cached(client, film_page)
    assert "in United States" in us.text

    client.cookies[REGION_COOKIE] = "GB"
    gb = client.get(film_page)
    assert "in United Kingdom" in gb.text
    assert cached(client, film_page).content == gb.content

    del client.cookies[REGION_COOKIE]
    assert client.get(film_page).content == us.content
    assert "in United Kingdom" in client.get(film_page, {"region": "GB"}).text


# --- What is never stored ---------------------------------------------------------------------


@pytest.fixture
def middleware_with():
    """The middleware in front of a view that answers ``response``, at the film list."""
    factory = RequestFactory()

    def run(make_response, *, nonce_used=False, **headers):
        calls = []

        def view(request):
            calls.append(request)
            if nonce_used:
                request._csp_nonce = "used"
            return make_response()

        middleware = PageCacheMiddleware(view)
        for _ in range(2):
            request = factory.get(FILM_LIST, **headers)
            request.resolver_match = resolve(FILM_LIST)
            middleware(request)
        return len(calls)

    return run


def with_cookie():
    response = HttpResponse("<p>Hello</p>")
    response.set_cookie("flavour", "oat")
    return response


def with_header(name, value):
    def make():
        response = HttpResponse("<p>Hello</p>")
        response[name] = value
        return response

    return make


@pytest.mark.parametrize(
    "make_response",
    [
        with_cookie,
        with_header("Cache-Control", "private"),
        with_header("Cache-Control", "no-store"),
        with_header("Vary", "Accept-Language"),
        lambda: HttpResponse("Gone", status=404),
        lambda: HttpResponse(status=301, headers={"Location": "/"}),
        lambda: StreamingHttpResponse(iter([b"a", b"b"])),
    ],
    ids=["cookie", "private", "no-store", "vary", "404", "301", "streaming"],
)
def test_responses_that_are_not_the_same_for_everyone_are_never_stored(
    middleware_with, make_response
):
    assert middleware_with(make_response) == 2


def test_a_plain_page_is_stored(middleware_with):
    assert middleware_with(lambda: HttpResponse("<p>Hello</p>")) == 1


def test_a_page_that_used_the_csp_nonce_is_never_stored(middleware_with):
    assert middleware_with(lambda: HttpResponse("<p>Hello</p>"), nonce_used=True) == 2


def test_a_post_is_never_answered_from_the_cache(client, vertigo):
    """The film list takes no POST: from the cache, it would be the page (200)."""
    cached(client, FILM_LIST)

    response = client.post(FILM_LIST)

    assert response.status_code == 405


@pytest.fixture
def nonce_in_robots_txt(settings, tmp_path):
    (tmp_path / "robots.txt").write_text('nonce="{{ csp_nonce }}"\n')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]


def test_a_page_whose_body_uses_the_csp_nonce_gets_a_fresh_one_each_time(
    client, nonce_in_robots_txt
):
    nonces = []
    for _ in range(2):
        response = client.get("/robots.txt")
        nonce = re.search(r'nonce="([^"]+)"', response.text)[1]
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        nonces.append(nonce)

    assert nonces[0] != nonces[1]


def test_cached_pages_carry_no_nonce_in_body_or_policy(client, vertigo):
    for url in public_urls(vertigo):
        response = cached(client, url)
        assert "nonce" not in response.text, url
        assert "nonce" not in response.get("Content-Security-Policy", ""), url


def test_pages_are_served_without_the_cache_while_it_is_down(client, settings, vertigo):
    settings.CACHES = {
        "default": {
            "BACKEND": "filmmag.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1},
        }
    }
    film_page = vertigo["film"].get_absolute_url()
    for url in [FILM_LIST, film_page]:
        for _ in range(2):
            response, queries = get(client, url)
            assert response.status_code == 200
            assert "Vertigo" in response.text
            assert queries > 0

    # Nor does the page cache add a query while Redis is known to be down.
    _, with_page_cache = get(client, film_page)
    settings.PAGE_CACHE_ENABLED = False
    _, without = get(client, film_page)
    assert with_page_cache == without


# --- Invalidation: every change an editor saves shows at the next request ---------------------


def rename(model, lookup, **fields):
    def change(vertigo):
        row = model.objects.get(**lookup)
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()

    return change


def retitle_film(vertigo):
    vertigo["film"].title = "Sueurs froides"
    vertigo["film"].save()


def add_director(vertigo):
    Credit.objects.create(
        film=vertigo["film"], person=make_person("Saul Bass"), role="director", order=1
    )


def remove_offer(vertigo):
    Availability.objects.get(service__name="Criterion Channel").delete()


def add_offer(vertigo):
    make_offer(vertigo["film"], make_service("Mubi"))


def rewrite_review(vertigo):
    review = vertigo["review"]
    review.headline = "Still dizzying"
    review.save()


def add_genre(vertigo):
    vertigo["film"].genres.add(Genre.objects.create(name="Mystery"))


def add_film_tag(vertigo):
    vertigo["film"].tags.add("height")  # an existing tag: only the link is new


def remove_film_tag(vertigo):
    vertigo["film"].tags.remove("obsession")


def add_review_keyword(vertigo):
    vertigo["review"].keywords.add("obsession")


def rename_tag(vertigo):
    tag = vertigo["film"].tags.get(name="obsession")
    tag.name = "fixation"
    tag.save()


def add_still(vertigo):
    from tests.films.test_pictures import photo

    still = Still(film=vertigo["film"], alt_text="Madeleine on the tower", order=1)
    still.image.save("still.jpg", ContentFile(photo(size=(800, 450), exif=False)), save=True)


def rename_author(vertigo):
    author = vertigo["review"].author
    author.first_name = "Manny"
    author.last_name = "Farber"
    author.save()


CHANGES = [
    ("film", retitle_film, lambda v: v["film"].get_absolute_url(), "Sueurs froides"),
    ("film in list", retitle_film, lambda v: FILM_LIST, "Sueurs froides"),
    ("credit", add_director, lambda v: v["film"].get_absolute_url(), "Saul Bass"),
    ("offer added", add_offer, lambda v: v["film"].get_absolute_url(), "Mubi"),
    ("offer removed", remove_offer, lambda v: v["film"].get_absolute_url(), "Not streaming in"),
    ("review", rewrite_review, lambda v: HOME, "Still dizzying"),
    ("review page", rewrite_review, lambda v: v["review"].get_absolute_url(), "Still dizzying"),
    (
        "person",
        rename(Person, {"name": "Kim Novak"}, name="Kim Novák"),
        lambda v: v["film"].get_absolute_url(),
        "Kim Novák",
    ),
    (
        "service",
        rename(StreamingService, {"slug": "criterion-channel"}, name="The Criterion Channel"),
        lambda v: v["film"].get_absolute_url(),
        "The Criterion Channel",
    ),
    (
        "genre",
        rename(Genre, {"name": "Thriller"}, name="Suspense"),
        lambda v: v["film"].get_absolute_url(),
        "Suspense",
    ),
    ("genre added", add_genre, lambda v: v["film"].get_absolute_url(), "Mystery"),
    ("film tag", add_film_tag, lambda v: v["film"].get_absolute_url(), "/tags/height/"),
    (
        "review keyword",
        add_review_keyword,
        lambda v: v["review"].get_absolute_url(),
        "/tags/obsession/",
    ),
    ("tag", rename_tag, lambda v: v["film"].get_absolute_url(), "fixation"),
    ("still", add_still, lambda v: v["film"].get_absolute_url(), "Madeleine on the tower"),
    ("author", rename_author, lambda v: v["review"].get_absolute_url(), "Manny Farber"),
]


@pytest.mark.parametrize(
    ("change", "url_of", "shown"),
    [pytest.param(change, url_of, shown, id=name) for name, change, url_of, shown in CHANGES],
)
def test_a_saved_change_shows_on_a_cached_page_at_the_next_request(
    client, vertigo, change, url_of, shown
):
    url = url_of(vertigo)
    before = cached(client, url)

    change(vertigo)
    after = client.get(url)

    assert after.status_code == 200
    assert after.content != before.content
    if shown:
        assert shown in after.text


def test_a_removed_film_tag_goes_from_its_page(client, vertigo):
    url = vertigo["film"].get_absolute_url()
    assert "obsession" in cached(client, url).text

    remove_film_tag(vertigo)

    assert "obsession" not in client.get(url).text


def test_a_deleted_person_goes_from_the_pages(client, vertigo):
    url = vertigo["film"].get_absolute_url()
    assert "Kim Novak" in cached(client, url).text

    Credit.objects.filter(person__name="Kim Novak").delete()

    assert "Kim Novak" not in client.get(url).text


def test_a_log_in_does_not_throw_the_cached_pages_away(client, vertigo):
    cached(client, FILM_LIST)
    user = make_editor()
    client.force_login(user)
    user.set_password("another-test-password-456")
    user.save(update_fields=["password"])
    client.logout()

    _, queries = get(client, FILM_LIST)

    assert queries == 0


def test_a_new_role_for_a_user_does_not_need_a_new_page(client, vertigo):
    """Groups are not shown on any page: adding one keeps the cache (and proves the check)."""
    cached(client, FILM_LIST)
    make_user().groups.add(Group.objects.get(name="Editors"))

    _, queries = get(client, FILM_LIST)

    assert queries == 0


# --- Scheduled changes take effect on time behind the cache -----------------------------------

START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
PUBLICATION = START + timedelta(seconds=90)
EXPIRY = PUBLICATION + timedelta(minutes=3)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scheduled(clock, vertigo):
    return make_review(
        make_film("Psycho", year=1960),
        headline="A shower of knives",
        published_at=PUBLICATION,
    )


SCHEDULE_PAGES = [HOME, reverse("reviews:review_list"), FILM_LIST + "?reviewed=yes"]


def freshness(response):
    """How long any cache may keep ``response`` without asking: max-age for browsers,
    s-maxage and stale-while-revalidate for a CDN."""
    cache_control = directives(response)
    shared = cache_control.get("s-maxage", cache_control.get("max-age", 0))
    return max(
        cache_control.get("max-age", 0), shared + cache_control.get("stale-while-revalidate", 0)
    )


def test_a_scheduled_review_appears_on_cached_pages_exactly_at_its_time(client, clock, scheduled):
    for url in SCHEDULE_PAGES:
        response = cached(client, url)
        assert "A shower of knives" not in response.text and "Psycho" not in response.text, url
        assert 0 < freshness(response) <= 90, url
    assert client.get(scheduled.get_absolute_url()).status_code == 404

    clock.move_to(PUBLICATION - timedelta(seconds=1))
    for url in SCHEDULE_PAGES:
        response, queries = get(client, url)
        assert queries == 0
        assert freshness(response) <= 1, url

    clock.move_to(PUBLICATION)
    assert "A shower of knives" in client.get(HOME).text
    assert "A shower of knives" in client.get(reverse("reviews:review_list")).text
    assert "Psycho" in client.get(FILM_LIST, {"reviewed": "yes"}).text
    assert client.get(scheduled.get_absolute_url()).status_code == 200


def test_an_expired_review_goes_from_cached_pages_exactly_at_its_time(client, clock, scheduled):
    review_set_expiry(review=scheduled, expires_at=EXPIRY)
    clock.move_to(PUBLICATION)
    url = scheduled.get_absolute_url()
    for page in [*SCHEDULE_PAGES, url]:
        response = cached(client, page)
        assert "Psycho" in response.text, page
        assert freshness(response) <= 180, page

    clock.move_to(EXPIRY - timedelta(microseconds=1))
    assert "A shower of knives" in client.get(HOME).text

    clock.move_to(EXPIRY)
    assert "A shower of knives" not in client.get(HOME).text
    assert "Psycho" not in client.get(FILM_LIST, {"reviewed": "yes"}).text
    assert client.get(url).status_code == 404


def test_no_page_is_kept_past_midnight(client, clock, vertigo):
    """The "new on" and "recently left" lists count days: they move on at midnight."""
    clock.move_to(datetime(2030, 3, 1, 23, 59, 30, tzinfo=UTC))
    with override_settings(TIME_ZONE="UTC"):
        response = cached(client, reverse("films:service_detail", args=["criterion-channel"]))

    assert freshness(response) <= 30


def test_make_public_pages_are_all_cached(client):
    """Every kind of public page the page-wide checks visit is cached, the 404 excepted."""
    for url in make_public_pages():
        response = client.get(url)
        again, queries = get(client, url)
        if response.status_code == 200:
            assert queries == 0, url
            assert again.content == response.content
        else:
            assert "public" not in again.get("Cache-Control", "")


def test_last_modified_is_when_the_page_was_made(client, clock, vertigo):
    response = client.get(FILM_LIST)

    assert response["Last-Modified"] == http_date(START.timestamp())
