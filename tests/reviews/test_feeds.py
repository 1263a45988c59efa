"""The review feeds ("channels"), read by a real feed parser, in RSS 2.0 and Atom.

Every page that lists films or reviews has a feed at its address plus ``feed/`` (RSS) or
``feed/atom/``: the latest reviews, the film list with any filters, a genre, a service, a
person and a keyword. Entries carry the headline, the film, the byline, the date, the rating
and the conclusion.
"""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import feedparser
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains
from taggit.models import Tag

from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from reviews.models import Review
from tests.factories import make_film, make_review
from tests.hostile import make_hostile_catalogue
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

FORMATS = {"rss": "rss20", "atom": "atom10"}


def feed_url(name, fmt="rss", **kwargs):
    """The URL of the feed ``name`` ("film_list", "genre"…) in ``fmt``."""
    infix = "_atom" if fmt == "atom" else ""
    return reverse(f"reviews:{name}{infix}_feed", kwargs=kwargs or None)


def read(client, url, params=None, *, fmt="rss"):
    """The feed at ``url``, parsed; it must be well-formed and of the format asked for."""
    response = client.get(url, params or {})
    assert response.status_code == 200, (url, params)
    kind = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
    assert response["Content-Type"].startswith(kind)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == FORMATS[fmt]
    return parsed


def headlines(parsed):
    return [entry.title.split(": ", 1)[1].split(" (")[0] for entry in parsed.entries]


@pytest.fixture
def magazine():
    """Three reviewed films: a war film on Criterion Channel, a war film on Netflix and a
    comedy on Criterion Channel; plus a draft and a scheduled review that no feed lists."""
    now = timezone.now()
    cranes = make_film(
        "The Cranes Are Flying",
        year=1957,
        genres=["War", "Drama"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika")],
        availability=[("Criterion Channel", "subscription")],
    )
    come_and_see = make_film(
        "Come and See",
        year=1985,
        genres=["War"],
        directors=["Elem Klimov"],
        availability=[("Netflix", "subscription")],
    )
    playtime = make_film(
        "Playtime",
        year=1967,
        genres=["Comedy"],
        directors=["Jacques Tati"],
        availability=[("Criterion Channel", "rent")],
    )
    reviews = {
        "cranes": make_review(
            cranes,
            headline="A crane's-eye view of grief",
            byline="Anna Petrova",
            rating=Decimal("4.5"),
            conclusion="A masterpiece of the thaw.\n\nSee it on the big screen.",
            published_at=now - timedelta(days=3),
            keywords=["soviet cinema"],
        ),
        "come_and_see": make_review(
            come_and_see,
            headline="The war film to end them",
            byline="Ben Okafor",
            rating=Decimal("5.0"),
            conclusion="Unbearable, and essential.",
            published_at=now - timedelta(days=2),
            keywords=["soviet cinema"],
        ),
        "playtime": make_review(
            playtime,
            headline="Tativille, at last",
            rating=None,
            conclusion="A city built for one joke, and it is worth it.",
            published_at=now - timedelta(days=1),
        ),
    }
    make_review(cranes, headline="An unfinished draft", published=False)
    make_review(come_and_see, headline="Not yet", published_at=now + timedelta(hours=1))
    return reviews


# --- entries carry the review ------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_entries_carry_headline_film_author_date_rating_and_conclusion(client, magazine, fmt):
    parsed = read(client, feed_url("review", fmt), fmt=fmt)
    assert [entry.title for entry in parsed.entries] == [
        "Playtime (1967): Tativille, at last",
        "Come and See (1985): The war film to end them (★★★★★)",
        "The Cranes Are Flying (1957): A crane's-eye view of grief (★★★★½)",
    ]
    entry = parsed.entries[2]
    review = magazine["cranes"]
    assert entry.link == f"http://testserver{review.get_absolute_url()}"
    assert entry.author == "Anna Petrova"
    assert entry.summary == "A masterpiece of the thaw.\n\nSee it on the big screen."
    published = timezone.datetime(*entry.published_parsed[:6], tzinfo=timezone.UTC)
    assert published == review.published_at.replace(microsecond=0)
    assert entry.filmmag_film == "The Cranes Are Flying (1957)"
    assert entry.filmmag_rating == "4.5"
    # An unrated review has no rating element.
    assert "filmmag_rating" not in parsed.entries[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_entry_links_to_the_film_page(client, magazine, fmt):
    entries = read(client, feed_url("review", fmt), fmt=fmt).entries
    film = magazine["cranes"].film
    assert entries[2].filmmag_filmlink == f"http://testserver{film.get_absolute_url()}"


def test_atom_feed_describes_itself_and_each_entry_has_an_update_time(client, magazine):
    parsed = read(client, feed_url("review", "atom"), fmt="atom")
    assert parsed.feed.title == "filmmag: latest reviews"
    assert parsed.feed.subtitle == "The newest film reviews published by filmmag."
    assert parsed.feed.link == "http://testserver" + reverse("reviews:review_list")
    assert all(entry.updated_parsed for entry in parsed.entries)


def test_an_entry_without_a_conclusion_is_summed_up_by_its_standfirst(client):
    make_review(headline="Short", standfirst="In a word: yes.", conclusion="")
    (entry,) = read(client, feed_url("review")).entries
    assert entry.summary == "In a word: yes."


# --- one feed per page -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_genre_feed_lists_the_reviews_of_its_films(client, magazine, fmt):
    parsed = read(client, feed_url("genre", fmt, slug="war"), fmt=fmt)
    assert headlines(parsed) == ["The war film to end them", "A crane's-eye view of grief"]
    assert parsed.feed.title == "filmmag reviews: War films"
    assert parsed.feed.link == "http://testserver" + reverse(
        "films:genre_detail", kwargs={"slug": "war"}
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_feed_lists_the_reviews_of_the_films_it_offers(client, magazine, fmt):
    parsed = read(client, feed_url("service", fmt, slug="criterion-channel"), fmt=fmt)
    assert headlines(parsed) == ["Tativille, at last", "A crane's-eye view of grief"]
    assert parsed.feed.title == "filmmag reviews: Films on Criterion Channel"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_person_feed_lists_the_reviews_of_their_films(client, magazine, fmt):
    parsed = read(client, feed_url("person", fmt, slug="mikhail-kalatozov"), fmt=fmt)
    assert headlines(parsed) == ["A crane's-eye view of grief"]
    assert parsed.feed.title == "filmmag reviews: films with Mikhail Kalatozov"
    # An actor's feed, too: the person page is every role's.
    parsed = read(client, feed_url("person", fmt, slug="tatiana-samoilova"), fmt=fmt)
    assert headlines(parsed) == ["A crane's-eye view of grief"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_keyword_feed_lists_the_reviews_with_the_keyword(client, magazine, fmt):
    parsed = read(client, feed_url("tag", fmt, slug="soviet-cinema"), fmt=fmt)
    assert headlines(parsed) == ["The war film to end them", "A crane's-eye view of grief"]
    assert parsed.feed.title == "filmmag reviews: keyword soviet cinema"


@pytest.mark.parametrize(
    "name", ["genre", "service", "person", "tag"], ids=["genre", "service", "person", "tag"]
)
def test_the_feed_of_an_unknown_page_is_not_found(client, magazine, name):
    assert client.get(feed_url(name, slug="no-such-thing")).status_code == 404
    assert client.get(feed_url(name, "atom", slug="no-such-thing")).status_code == 404


def test_the_feed_of_a_draft_only_keyword_is_not_found(client, magazine):
    make_review(published=False, keywords=["secret"])
    assert client.get(feed_url("tag", slug="secret")).status_code == 404


def test_an_old_slug_redirects_to_the_feed_at_its_new_address(client, magazine):
    genre = Genre.objects.get(slug="war")
    genre.slug = "war-films"
    genre.save()
    response = client.get(feed_url("genre", "atom", slug="war"), {"decade": "1950"})
    assert response.status_code == 301
    assert response["Location"] == feed_url("genre", "atom", slug="war-films") + "?decade=1950"


# --- any filter combination --------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_film_list_feed_follows_any_filter_combination(client, magazine, fmt):
    url = feed_url("film_list", fmt)
    query = {"genre": "war", "service": "criterion-channel"}
    parsed = read(client, url, query, fmt=fmt)
    assert headlines(parsed) == ["A crane's-eye view of grief"]
    assert parsed.feed.title == (
        "filmmag reviews: Films (Genre: War; Streaming service: Criterion Channel)"
    )
    assert parsed.feed.link == ("http://testserver/films/?genre=war&service=criterion-channel")
    # Options within a filter widen, filters narrow: as on the page.
    parsed = read(client, url, {"genre": ["war", "comedy"], "decade": "1960"}, fmt=fmt)
    assert headlines(parsed) == ["Tativille, at last"]
    parsed = read(client, url, {"director": "elem-klimov", "offer": "subscription"}, fmt=fmt)
    assert headlines(parsed) == ["The war film to end them"]
    parsed = read(client, url, {"q": "cranes", "year_min": "1950", "year_max": "1960"}, fmt=fmt)
    assert headlines(parsed) == ["A crane's-eye view of grief"]
    # Without filters: every published review.
    assert len(read(client, url, fmt=fmt).entries) == 3


def test_a_genre_feed_takes_the_other_filters_too(client, magazine):
    parsed = read(client, feed_url("genre", slug="war"), {"service": "netflix"})
    assert headlines(parsed) == ["The war film to end them"]
    assert parsed.feed.title == "filmmag reviews: War films (Streaming service: Netflix)"
    # The genre comes from the address, whatever the query says.
    parsed = read(client, feed_url("genre", slug="war"), {"genre": "comedy"})
    assert headlines(parsed) == ["The war film to end them", "A crane's-eye view of grief"]


def test_the_sort_order_and_page_of_the_list_do_not_change_the_feed(client, magazine):
    plain = read(client, feed_url("film_list"), {"genre": "war"})
    other = read(client, feed_url("film_list"), {"genre": "war", "sort": "title", "page": "9"})
    assert headlines(other) == headlines(plain)


@pytest.mark.parametrize(
    "invalid",
    [
        {"genre": "no-such-genre"},
        {"decade": "1066"},
        {"year_min": "last year"},
        {"offer": "steal"},
        {"director": "\x00"},
        {"service": "<script>alert(1)</script>"},
        {"reviewed": "maybe", "sort": "worst"},
    ],
    ids=lambda query: next(iter(query)),
)
def test_invalid_filter_values_are_ignored_and_said_so_as_on_the_page(client, magazine, invalid):
    """The list reports an invalid value and ignores it; so does the feed, in its description."""
    query = {"genre": "war", **invalid}
    page = client.get(reverse("films:film_list"), query)
    assert page.status_code == 200
    assert "could not be used and were ignored" in page.text
    page_films = {film.title for film in page.context["films"]}
    for fmt in FORMATS:
        parsed = read(client, feed_url("film_list", fmt), query, fmt=fmt)
        feed_films = {entry.filmmag_film.rsplit(" (", 1)[0] for entry in parsed.entries}
        assert feed_films == page_films
        assert feed_films
        description = parsed.feed.get("subtitle", parsed.feed.get("description"))
        assert "could not be used and were ignored" in description


def test_filters_that_match_nothing_give_an_empty_feed(client, magazine):
    parsed = read(client, feed_url("film_list"), {"genre": "comedy", "service": "netflix"})
    assert parsed.entries == []
    parsed = read(client, feed_url("film_list", "atom"), {"reviewed": "no"}, fmt="atom")
    assert parsed.entries == []


def test_feed_is_not_a_film_page_and_a_film_called_feed_gets_another_slug(client, magazine):
    film = make_film("Feed", year=2005)
    assert film.slug == "feed-2"
    assert client.get(film.get_absolute_url()).status_code == 200
    read(client, "/films/feed/")


# --- autodiscovery and the "Follow these filters" link -----------------------------------


def feed_links(url, title):
    return (
        f'<link rel="alternate" type="application/rss+xml" title="{title}" href="{url}">',
        f'<link rel="alternate" type="application/atom+xml" title="{title} (Atom)" '
        f'href="{url.replace("/feed/", "/feed/atom/", 1)}">',
    )


def test_every_page_offers_the_latest_reviews_feed(client, magazine):
    response = client.get(reverse("reviews:home"))
    for link in feed_links(reverse("reviews:review_feed"), "filmmag: latest reviews"):
        assert_html(response, link)


def assert_html(response, html):
    from django.test import SimpleTestCase

    SimpleTestCase().assertContains(response, html, html=True)


def test_the_film_list_offers_the_feed_of_its_filters(client, magazine):
    response = client.get(
        reverse("films:film_list"), {"genre": "war", "sort": "title", "page": "1", "q": "a&b"}
    )
    feed = "/films/feed/?genre=war&amp;q=a%26b"
    title = "filmmag reviews: films matching these filters"
    for link in feed_links(feed, title):
        assert_html(response, link)
    assert_html(
        response,
        f'<a href="{feed}" type="application/rss+xml">Follow these filters</a>',
    )
    # The site-wide feed stays on offer, after the page's own.
    text = response.text
    assert text.index("/films/feed/") < text.index(reverse("reviews:review_feed"))


def test_an_unfiltered_film_list_offers_the_feed_of_every_review(client, magazine):
    response = client.get(reverse("films:film_list"))
    assert_html(
        response, '<a href="/films/feed/" type="application/rss+xml">Follow these filters</a>'
    )


@pytest.mark.parametrize(
    ("path", "feed", "title"),
    [
        (
            "/genres/war/?decade=1950",
            "/genres/war/feed/?decade=1950",
            "filmmag reviews: War films",
        ),
        (
            "/services/netflix/",
            "/services/netflix/feed/",
            "filmmag reviews: Films on Netflix",
        ),
    ],
)
def test_genre_and_service_pages_offer_their_feeds(client, magazine, path, feed, title):
    # Not "page": that is pytest-playwright's fixture, whose browser parametrisation would
    # reorder the suite and run the live-server tests (which flush the database) among these.
    response = client.get(path)
    for link in feed_links(feed.replace("&", "&amp;"), title):
        assert_html(response, link)
    assert_html(response, f'<a href="{feed}" type="application/rss+xml">Follow these filters</a>')


def test_person_and_keyword_pages_offer_their_feeds(client, magazine):
    response = client.get(reverse("films:person_detail", kwargs={"slug": "elem-klimov"}))
    for link in feed_links("/people/elem-klimov/feed/", "filmmag reviews: films with Elem Klimov"):
        assert_html(response, link)
    response = client.get(reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}))
    for link in feed_links("/tags/soviet-cinema/feed/", "filmmag reviews: keyword soviet cinema"):
        assert_html(response, link)


# --- a fixed number of queries -----------------------------------------------------------


def add_reviews(n):
    for i in range(n):
        film = make_film(
            f"Extra {i}",
            genres=["War", f"Genre {i}"],
            directors=["Elem Klimov"],
            availability=[("Netflix", "subscription")],
        )
        make_review(film, rating=Decimal("3.5"), keywords=["soviet cinema"])


@pytest.mark.parametrize(
    ("url", "params", "expected"),
    [
        (feed_url("review"), {}, 1),
        (feed_url("review", "atom"), {}, 1),
        (feed_url("film_list"), {}, 1),
        (feed_url("film_list"), {"genre": "war", "service": "netflix", "decade": "1950"}, 2),
        (feed_url("film_list", "atom"), {"director": "elem-klimov", "reviewed": "yes"}, 2),
        (feed_url("film_list"), {"genre": "nope", "year_min": "x"}, 2),
        (feed_url("film_list"), {"decade": "1950", "offer": "rent"}, 1),
        (feed_url("genre", slug="war"), {"service": "netflix"}, 2),
        (feed_url("service", "atom", slug="netflix"), {}, 2),
        (feed_url("person", slug="elem-klimov"), {}, 2),
        (feed_url("tag", "atom", slug="soviet-cinema"), {}, 2),
    ],
)
def test_feeds_run_a_fixed_number_of_queries(client, magazine, url, params, expected):
    add_reviews(2)
    client.get(url, params)  # content types are cached after the first request
    assert count_queries(client, url, params) == 0  # shared until the catalogue changes
    add_reviews(25)
    assert count_queries(client, url, params) == expected  # made again, as many with 27
    assert count_queries(client, url, params) == 0


def test_a_feed_lists_the_twenty_newest_reviews(client, magazine):
    add_reviews(25)
    parsed = read(client, feed_url("genre", slug="war"))
    assert len(parsed.entries) == 20
    newest = Review.objects.published().filter(film__genres__slug="war")[:20]
    assert [entry.link for entry in parsed.entries] == [
        f"http://testserver{review.get_absolute_url()}" for review in newest
    ]


# --- hostile names and the demo magazine -------------------------------------------------


def check_entries(parsed, reviews):
    """The entries are ``reviews``, newest first, each field as the review has it."""
    assert len(parsed.entries) == len(reviews)
    for entry, review in zip(parsed.entries, reviews, strict=True):
        assert entry.link == f"http://testserver{review.get_absolute_url()}"
        assert entry.title.startswith(f"{review.film}: {review.headline}".strip())
        assert entry.author == review.displayed_byline.strip()
        assert entry.filmmag_film == str(review.film).strip()
        if review.rating is None:
            assert "filmmag_rating" not in entry
        else:
            assert Decimal(entry.filmmag_rating) == review.rating


def newest(reviews):
    return list(reviews.order_by("-published_at", "-pk")[:20])


def every_page_feed(fmt):
    """(feed URL, the reviews it must list) for every genre, service, person and keyword."""
    published = Review.objects.published()
    for genre in Genre.objects.all():
        yield (
            feed_url("genre", fmt, slug=genre.slug),
            newest(published.filter(film__genres=genre).distinct()),
        )
    for service in StreamingService.objects.all():
        # The service's films in the default region (a feed reader sends no region cookie).
        offers = Availability.objects.current().filter(
            service=service, region=settings.FILMMAG_DEFAULT_REGION
        )
        yield (
            feed_url("service", fmt, slug=service.slug),
            newest(published.filter(film__availabilities__in=offers).distinct()),
        )
    for person in Person.objects.filter(credits__isnull=False).distinct():
        yield (
            feed_url("person", fmt, slug=person.slug),
            newest(published.filter(film__credits__person=person).distinct()),
        )
    for tag in Tag.objects.filter(review__in=published).distinct():
        yield (feed_url("tag", fmt, slug=tag.slug), newest(published.filter(keywords=tag)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_names_make_well_formed_feeds(client, fmt):
    make_hostile_catalogue()
    checked = 0
    for url, reviews in every_page_feed(fmt):
        check_entries(read(client, url, fmt=fmt), reviews)
        checked += 1
    assert checked > 4 * 20
    check_entries(read(client, feed_url("review", fmt), fmt=fmt), newest(Review.objects.all()))


def test_hostile_filter_values_of_the_hostile_catalogue(client):
    make_hostile_catalogue()
    genres = list(Genre.objects.values_list("slug", flat=True))
    services = list(StreamingService.objects.values_list("slug", flat=True))
    directors = Person.objects.filter(credits__role=Credit.Role.DIRECTOR).values_list(
        "slug", flat=True
    )
    for genre, service, director in zip(genres, services, directors, strict=False):
        query = {"genre": genre, "service": service, "director": director}
        films = Film.objects.filter(
            genres__slug=genre,
            availabilities__in=Availability.objects.current().filter(
                service__slug=service, region=settings.FILMMAG_DEFAULT_REGION
            ),
            credits__person__slug=director,
            credits__role=Credit.Role.DIRECTOR,
        )
        reviews = newest(Review.objects.published().filter(film__in=films))
        for fmt in FORMATS:
            check_entries(read(client, feed_url("film_list", fmt), query, fmt=fmt), reviews)


def test_the_demo_magazine_feeds(client):
    call_command("load_demo", "--no-artwork", stdout=StringIO())
    published = Review.objects.published()
    assert published.count() >= 5
    for fmt in FORMATS:
        parsed = read(client, feed_url("review", fmt), fmt=fmt)
        check_entries(parsed, newest(published))
        # Each demo review has a conclusion: it is the entry's summary, in full.
        for entry, review in zip(parsed.entries, newest(published), strict=True):
            assert entry.summary == review.conclusion.strip()
        for url, reviews in every_page_feed(fmt):
            check_entries(read(client, url, fmt=fmt), reviews)


@pytest.mark.parametrize("fmt", FORMATS)
def test_characters_xml_cannot_carry_are_left_out_rather_than_breaking_the_feed(client, fmt):
    film = make_film("Escape\x1b[31m", genres=["Form\x0cfeed"])
    make_review(
        film, headline="Bell\x07 and tab\tkept", conclusion="Vertical\x0btab.", byline="\x08"
    )
    parsed = read(client, feed_url("genre", fmt, slug=film.genres.get().slug), fmt=fmt)
    (entry,) = parsed.entries
    assert entry.title == "Escape[31m (1957): Bell and tab\tkept"
    assert entry.summary == "Verticaltab."
    assert parsed.feed.title == "filmmag reviews: Formfeed films"


# --- the reader's region ---------------------------------------------------------------------


def test_a_followed_service_filter_keeps_the_readers_region_though_feed_readers_send_no_cookie(
    client,
):
    """A reader in Britain follows "Netflix": the feed must list Netflix's British films, not
    the default region's, for a feed reader that has never seen the reader's cookie."""
    british = make_film("Only in Britain", availability=[("Netflix", "subscription", "GB")])
    make_review(british, headline="Seen from London")
    american = make_film("Only in America", availability=[("Netflix", "subscription", "US")])
    make_review(american, headline="Seen from Boston")
    client.cookies["region"] = "GB"

    page = client.get(reverse("films:film_list"), {"service": "netflix"})

    feed = "/films/feed/?service=netflix&amp;region=GB"
    assertContains(
        page, f'<a href="{feed}" type="application/rss+xml">Follow these filters</a>', html=True
    )
    del client.cookies["region"]
    followed = read(client, "/films/feed/", {"service": "netflix", "region": "GB"})
    assert headlines(followed) == ["Seen from London"]
    assert headlines(read(client, "/films/feed/", {"service": "netflix"})) == ["Seen from Boston"]
    # A feed asked for with the cookie (a browser) follows it, as the page does.
    client.cookies["region"] = "GB"
    assert headlines(read(client, "/films/feed/", {"service": "netflix"})) == ["Seen from London"]


def test_filters_that_do_not_depend_on_the_region_follow_without_one(client):
    client.cookies["region"] = "GB"
    page = client.get(reverse("films:film_list"), {"genre": "war"})
    assertContains(
        page,
        '<a href="/films/feed/?genre=war" type="application/rss+xml">Follow these filters</a>',
        html=True,
    )
