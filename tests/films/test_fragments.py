"""Pages made once per catalogue version and shared (films.fragments, FilmListView.results):
a repeat costs the object's lookup at most, for readers the page cache does not serve (a
session), and never shows anything out of date, nor a preview to anyone else."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from filmmag.settings import cache_settings
from films.models import Film, Person
from films.regions import REGION_COOKIE
from tests.factories import make_editor, make_film, make_review, make_user
from tests.outages import closed_port
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

FILM_LIST = reverse("films:film_list")


@pytest.fixture
def reader(client):
    client.force_login(make_user())  # a session: never served by the page cache
    return client


@pytest.fixture
def cranes():
    film = make_film(
        "The Cranes Are Flying",
        genres=["War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika")],
        availability=[("Mubi", "subscription"), ("iTunes", "rent", "GB")],
    )
    review = make_review(film, headline="Love in wartime", rating="4.5", keywords=["Cranes"])
    return {"film": film, "review": review}


def pages(cranes):
    film, review = cranes["film"], cranes["review"]
    return {
        "home": reverse("reviews:home"),
        "film list": FILM_LIST,
        "filtered film list": f"{FILM_LIST}?genre=war&sort=rating",
        "genre": reverse("films:genre_detail", kwargs={"slug": "war"}),
        "film": film.get_absolute_url(),
        "person": Person.objects.get(name="Mikhail Kalatozov").get_absolute_url(),
        "review": review.get_absolute_url(),
        "review list": reverse("reviews:review_list"),
        "keyword": reverse("reviews:tag_detail", kwargs={"slug": "cranes"}),
        "search": f"{reverse('reviews:search')}?q=kalatozov",  # the title as it is, unmarked
        "feed": reverse("reviews:review_feed"),
        "genre feed": reverse("reviews:genre_feed", kwargs={"slug": "war"}),
        "sitemap index": "/sitemap.xml",
        "sitemap section": "/sitemap-films.xml",
    }


# A repeat's queries: the lookup of what the address names (which decides a 404 or an old
# address's redirect), and nothing else; not even the reader's account, which no page asks for.
# A film list has no such lookup: a genre's page is made anew when the genre changes.
REPEAT_QUERIES = {
    "home": 0,
    "film list": 0,
    "filtered film list": 0,
    "genre": 0,
    "film": 1,
    "person": 1,
    "review": 1,
    "review list": 0,
    "keyword": 0,
    "search": 0,
    "feed": 0,
    "genre feed": 0,
    "sitemap index": 0,
    "sitemap section": 0,
}


def test_a_repeat_is_shared_and_costs_only_the_pages_lookup(reader, cranes):
    for name, url in pages(cranes).items():
        made = count_queries(reader, url)
        again = count_queries(reader, url)
        assert (name, again) == (name, REPEAT_QUERIES[name])
        assert made > again, name
        assert reader.get(url).text == reader.get(url).text, name


def test_a_change_shows_at_the_next_request(reader, cranes):
    film = cranes["film"]
    urls = pages(cranes)
    for url in urls.values():
        reader.get(url)

    Film.objects.filter(pk=film.pk).update(title="Letyat zhuravli")  # no signal: …
    film.refresh_from_db()
    film.save()  # … then an editor's save, which is what replaces the version

    # The sitemaps show no title: tests/test_sitemaps.py follows their dates.
    for name in set(urls) - {"home", "sitemap index", "sitemap section"}:
        assertContains(reader.get(urls[name]), "Letyat zhuravli", msg_prefix=name)
    cranes["review"].headline = "Love, and war"
    cranes["review"].save()
    assertContains(reader.get(urls["home"]), "Love, and war")


def test_the_readers_region_is_part_of_the_key(reader, cranes):
    url = cranes["film"].get_absolute_url()
    us = reader.get(url)
    reader.cookies[REGION_COOKIE] = "GB"
    gb = reader.get(url)

    assert us.text != gb.text
    assertContains(gb, "United Kingdom")
    reader.cookies[REGION_COOKIE] = "US"
    assert reader.get(url).text == us.text


def test_the_readers_region_is_part_of_a_lists_key(reader, cranes):
    url = reverse("films:service_detail", kwargs={"slug": "itunes"})
    us = reader.get(url)
    reader.cookies[REGION_COOKIE] = "GB"
    gb = reader.get(url)

    assert "0 films" in us.text and "1 film<" in gb.text
    reader.cookies[REGION_COOKIE] = "US"
    assert reader.get(url).text == us.text


def test_a_list_whose_genre_is_gone_or_renamed_is_not_served_from_its_old_rendering(reader, cranes):
    genre = reverse("films:genre_detail", kwargs={"slug": "war"})
    assertContains(reader.get(genre), "The Cranes Are Flying")
    war = cranes["film"].genres.get()
    war.name, war.slug = "Wartime", "wartime"
    war.save()

    moved = reader.get(genre)
    assert (moved.status_code, moved["Location"]) == (301, "/genres/wartime/")
    war.delete()
    assert reader.get("/genres/wartime/").status_code == 404


def test_a_keyword_page_and_a_feed_follow_their_slug_after_a_rename(reader, cranes):
    keyword = reverse("reviews:tag_detail", kwargs={"slug": "cranes"})
    feed = reverse("reviews:tag_feed", kwargs={"slug": "cranes"})
    assert reader.get(keyword).status_code == reader.get(feed).status_code == 200
    tag = cranes["review"].keywords.get()
    tag.name, tag.slug = "Flying cranes", "flying-cranes"
    tag.save()

    assert reader.get(keyword).status_code == reader.get(feed).status_code == 301


def test_the_address_is_part_of_the_key(reader, cranes):
    make_film("Ivan's Childhood", year=1962, genres=["War"])
    # In the same catalogue version: the second sort must not be given the first one's films.
    newest = reader.get(FILM_LIST, {"sort": "-year"}).text
    oldest = reader.get(FILM_LIST, {"sort": "year"}).text

    assert newest.index("Ivan&#x27;s Childhood") < newest.index("The Cranes Are Flying")
    assert oldest.index("The Cranes Are Flying") < oldest.index("Ivan&#x27;s Childhood")


def test_a_preview_is_never_shared(client, cranes):
    draft = make_review(cranes["film"], headline="Not yet", published=False)
    url = draft.get_absolute_url()
    client.force_login(make_editor())

    for _ in range(2):
        response = client.get(url)
        assertContains(response, "Not yet")
        assert count_queries(client, url) > 3  # made each time

    client.logout()
    assert client.get(url).status_code == 404
    client.force_login(make_user())  # a reader with a session: no preview rights
    assert client.get(url).status_code == 404
    assertNotContains(client.get(cranes["film"].get_absolute_url()), "Not yet")


def test_pages_are_made_as_usual_when_the_cache_is_down(reader, cranes, settings):
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")
    for name, url in pages(cranes).items():
        response = reader.get(url)
        assert response.status_code == 200, name
        shown = {
            "sitemap index": "/sitemap-films.xml",
            "sitemap section": "/the-cranes-are-flying/",
        }
        shown = shown.get(name, "The Cranes Are Flying")
        assert shown in response.text, name


def test_a_rendering_that_used_the_csp_nonce_is_not_kept(rf):
    from django.utils.csp import LazyNonce

    from films.cache import cached_fragment

    renderings = []

    def render(request):
        renderings.append(str(request._csp_nonce))  # as {{ csp_nonce }} in a template does
        return f"<script nonce={renderings[-1]}></script>"

    for _ in range(2):
        request = rf.get("/")
        request._csp_nonce = LazyNonce()
        cached_fragment("test", {"n": 1}, lambda request=request: render(request), request=request)
    assert len(renderings) == 2 and renderings[0] != renderings[1]

    plain = []
    for _ in range(2):
        request = rf.get("/")
        request._csp_nonce = LazyNonce()
        cached_fragment("test", {"n": 2}, lambda: plain.append(1) or "<p>", request=request)
    assert plain == [1]  # made once, then shared
