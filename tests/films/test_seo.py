"""What the catalogue's pages tell search engines and link previews: title, description,
canonical address, robots rule, Open Graph and Twitter card, schema.org Movie and Person."""

import io
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from films.cache import bump
from films.models import Credit, Film
from films.seo import describe, iso_duration
from films.views import FilmListView
from tests.factories import make_film, make_person, make_public_pages, make_review
from tests.hostile import HOSTILE_NAMES, LONGEST
from tests.page_meta import read_head

pytestmark = pytest.mark.django_db


def jpeg(size):
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, "JPEG")
    return ContentFile(buffer.getvalue())


# --- Descriptions ------------------------------------------------------------------------------


def test_a_short_text_is_the_description_as_it_is():
    assert describe("Kalatozov’s “cranes” fly.") == "Kalatozov’s “cranes” fly."


def test_a_long_text_is_cut_at_a_word_boundary_within_160_characters():
    text = "A love story in wartime Moscow, " * 10

    cut = describe(text)

    assert len(cut) <= 160 and cut.endswith("…")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] in " ,"
    assert not cut[:-1].endswith((" ", ","))


def test_text_without_spaces_is_cut_at_a_character():
    cut = describe("鶴" * 400)

    assert cut == "鶴" * 159 + "…"


def test_whitespace_and_control_characters_are_folded_and_the_first_text_with_words_wins():
    assert describe("", "  \n\t ", "Veronika\x00 and\n\nBoris\u3000 ", "later") == (
        "Veronika and Boris"
    )
    assert describe("", None) == ""


def test_runtime_is_an_iso_8601_duration():
    assert [iso_duration(m) for m in (97, 60, 45, None)] == ["PT1H37M", "PT1H", "PT45M", None]


# --- The film page ------------------------------------------------------------------------------


@pytest.fixture
def cranes():
    film = make_film(
        "The Cranes Are Flying",
        original_title="Летят журавли",
        release_date=date(1957, 10, 12),
        runtime=97,
        countries=["SU"],
        logline="Moscow, 1941: Veronika waits for Boris.",
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika"), ("Aleksey Batalov", "Boris")],
    )
    Credit.objects.create(
        film=film, person=make_person("Moisei Vainberg"), role=Credit.Role.COMPOSER
    )
    return film


def test_the_film_page_is_a_movie_for_link_previews(client, cranes):
    head = read_head(client.get(cranes.get_absolute_url() + "?utm_source=mastodon&fbclid=x"))

    assert head.title == "The Cranes Are Flying (1957) · filmmag"
    assert head.description == (
        "Moscow, 1941: Veronika waits for Boris. The Cranes Are Flying (1957), directed by "
        "Mikhail Kalatozov, with Tatiana Samoilova and Aleksey Batalov."
    )
    assert head.canonical == "http://testserver/films/the-cranes-are-flying/"
    assert head.robots is None
    assert head.og["og:type"] == "video.movie"
    assert head.og["og:title"] == "The Cranes Are Flying (1957)"
    assert head.og["og:description"] == head.description
    assert head.og["og:url"] == head.canonical
    # No poster or still: the site's own card, at the size link previews ask for.
    assert head.og["og:image"].startswith("http://testserver/static/filmmag/share")
    assert (head.og["og:image:width"], head.og["og:image:height"]) == ("1200", "630")
    assert head.twitter_card == "summary_large_image"


def test_the_film_page_shares_its_1200_by_630_poster_rendition(client, cranes):
    cranes.poster_alt = "Poster for The Cranes Are Flying (1957)"
    cranes.poster.save("poster.jpg", jpeg((800, 1200)))

    head = read_head(client.get(cranes.get_absolute_url()))

    cranes.refresh_from_db()
    assert head.og["og:image"] == "http://testserver" + cranes.poster_picture.og_url
    assert head.og["og:image:alt"] == "Poster for The Cranes Are Flying (1957)"
    [movie] = head.json_ld
    assert movie["image"] == "http://testserver" + cranes.poster_picture.url("poster", 640)


def test_the_movie_data_is_the_films(client, cranes):
    older = make_review(cranes, headline="A masterpiece", rating=4.5, byline="Ines Marlowe")
    make_review(cranes, headline="Still unfinished", published=False)

    [movie] = read_head(client.get(cranes.get_absolute_url())).json_ld

    person = "http://testserver/people/{}/".format
    assert movie["@context"] == "https://schema.org" and movie["@type"] == "Movie"
    assert movie["name"] == "The Cranes Are Flying"
    assert movie["alternateName"] == "Летят журавли"
    assert movie["url"] == "http://testserver/films/the-cranes-are-flying/"
    assert movie["datePublished"] == "1957-10-12"
    assert movie["duration"] == "PT1H37M"
    assert movie["genre"] == ["Drama", "War"]
    assert movie["countryOfOrigin"] == [{"@type": "Country", "name": "Soviet Union"}]
    assert movie["director"] == [
        {"@type": "Person", "name": "Mikhail Kalatozov", "url": person("mikhail-kalatozov")}
    ]
    assert movie["musicBy"] == [
        {"@type": "Person", "name": "Moisei Vainberg", "url": person("moisei-vainberg")}
    ]
    assert movie["actor"] == [
        {
            "@type": "PerformanceRole",
            "actor": {
                "@type": "Person",
                "name": "Tatiana Samoilova",
                "url": person("tatiana-samoilova"),
            },
            "characterName": "Veronika",
        },
        {
            "@type": "PerformanceRole",
            "actor": {
                "@type": "Person",
                "name": "Aleksey Batalov",
                "url": person("aleksey-batalov"),
            },
            "characterName": "Boris",
        },
    ]
    # Its published reviews only.
    assert movie["review"] == [
        {
            "@type": "Review",
            "name": "A masterpiece",
            "url": "http://testserver" + older.get_absolute_url(),
            "author": {"@type": "Person", "name": "Ines Marlowe"},
            "datePublished": older.published_at.isoformat(timespec="seconds"),
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": "4.5",
                "bestRating": "5",
                "worstRating": "0.5",
            },
        }
    ]


def test_a_film_known_only_by_its_year_has_no_empty_values(client):
    film = make_film("Stalker", year=1979)

    [movie] = read_head(client.get(film.get_absolute_url())).json_ld

    assert movie == {
        "@context": "https://schema.org",
        "@type": "Movie",
        "name": "Stalker",
        "url": "http://testserver/films/stalker/",
        "datePublished": "1979",
    }


@pytest.mark.parametrize(
    "name", [n for n in HOSTILE_NAMES if n is not LONGEST] + ["x" * 200, "</script><!--"]
)
def test_hostile_names_stay_text_in_the_head(client, name):
    film = make_film(name, logline=f"{name} " * 30, cast=[(name, name)])
    make_review(film, headline=name, byline=name[:120])

    response = client.get(film.get_absolute_url())
    head = read_head(response)

    [movie] = head.json_ld  # one block, parsed whole: nothing broke out of it
    assert movie["name"] == film.title
    assert movie["actor"][0]["actor"]["name"] == name
    assert movie["review"][0]["name"] == name
    assert head.og["og:title"] == f"{film.title} ({film.year})"
    assert 0 < len(head.description) <= 160
    html = response.content.decode()
    assert "<script>alert" not in html and "</script><!--" not in html


# --- The person page ----------------------------------------------------------------------------


def test_the_person_page_is_a_profile(client, cranes):
    person = make_person("Tatiana Samoilova")
    person.original_name = "Татьяна Самойлова"
    person.birth_year, person.death_year = 1934, 2014
    person.portrait_alt = "Portrait of Tatiana Samoilova"
    person.portrait.save("portrait.jpg", jpeg((800, 1000)))

    head = read_head(client.get(person.get_absolute_url()))

    assert head.title == "Tatiana Samoilova · filmmag"
    assert head.description == (
        "Tatiana Samoilova (1934–2014), actor: The Cranes Are Flying. Films, reviews and where "
        "to watch them, on filmmag."
    )
    assert head.canonical == "http://testserver/people/tatiana-samoilova/"
    assert head.og["og:type"] == "profile"
    person.refresh_from_db()
    portrait = "http://testserver" + person.portrait_picture.url("portrait")
    # A 4:5 portrait is no wide card: the small one.
    assert head.og["og:image"] == portrait and head.twitter_card == "summary"
    assert head.json_ld == [
        {
            "@context": "https://schema.org",
            "@type": "Person",
            "name": "Tatiana Samoilova",
            "alternateName": "Татьяна Самойлова",
            "url": "http://testserver/people/tatiana-samoilova/",
            "image": portrait,
            "birthDate": "1934",
            "deathDate": "2014",
        }
    ]


def test_a_persons_bio_is_their_description(client):
    person = make_person("Agnès Varda", bio="Agnès Varda was a Belgian-born French director. " * 9)

    head = read_head(client.get(person.get_absolute_url()))

    assert head.description.startswith("Agnès Varda was a Belgian-born French director.")
    assert len(head.description) <= 160 and head.description.endswith("…")
    assert head.json_ld[0]["description"].startswith("Agnès Varda was")


# --- Film lists: canonical address and robots -----------------------------------------------


@pytest.fixture
def catalogue():
    for n in range(3):
        make_film(
            f"War film {n}",
            year=1950 + n,
            genres=["War", "Drama"],
            directors=["Mikhail Kalatozov"],
            availability=[("Mubi", "subscription")],
        )


FILMS = reverse("films:film_list")


@pytest.mark.parametrize(
    ("url", "canonical", "robots"),
    [
        # Worth indexing: the whole list, and one genre, service or decade.
        (FILMS, FILMS, None),
        (f"{FILMS}?utm_source=newsletter&ref=x&genre=", FILMS, None),
        (f"{FILMS}?genre=war", "/genres/war/", None),
        (f"{FILMS}?service=mubi&utm_campaign=x", "/services/mubi/", None),
        (f"{FILMS}?decade=1950", f"{FILMS}?decade=1950", None),
        # Combinations, other filters, sorting and later pages: followed, not indexed.
        (f"{FILMS}?genre=war&service=mubi", f"{FILMS}?genre=war&service=mubi", "noindex, follow"),
        (f"{FILMS}?service=mubi&genre=war", f"{FILMS}?genre=war&service=mubi", "noindex, follow"),
        (f"{FILMS}?genre=war&genre=drama", f"{FILMS}?genre=drama&genre=war", "noindex, follow"),
        (
            f"{FILMS}?director=mikhail-kalatozov",
            f"{FILMS}?director=mikhail-kalatozov",
            "noindex, follow",
        ),
        (f"{FILMS}?q=war", f"{FILMS}?q=war", "noindex, follow"),
        (f"{FILMS}?reviewed=yes", f"{FILMS}?reviewed=yes", "noindex, follow"),
        (f"{FILMS}?sort=-year", FILMS, "noindex, follow"),
        (f"{FILMS}?genre=war&sort=rating", "/genres/war/", "noindex, follow"),
        (f"{FILMS}?page=2", f"{FILMS}?page=2", "noindex, follow"),
        # Invalid values are ignored, as the page ignores them.
        (f"{FILMS}?genre=nope&year_min=abc&decade=1", FILMS, None),
        ("/genres/war/", "/genres/war/", None),
        ("/genres/war/?genre=drama&fbclid=1", "/genres/war/", None),
        ("/genres/war/?service=mubi", "/genres/war/?service=mubi", "noindex, follow"),
        ("/genres/war/?sort=year", "/genres/war/", "noindex, follow"),
        ("/services/mubi/?page=2", "/services/mubi/?page=2", "noindex, follow"),
    ],
)
def test_film_lists_say_which_address_to_index(client, catalogue, url, canonical, robots):
    if "page=2" in url:
        for n in range(FilmListView.paginate_by):
            make_film(f"Padding {n}", genres=["War"], availability=[("Mubi", "rent")])

    head = read_head(client.get(url))

    assert head.canonical == f"http://testserver{canonical}"
    assert head.robots == robots
    assert head.og["og:url"] == head.canonical


def test_a_later_page_of_a_list_is_titled_with_its_number(client, catalogue):
    for n in range(30):
        make_film(f"Padding {n}")

    head = read_head(client.get(FILMS, {"page": 2}))

    assert head.title == "Films, page 2 · filmmag"


def test_a_list_is_described_by_its_count_filters_and_first_titles(client, catalogue):
    make_film("Comedy film", genres=["Comedy"])

    assert read_head(client.get(FILMS, {"genre": "war"})).description == (
        "3 films in filmmag's catalogue (Genre: War), with where to watch each and our reviews: "
        "War film 0, War film 1 and War film 2."
    )
    assert read_head(client.get("/services/mubi/")).description == (
        "3 films to watch on Mubi, with filmmag's reviews: War film 0, War film 1 and War film 2."
    )
    assert read_head(client.get("/genres/drama/", {"sort": "-year"})).description == (
        "Drama: 3 films in filmmag's catalogue, with where to watch each: War film 2, War film 1 "
        "and War film 0."
    )
    assert read_head(client.get(FILMS)).description.startswith(
        "4 films in filmmag's catalogue, with where to watch each and our reviews, among them "
    )


# --- Every public page ---------------------------------------------------------------------------


def test_every_public_page_has_its_title_description_card_and_address(client):
    for url in make_public_pages():
        response = client.get(url)
        if response.status_code == 404:
            continue
        head = read_head(response)
        assert head.title and head.title.endswith(" · filmmag"), url
        assert 0 < len(head.description) <= 160, url
        assert head.canonical and head.canonical.startswith("http://testserver/"), url
        assert head.og["og:url"] == head.canonical, url
        assert head.og["og:title"] and head.og["og:description"] == head.description, url
        assert head.og["og:type"] in ("website", "video.movie", "article", "profile"), url
        assert head.og["og:image"].startswith("http://testserver/"), url
        assert head.twitter_card in ("summary", "summary_large_image"), url


def test_film_and_person_pages_add_no_query(client, cranes, django_assert_num_queries, settings):
    # As pinned in tests/films/test_query_counts.py, with the JSON-LD and the cards built
    # (made, not from the page cache).
    settings.PAGE_CACHE_ENABLED = False
    make_review(cranes)
    person = Film.objects.get().credits.first().person.get_absolute_url()
    client.get(cranes.get_absolute_url())  # makes the catalogue version
    bump()  # a new one: made again, not shared from films.fragments' cache
    with django_assert_num_queries(8):
        client.get(cranes.get_absolute_url())
    with django_assert_num_queries(3):
        client.get(person)
