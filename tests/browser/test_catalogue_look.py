"""The catalogue's look in a real browser: on a phone the film list's results come first and its
filters open and close without JavaScript; on a wide screen they are a sidebar; the film page
fits the screen at 375 and 1440 px and fills a wide one."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from playwright.sync_api import expect

from films.models import Person, Still, StreamingService
from tests.factories import make_film, make_review

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1440, "height": 900}
LONG = "Crème de la Cinémathèque Internationale of Very Long Service Names"


def png(size, colour):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return ContentFile(out.getvalue())


@pytest.fixture
def catalogue():
    """Thirty films, and one with everything: poster, stills, portraits, logos, many offers,
    long and non-Latin names."""
    for n in range(30):
        make_film(f"War Film {n + 1:02}", year=1940 + n, genres=["War"], directors=["Lewis M."])
    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        runtime=97,
        logline="A young woman waits for her fiancé to come back from the front.",
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[
            ("Tatiana Samoilova", "Veronika"),
            ("Aleksey Batalov", "Boris"),
            ("Vasili Merkuryev", "Fyodor Ivanovich Borozdin, a surgeon and Boris's father"),
            ("三船敏郎 " + "Longname" * 12, "A guest"),
        ],
        availability=[
            ("Criterion Channel", "subscription", "US"),
            ("Mubi", "subscription", "GB"),
            (LONG, "subscription", "US"),
            ("Apple TV", "rent", "US"),
            ("Google Play", "rent", "US"),
            ("Amazon Prime Video", "rent", "US"),
            ("Amazon Prime Video", "buy", "DE"),
            ("Tubi", "ads", "US"),
            ("Кинопоиск", "free", "GB"),
        ],
    )
    film.poster_alt = "Poster for The Cranes Are Flying (1957)"
    film.poster.save("p.png", png((240, 360), "darkred"), save=True)
    for n in range(3):
        still = Still(film=film, order=n, alt_text=f"Still {n}", caption=f"Scene {n}", credit="©")
        still.image.save("s.png", png((640, 360), "teal"), save=True)
    person = Person.objects.get(name="Tatiana Samoilova")
    person.portrait_alt = "Portrait of Tatiana Samoilova"
    person.portrait.save("t.png", png((192, 240), "sienna"), save=True)
    for service in StreamingService.objects.filter(name__in=["Mubi", LONG]):
        service.logo_alt = f"{service.name} logo"
        service.logo.save("l.png", png((200, 60), "black"), save=True)
    make_review(film, rating=4.5, headline="Love and war in one breathless take")
    return film


def summary(page):
    return page.locator("summary", has_text="Filters")


def genre(page, name):
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)} \(\d+\)$"))


def first_result(page):
    return page.get_by_role("region", name="Films").get_by_role("article").first


def test_on_a_phone_results_come_first_and_filters_open_without_javascript(new_context, catalogue):
    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    page.goto("/films/")

    expect(page.get_by_role("status")).to_have_text("31 films")
    top = first_result(page).bounding_box()
    assert top is not None and top["y"] < 600, f"the first film is {top} down the page"
    # The filters are closed: one line, "Filters", above the results.
    expect(summary(page)).to_have_text("Filters")
    expect(genre(page, "War")).to_be_hidden()
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()
    # Two posters a row.
    cards = page.get_by_role("region", name="Films").get_by_role("article")
    boxes = [cards.nth(n).bounding_box() for n in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"] < boxes[2]["y"]
    assert boxes[0]["width"] > 140

    summary(page).click()
    expect(genre(page, "War")).to_be_visible()
    genre(page, "War").check()
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"[?&]genre=war(&|$)"))
    expect(page.get_by_role("status")).to_have_text("31 films")
    expect(summary(page)).to_have_text("Filters (1 active)")
    expect(genre(page, "War")).to_be_hidden()  # closed again: the results lead
    assert first_result(page).bounding_box()["y"] < 600

    # The keyboard opens and closes it too.
    summary(page).focus()
    page.keyboard.press("Enter")
    expect(genre(page, "War")).to_be_visible()
    expect(genre(page, "War")).to_be_checked()
    page.keyboard.press("Enter")
    expect(genre(page, "War")).to_be_hidden()
    assert_fits(page, PHONE["width"])


def test_on_a_wide_screen_the_filters_are_an_open_sidebar_beside_the_results(
    new_context, catalogue
):
    page = new_context(java_script_enabled=False, viewport=DESKTOP).new_page()
    page.goto("/films/")

    expect(summary(page)).to_be_hidden()  # nothing to open: the sidebar is always open
    expect(genre(page, "War")).to_be_visible()
    expect(page.get_by_role("button", name="Apply filters")).to_be_visible()
    filters = page.get_by_role("form", name="Filter films").bounding_box()
    results = page.get_by_role("region", name="Films").bounding_box()
    assert filters["x"] + filters["width"] <= results["x"]
    assert abs(filters["y"] - results["y"]) < 5
    # Five posters a row beside the sidebar.
    cards = page.get_by_role("region", name="Films").get_by_role("article")
    tops = [cards.nth(n).bounding_box()["y"] for n in range(6)]
    assert len(set(tops[:5])) == 1 and tops[5] > tops[0]

    genre(page, "War").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]genre=war(&|$)"))
    assert_fits(page, DESKTOP["width"])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1440px"])
def test_the_film_page_fits_the_screen(page, catalogue, viewport):
    page.set_viewport_size(viewport)
    page.goto(catalogue.get_absolute_url())

    expect(page.get_by_role("heading", level=1)).to_contain_text("The Cranes Are Flying")
    watch = page.get_by_role("region", name="Where to watch")
    # The reader's region (the default, US) by offer type, then the other regions by country.
    for heading in ("Subscription", "Rent", "Free with ads", "Germany", "United Kingdom"):
        expect(watch.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(watch.get_by_role("combobox", name="Streaming offers in")).to_be_visible()
    expect(watch.get_by_role("link", name=LONG)).to_be_visible()
    expect(page.get_by_role("region", name="Stills").locator("figcaption")).to_have_count(3)
    assert_fits(page, viewport["width"])


def test_a_wide_film_page_has_no_empty_half(page, catalogue):
    page.set_viewport_size(DESKTOP)
    page.goto(catalogue.get_absolute_url())

    main = page.get_by_role("main").bounding_box()
    watch = page.get_by_role("region", name="Where to watch").bounding_box()
    stills = page.get_by_role("region", name="Stills").bounding_box()
    cast = page.get_by_role("region", name="Cast").bounding_box()
    # Where to watch is a column on the right, beside the stills and the cast on the left.
    assert watch["x"] > main["x"] + main["width"] * 0.6
    assert stills["x"] + stills["width"] < watch["x"]
    assert stills["y"] < watch["y"] + watch["height"]
    assert cast["width"] > main["width"] * 0.5


def assert_fits(page, width):
    assert page.evaluate("document.documentElement.clientWidth") == width
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width}px"
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 0.5)
            .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))""",
        width,
    )
    assert not wide, f"{page.url}: wider than the screen: {wide}"
    # Nor does anything run out of the page's column (into its margin on a wide screen).
    outside = page.evaluate(
        """() => {
            const main = document.querySelector('main');
            const right = main.getBoundingClientRect().right
                - parseFloat(getComputedStyle(main).paddingRight);
            return [...main.querySelectorAll('*')]
                .filter(el => el.getBoundingClientRect().right > right + 0.5)
                .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
        }"""
    )
    assert not outside, f"{page.url}: wider than the page's column: {outside}"
