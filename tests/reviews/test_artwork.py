"""The demo's generated pictures (reviews/artwork/): posters, stills, monogram cards and
wordmarks, made from the films' own data, stored through the upload pipeline."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from films.models import Film, Person, Still, StreamingService
from reviews.artwork.demo import demo_artwork_add
from reviews.artwork.draw import (
    CREDIT,
    canvas,
    drawable,
    fit,
    font,
    has_glyph,
    initials,
    pick_colours,
    seeded,
    wrap,
)
from reviews.artwork.logos import logo_png
from reviews.artwork.portraits import portrait_png
from reviews.artwork.posters import poster_png
from reviews.artwork.stills import CANVAS as STILL_CANVAS
from reviews.artwork.stills import COMPOSITIONS, still_pngs
from reviews.artwork.stills import HEIGHT as STILL_HEIGHT
from reviews.artwork.stills import WIDTH as STILL_WIDTH
from tests.factories import make_film, make_service

CATALOGUE = Path(__file__).parent / "data" / "catalogue.json"
REAL_CATALOGUE = Path(settings.BASE_DIR) / "reviews/demo/catalogue.json"

HOSTILE_TITLES = [
    "Cléo from 5 to 7",
    "千と千尋の神隠し",
    "Летят журавли",
    "ליל מנוחה",
    "\"Quotes\" & 'apostrophes' <b>not bold</b>",
    "Supercalifragilisticexpialidocious" * 5,
    " ".join(["A very long title that goes on"] * 10),
    "🎬🍿",
    "...",
    "Łódź — Straße, Œuvre, Ærø",
]


def image(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def demo_films() -> list[tuple[str, int, str]]:
    data = json.loads(REAL_CATALOGUE.read_text(encoding="utf-8"))
    return [
        (
            film["title"],
            film["year"],
            " and ".join(c["person"] for c in film["credits"] if c["role"] == "director"),
        )
        for film in data["films"]
    ]


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# Drawing ---------------------------------------------------------------------------------------


SAMPLE = """
import hashlib, json
from reviews.artwork.logos import logo_png
from reviews.artwork.portraits import portrait_png
from reviews.artwork.posters import poster_png
from reviews.artwork.stills import COMPOSITIONS, still_pngs
from reviews.artwork.stills import HEIGHT as STILL_HEIGHT
from reviews.artwork.stills import WIDTH as STILL_WIDTH
images = [poster_png("Vertigo", 1958, "Alfred Hitchcock"), portrait_png("Agnès Varda"),
          logo_png("Criterion Channel"), *(s.png for s in still_pngs("Vertigo", 1958))]
print(json.dumps([hashlib.sha256(i).hexdigest() for i in images]))
"""


def test_the_same_film_gives_byte_identical_pictures_in_another_process():
    here = [
        digest(poster_png("Vertigo", 1958, "Alfred Hitchcock")),
        digest(portrait_png("Agnès Varda")),
        digest(logo_png("Criterion Channel")),
        *(digest(s.png) for s in still_pngs("Vertigo", 1958)),
    ]
    # Another interpreter, with another string-hash seed: nothing may depend on either.
    result = subprocess.run(
        [sys.executable, "-c", SAMPLE],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )

    assert json.loads(result.stdout) == here


def test_every_demo_film_gets_its_own_poster_in_varied_layouts():
    posters = [poster_png(*film) for film in demo_films()]

    assert len({digest(p) for p in posters}) == len(posters)
    # Different colours and layouts, not one design with other words: the corners differ.
    corners = {image(p).getpixel((4, 4)) for p in posters}
    assert len(corners) >= 12


def test_stills_of_a_film_differ_from_each_other_and_from_another_films():
    vertigo = still_pngs("Vertigo", 1958)
    psycho = still_pngs("Psycho", 1960)

    assert len(vertigo) == 3
    assert len({digest(s.png) for s in vertigo + psycho}) == 6
    assert len({s.shapes for s in vertigo}) == 3


@pytest.mark.parametrize("compose", COMPOSITIONS, ids=lambda compose: compose.__name__)
def test_every_composition_shows_shapes_not_a_flat_field(compose):
    for title in ("Vertigo", "Parasite", "M", "Stalker", "Casablanca"):
        rng = seeded("test", title)
        colours = pick_colours(rng, 3)
        picture, draw = canvas(STILL_CANVAS, colours[0])
        compose(draw, rng, colours)
        small = picture.resize((192, 108), Image.Resampling.NEAREST)
        largest = max(count for count, _ in small.getcolors(192 * 108))
        assert largest < 0.85 * 192 * 108, (compose.__name__, title)


def test_pictures_have_the_shapes_of_their_specs():
    assert image(poster_png("Vertigo", 1958, "Alfred Hitchcock")).size == (960, 1440)  # 2:3
    assert {image(s.png).size for s in still_pngs("Vertigo", 1958)} == {
        (STILL_WIDTH, STILL_HEIGHT)
    }  # 16:9
    assert image(portrait_png("Alfred Hitchcock")).size == (768, 960)  # 4:5
    logo = image(logo_png("Amazon Prime Video"))
    assert logo.height == 256 and 256 <= logo.width <= 1024
    assert {image(p).mode for p in (poster_png("M", 1931), logo_png("Mubi"))} == {"RGB"}


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_and_names_still_make_pictures(title):
    poster = image(poster_png(title, 2001, ""))
    stills = still_pngs(title, None)
    card = image(portrait_png(title))
    logo = image(logo_png(title))

    assert poster.size == (960, 1440)
    assert {image(s.png).size for s in stills} == {(STILL_WIDTH, STILL_HEIGHT)}
    assert card.size == (768, 960)
    assert logo.height == 256


@pytest.mark.parametrize(
    ("text", "drawn"),
    [
        ("Cléo from 5 to 7", "Cleo from 5 to 7"),
        ("Agnès Varda", "Agnes Varda"),
        ("Łódź — Straße", "Lodz - Strasse"),
        ("千と千尋の神隠し", ""),
        ("Spirited Away 千と千尋", "Spirited Away"),
        ("Tab\tand\x00null", "Tab andnull"),
    ],
)
def test_letters_the_bundled_font_lacks_are_spelled_plainly_never_as_boxes(text, drawn):
    assert drawable(text) == drawn
    assert all(has_glyph(char) for char in drawable(text))


def test_a_title_too_long_for_its_box_is_cut_short_with_an_ellipsis():
    size, lines = fit("word " * 500, width=800, height=300, largest=150, smallest=34)

    assert size == 34
    assert len(lines) * 34 * 1.05 <= 300
    assert lines[-1].endswith("...")
    assert all(font(size).getlength(line) <= 800 for line in lines)


def test_a_word_wider_than_the_line_is_broken_where_it_must_be():
    assert wrap("W" * 5, 300, 10) == ["W"] * 5
    lines = wrap(f"A {'W' * 60} end", 60, 500)
    assert "".join(lines).replace(" ", "") == f"A{'W' * 60}end"
    assert all(font(60).getlength(line) <= 500 for line in lines[:-1] if len(line) > 1)


@pytest.mark.parametrize(
    ("name", "letters"),
    [
        ("Alfred Hitchcock", "AH"),
        ("Agnès Varda", "AV"),
        ("JR", "JR"),
        ("Madonna", "M"),
        ("Bong Joon-ho", "BJ"),
        ("Carl Theodor Dreyer", "CD"),
        ("宮崎駿", "?"),
    ],
)
def test_monogram_initials(name, letters):
    assert initials(name) == letters


# Stored through the upload pipeline --------------------------------------------------------------


@pytest.mark.django_db
def test_load_demo_gives_films_people_and_services_pictures_with_alt_text_and_credit():
    call_command("load_demo", "--catalogue", str(CATALOGUE), "--no-reviews", stdout=StringIO())

    vertigo = Film.objects.get(title="Vertigo")
    assert vertigo.poster_alt == "Poster for Vertigo (1958)"
    assert vertigo.poster_credit == CREDIT == "Generated artwork, filmmag demo"
    poster = vertigo.poster_picture
    assert poster.has("poster") and poster.has("og")
    assert poster.size("poster") == (960, 1440)
    assert vertigo.poster.name.startswith("posters/")

    stills = list(vertigo.stills.all())
    assert [s.order for s in stills] == [0, 1, 2]
    for still in stills:
        assert still.credit == CREDIT
        assert still.alt_text.endswith(
            "generated artwork standing in for a still from Vertigo (1958)"
        )
        assert still.caption.startswith("Generated artwork: a composition in ")
        assert still.picture.has("still") and still.picture.size("still") == (
            STILL_WIDTH,
            STILL_HEIGHT,
        )
    assert vertigo.share_picture.og_url == stills[0].picture.og_url

    # The directors and the two top-billed actors, not the composer.
    carded = set(Person.objects.exclude(portrait="").values_list("name", flat=True))
    assert carded == {"Alfred Hitchcock", "James Stewart", "Kim Novak", "Mikhail Kalatozov"}
    hitchcock = Person.objects.get(name="Alfred Hitchcock")
    assert hitchcock.portrait_alt == "Portrait of Alfred Hitchcock: a card with the initials AH"
    assert hitchcock.portrait_credit == CREDIT
    assert hitchcock.portrait_picture.size("portrait") == (384, 480)

    for service in StreamingService.objects.all():
        assert service.logo_alt == f"{service.name} logo"
        assert service.logo_picture.has("logo")

    # Every file the rows name is in storage.
    stored = media_files()
    named = {vertigo.poster.name, hitchcock.portrait.name, *(s.image.name for s in stills)}
    for row in [vertigo, hitchcock, *stills]:
        picture = (
            getattr(row, "picture", None)
            or getattr(row, "poster_picture", None)
            or row.portrait_picture
        )
        for spec in picture.renditions["specs"].values():
            named |= {name for files in spec["files"].values() for _, name in files}
    assert named <= stored


@pytest.mark.django_db
def test_the_film_page_shows_the_generated_poster_and_stills(client):
    call_command("load_demo", "--catalogue", str(CATALOGUE), "--no-reviews", stdout=StringIO())
    vertigo = Film.objects.get(title="Vertigo")

    response = client.get(vertigo.get_absolute_url())

    content = response.content.decode()
    assert 'alt="Poster for Vertigo (1958)"' in content
    assert "No poster yet" not in content
    assert vertigo.poster_picture.url("poster", 320) in content


@pytest.mark.django_db
def test_load_demo_twice_makes_no_new_files_rows_or_writes():
    call_command("load_demo", "--catalogue", str(CATALOGUE), stdout=StringIO())
    files = media_files()
    rows = (Film.objects.count(), Still.objects.count(), Person.objects.count())
    pictures = sorted(Film.objects.values_list("pk", "poster", "poster_renditions"))

    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("load_demo", "--catalogue", str(CATALOGUE), stdout=out)

    assert media_files() == files
    assert (Film.objects.count(), Still.objects.count(), Person.objects.count()) == rows
    assert sorted(Film.objects.values_list("pk", "poster", "poster_renditions")) == pictures
    assert "already up to date" in out.getvalue()
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


@pytest.mark.django_db
def test_a_fresh_database_gets_the_same_files_again():
    call_command("load_demo", "--catalogue", str(CATALOGUE), "--no-reviews", stdout=StringIO())
    first = {
        name: digest((Path(settings.MEDIA_ROOT) / name).read_bytes()) for name in media_files()
    }
    posters = sorted(Film.objects.values_list("title", "poster"))
    Still.objects.all().delete()
    for film in Film.objects.all():
        film.poster = ""
        film.save()
    Person.objects.update(portrait="", portrait_renditions={})
    StreamingService.objects.update(logo="", logo_renditions={})
    shutil.rmtree(settings.MEDIA_ROOT)  # as a fresh clone has no media folder

    call_command("load_demo", "--catalogue", str(CATALOGUE), "--no-reviews", stdout=StringIO())

    assert sorted(Film.objects.values_list("title", "poster")) == posters
    again = {
        name: digest((Path(settings.MEDIA_ROOT) / name).read_bytes()) for name in media_files()
    }
    assert again == first


@pytest.mark.django_db
def test_no_artwork_makes_no_pictures():
    out = StringIO()
    call_command("load_demo", "--catalogue", str(CATALOGUE), "--no-artwork", stdout=out)

    assert not Film.objects.exclude(poster="").exists()
    assert not Still.objects.exists()
    assert not Person.objects.exclude(portrait="").exists()
    assert media_files() == set()
    assert "poster" not in out.getvalue()


@pytest.mark.django_db
def test_an_editors_own_poster_and_stills_are_kept():
    call_command("load_demo", "--catalogue", str(CATALOGUE), "--no-artwork", stdout=StringIO())
    vertigo = Film.objects.get(title="Vertigo")
    own = io.BytesIO()
    Image.new("RGB", (200, 300), "purple").save(own, "PNG")
    vertigo.poster = ContentFile(own.getvalue(), name="mine.png")
    vertigo.poster_alt = "The editor's own"
    vertigo.full_clean()
    vertigo.save()
    Still.objects.create(
        film=vertigo, image=ContentFile(own.getvalue(), name="s.png"), alt_text="Their still"
    )

    call_command("load_demo", "--catalogue", str(CATALOGUE), stdout=StringIO())

    vertigo.refresh_from_db()
    assert vertigo.poster_alt == "The editor's own"
    assert list(vertigo.stills.values_list("alt_text", flat=True)) == ["Their still"]
    assert Film.objects.get(title="The Cranes Are Flying").poster_credit == CREDIT


@pytest.mark.django_db
@pytest.mark.parametrize("title", HOSTILE_TITLES[:4] + HOSTILE_TITLES[5:6])
def test_hostile_films_go_through_the_pipeline(title):
    film = make_film(title, year=2001)  # no director
    service = make_service(f"{title[:50]} Plus")

    made = demo_artwork_add(films=[film], services=[service])

    film.refresh_from_db()
    assert made == {"posters": 1, "stills": 3, "logos": 1}
    assert film.poster_alt == f"Poster for {film}"
    assert film.poster_picture.has("poster")
    assert film.stills.count() == 3
    service.refresh_from_db()
    assert service.logo_picture.has("logo")
