"""/sitemap.xml: an index of sections (films, people, reviews, genres, services, tags), each
parsed as XML, with lastmod, split into pages at the sections' limit, in a fixed number of
queries; robots.txt points to it."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from films.sitemaps import FilmSitemap
from reviews.workflow import review_schedule
from tests.factories import make_film, make_review, make_user
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

SITEMAPS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS = {"sm": SITEMAPS}
SECTIONS = ["films", "people", "reviews", "genres", "services", "tags"]


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml")
    return ET.fromstring(response.content)


def index(client):
    root = parse(client, "/sitemap.xml")
    assert root.tag == f"{{{SITEMAPS}}}sitemapindex"
    return {
        path_of(entry.findtext("sm:loc", namespaces=NS)): entry.findtext(
            "sm:lastmod", namespaces=NS
        )
        for entry in root.findall("sm:sitemap", NS)
    }


def path_of(url):
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "testserver", url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def section(client, url):
    root = parse(client, url)
    assert root.tag == f"{{{SITEMAPS}}}urlset"
    return {
        path_of(entry.findtext("sm:loc", namespaces=NS)): entry.findtext(
            "sm:lastmod", namespaces=NS
        )
        for entry in root.findall("sm:url", NS)
    }


def iso(value):
    return datetime.fromisoformat(value)


@pytest.fixture
def catalogue():
    film = make_film(
        "The Cranes Are Flying",
        genres=["War"],
        directors=["Mikhail Kalatozov"],
        availability=[("Criterion Channel", "subscription")],
    )
    film.tags.add("soviet cinema")
    review = make_review(film, keywords=["black and white"])
    return film, review


def test_the_index_lists_every_section_with_its_lastmod(client, catalogue):
    sections = index(client)

    assert list(sections) == [f"/sitemap-{name}.xml" for name in SECTIONS]
    assert all(lastmod for lastmod in sections.values()), sections


def test_each_section_lists_its_pages_with_their_lastmod(client, catalogue):
    film, review = catalogue
    make_film("Not credited, not offered, no genre")  # its own page; nobody else's

    urls = {name: section(client, f"/sitemap-{name}.xml") for name in SECTIONS}

    assert set(urls["films"]) == {
        film.get_absolute_url(),
        "/films/not-credited-not-offered-no-genre/",
    }
    assert set(urls["people"]) == {"/people/mikhail-kalatozov/"}
    assert set(urls["reviews"]) == {review.get_absolute_url()}
    assert set(urls["genres"]) == {"/genres/war/"}
    assert set(urls["services"]) == {"/services/criterion-channel/"}
    assert set(urls["tags"]) == {"/tags/soviet-cinema/", "/tags/black-and-white/"}
    lastmods = [lastmod for entries in urls.values() for lastmod in entries.values()]
    assert all(lastmods) and all(len(lastmod) == 10 for lastmod in lastmods)  # YYYY-MM-DD


def test_addresses_are_those_of_the_pages_whatever_the_slug(client):
    """The sections write addresses from one reverse() each: for slugs in any script (old
    keyword slugs kept their accents) they must equal the pages' own, quoted alike."""
    from films.models import Film, Person

    film = make_film("Летят журавли", directors=["Михаил Калатозов"], genres=["Драма"])
    Film.objects.filter(pk=film.pk).update(slug="летят-журавли-é_x")
    Person.objects.filter(name="Михаил Калатозов").update(slug="михаил-калатозов")
    film.refresh_from_db()
    review = make_review(film)
    person = Person.objects.get(name="Михаил Калатозов")

    films, people = section(client, "/sitemap-films.xml"), section(client, "/sitemap-people.xml")
    reviews, genres = (
        section(client, "/sitemap-reviews.xml"),
        section(client, "/sitemap-genres.xml"),
    )

    assert set(films) == {film.get_absolute_url()}
    assert "%D0%BB" in film.get_absolute_url()  # quoted, as reverse() quotes
    assert set(people) == {person.get_absolute_url()}
    assert set(reviews) == {review.get_absolute_url()}
    assert set(genres) == {film.genres.get().get_absolute_url()}
    for url in [*films, *people, *reviews, *genres]:
        assert client.get(url).status_code == 200, url


def test_the_sections_lastmod_is_the_latest_of_its_pages(client, catalogue, time_machine):
    film, review = catalogue
    time_machine.move_to(datetime(2031, 5, 6, 12, tzinfo=UTC), tick=False)
    film.save()  # an edit of the film changes its page, its genre's and its director's

    sections = index(client)

    for name in ("films", "people", "genres", "services", "tags"):
        assert sections[f"/sitemap-{name}.xml"].startswith("2031-05-06"), name
    assert section(client, "/sitemap-films.xml")[film.get_absolute_url()] == "2031-05-06"
    # The review page shows the film's facts: it changed too.
    assert section(client, "/sitemap-reviews.xml")[review.get_absolute_url()] == "2031-05-06"


def test_the_index_and_sections_shared_between_requests_follow_an_edit(
    client, catalogue, time_machine
):
    film, _ = catalogue
    made = film.updated_at.date().isoformat()
    assert index(client)["/sitemap-films.xml"].startswith(made)
    assert section(client, "/sitemap-films.xml")[film.get_absolute_url()] == made
    assert count_queries(client, "/sitemap.xml") == 0  # shared, until the catalogue changes
    assert count_queries(client, "/sitemap-films.xml") == 0

    time_machine.move_to(datetime(2031, 5, 7, 12, tzinfo=UTC), tick=False)
    film.save()

    assert index(client)["/sitemap-films.xml"].startswith("2031-05-07")
    assert section(client, "/sitemap-films.xml")[film.get_absolute_url()] == "2031-05-07"


def test_a_scheduled_review_appears_at_its_time_dated_from_it(client, catalogue, time_machine):
    film, _ = catalogue
    at = datetime(2030, 3, 4, 9, tzinfo=UTC)
    scheduled = make_review(film, published=False)
    review_schedule(review=scheduled, at=at, by=make_user("ed", superuser=True))

    time_machine.move_to(at - timedelta(seconds=1), tick=False)
    assert scheduled.get_absolute_url() not in section(client, "/sitemap-reviews.xml")
    time_machine.move_to(at, tick=False)
    reviews = section(client, "/sitemap-reviews.xml")
    assert reviews[scheduled.get_absolute_url()] == "2030-03-04"
    # The film's page lists it from then on, and its genre's page rates the film with it.
    assert section(client, "/sitemap-films.xml")[film.get_absolute_url()] == "2030-03-04"
    assert section(client, "/sitemap-genres.xml")["/genres/war/"] == "2030-03-04"
    assert index(client)["/sitemap-reviews.xml"].startswith("2030-03-04")


def test_a_section_is_split_into_pages_at_its_limit(client, catalogue, monkeypatch):
    monkeypatch.setattr(FilmSitemap, "limit", 2)
    for n in range(4):
        make_film(f"Extra {n}")

    sections = index(client)

    pages = [url for url in sections if url.startswith("/sitemap-films.xml")]
    assert pages == ["/sitemap-films.xml", "/sitemap-films.xml?p=2", "/sitemap-films.xml?p=3"]
    listed = [section(client, url) for url in pages]
    assert [len(urls) for urls in listed] == [2, 2, 1]
    assert len({url for urls in listed for url in urls}) == 5
    assert client.get("/sitemap-films.xml?p=4").status_code == 404


def test_an_unknown_section_is_not_found(client):
    assert client.get("/sitemap-nope.xml").status_code == 404


@pytest.mark.parametrize(
    ("url", "expected"),
    [("/sitemap.xml", 6), *((f"/sitemap-{name}.xml", 2) for name in SECTIONS)],
)
def test_the_sitemaps_query_count_is_fixed(client, url, expected):
    def add(start, n):
        for i in range(start, start + n):
            film = make_film(
                f"Film {i}",
                genres=[f"Genre {i}"],
                directors=[f"Director {i}"],
                availability=[(f"Service {i}", "rent")],
            )
            film.tags.add(f"tag {i}")
            make_review(film, keywords=[f"keyword {i}"])

    add(0, 2)
    assert count_queries(client, url) == expected
    add(2, 15)
    assert count_queries(client, url) == expected


def test_robots_txt_points_to_the_index_and_keeps_the_admin_and_previews_out(client):
    response = client.get("/robots.txt")

    lines = response.content.decode().splitlines()
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Disallow: /admin/" in lines and "Disallow: /preview/" in lines
