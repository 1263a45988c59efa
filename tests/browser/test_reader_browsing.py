"""Readers browsing the public site: pagination that keeps the filters, no JavaScript, bad
addresses, a phone-sized screen and the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_film, make_review

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def result_titles(page):
    results = page.get_by_role("region", name="Films")
    return results.get_by_role("article").get_by_role("heading").get_by_role("link")


def genre(page, name):
    """A genre checkbox, whatever its facet count: its label reads "War (30)"."""
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)} \(\d+\)$"))


@pytest.fixture
def cranes():
    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        runtime=97,
        logline="A young woman waits for her fiancé to come back from the front.",
        genres=["Drama", "War", "Romance"],
        directors=["Mikhail Kalatozov"],
        cast=[
            ("Tatiana Samoilova", "Veronika"),
            ("Aleksey Batalov", "Boris"),
            ("Vasili Merkuryev", "Fyodor Ivanovich Borozdin"),
        ],
        availability=[
            ("Criterion Channel", "subscription", "US"),
            ("Mubi", "subscription", "GB"),
            ("Apple TV", "rent", "US"),
            ("Amazon Prime Video", "buy", "DE"),
        ],
    )
    make_film("I Am Cuba", year=1964, genres=["Drama"], directors=["Mikhail Kalatozov"])
    review = make_review(
        film,
        headline="Love and war in one breathless take",
        rating=4.5,
        synopsis="Veronika and Boris part when he volunteers for the front.",
        critique=(
            "Urusevsky's camera runs, climbs and spins with her grief.\n\n"
            # Critics paste addresses: a long unbroken one must not widen the page on a phone.
            "His notes on the staircase shot are at https://archive.org/details/"
            "letyat_zhuravli_1957_urusevsky_camera_notes_staircase_shot"
        ),
        criticisms="The last reel leans on speeches.",
        conclusion="One of the great films about waiting.",
        keywords=["soviet cinema", "world war ii", "long takes", "cinematography"],
    )
    return {"film": film, "review": review}


# --- pagination and sorting ----------------------------------------------------------------


@pytest.fixture
def thirty_war_films():
    """30 War films, one a year from 1940, and two others that the War filter leaves out."""
    for n in range(30):
        make_film(f"War Film {n + 1:02}", year=1940 + n, genres=["War"])
    make_film("Vertigo", year=1958, genres=["Thriller"])
    make_film("Zabriskie Point", year=1970, genres=["Drama"])


def test_pagination_keeps_the_filters_and_sorting_reorders(page, thirty_war_films):
    page.goto("/films/")
    expect(page.get_by_role("status")).to_have_text("32 films")

    genre(page, "War").check()
    page.get_by_role("button", name="Apply filters").click()

    expect(page.get_by_role("status")).to_have_text("30 films")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(result_titles(page)).to_have_count(24)
    expect(result_titles(page).first).to_have_text("War Film 01")

    page.get_by_role("link", name="Next").click()

    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]genre=war(&|$)"))
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(genre(page, "War")).to_be_checked()
    expect(result_titles(page)).to_have_text([f"War Film {n:02}" for n in range(25, 31)])
    expect(page.get_by_role("link", name="Next")).to_have_count(0)

    # Newest first, from page 2: the newest film leads, and the filter still holds.
    page.get_by_label("Sort by").select_option(label="Newest first")
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"[?&]sort=-year(&|$)"))
    expect(page.get_by_role("status")).to_have_text("30 films")
    expect(page.get_by_label("Sort by")).to_have_value("-year")
    expect(result_titles(page).first).to_have_text("War Film 30")  # 1969
    expect(result_titles(page).nth(1)).to_have_text("War Film 29")
    expect(page.get_by_role("link", name="Zabriskie Point")).to_have_count(0)

    page.get_by_role("link", name="Next").click()

    expect(page).to_have_url(re.compile(r"[?&]sort=-year(&|$)"))
    expect(genre(page, "War")).to_be_checked()
    expect(result_titles(page)).to_have_text([f"War Film {n:02}" for n in range(6, 0, -1)])

    page.get_by_role("link", name="Previous").click()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(result_titles(page).first).to_have_text("War Film 30")


# --- without JavaScript --------------------------------------------------------------------


def test_a_reader_without_javascript_can_filter_and_open_a_film(new_context, cranes):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/films/")
    expect(page.get_by_role("status")).to_have_text("2 films")

    genre(page, "War").check()
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"[?&]genre=war(&|$)"))
    expect(page.get_by_role("status")).to_have_text("1 film")
    expect(result_titles(page)).to_have_text(["The Cranes Are Flying"])

    page.get_by_role("link", name="The Cranes Are Flying").click()

    expect(page).to_have_url(re.compile(r"/films/the-cranes-are-flying/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("The Cranes Are Flying")
    expect(page.get_by_role("region", name="Where to watch")).to_contain_text("Criterion Channel")
    expect(page.get_by_role("region", name="Reviews").get_by_role("link")).to_have_text(
        ["Love and war in one breathless take"]
    )


# --- bad addresses -------------------------------------------------------------------------


def test_a_bad_filter_address_is_explained_and_still_lists_films(page, cranes):
    response = page.goto("/films/?year_min=abc&genre=nope")

    assert response is not None and response.status == 200
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("could not be used and were ignored")
    expect(notice.get_by_role("listitem")).to_have_count(2)
    expect(notice).to_contain_text("From year: Enter a year, such as 1957.")
    expect(notice).to_contain_text("Genre:")
    expect(notice).to_contain_text("nope")
    # Both were ignored, so every film is listed; the bad year is not put back in the form.
    expect(page.get_by_role("status")).to_have_text("2 films")
    expect(result_titles(page)).to_have_text(["I Am Cuba", "The Cranes Are Flying"])
    expect(page.get_by_label("From")).to_have_value("")


def test_an_unknown_film_shows_the_404_page_with_links_back(page, cranes):
    response = page.goto("/films/no-such-film/")

    assert response is not None and response.status == 404
    expect(page).to_have_title(re.compile(r"^Page not found"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="read the latest reviews")).to_have_attribute(
        "href", "/reviews/"
    )
    page.get_by_role("link", name="Browse all films").click()
    expect(page).to_have_url(re.compile(r"/films/$"))
    expect(page.get_by_role("status")).to_have_text("2 films")


# --- a phone -------------------------------------------------------------------------------


def test_no_horizontal_scrolling_on_a_phone(page, cranes):
    page.set_viewport_size(PHONE)
    film, review = cranes["film"], cranes["review"]
    for url in ("/films/", "/films/?genre=war&year_min=abc", film.get_absolute_url()):
        page.goto(url)
        assert_fits(page, url)
    page.goto(review.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(review.headline)
    assert_fits(page, review.get_absolute_url())


def assert_fits(page, url):
    expect(page.get_by_role("main")).to_be_visible()
    width = page.evaluate("document.documentElement.clientWidth")
    assert width == PHONE["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{url} scrolls sideways: {scroll_width}px on a {width}px screen"
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 0.5)
            .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))""",
        width,
    )
    assert not wide, f"{url}: wider than the screen: {wide}"


# --- the keyboard --------------------------------------------------------------------------


def test_the_first_tab_reaches_skip_to_content_which_moves_focus_to_main(page, cranes):
    page.goto(cranes["film"].get_absolute_url())
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")

    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown once focused

    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.get_by_role("main")).to_be_focused()
    # The next Tab goes to the first link in the main content, past the header's links.
    page.keyboard.press("Tab")
    director = page.get_by_role("main").get_by_role("link", name="Mikhail Kalatozov").first
    expect(director).to_be_focused()
