"""Editors at work in the admin, in a real browser: entering a film, writing and publishing a
review, two editors saving the same review, and the admin refusing bad input politely."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from films.models import Availability, Credit, Film, Still
from reviews.models import Review
from tests.factories import make_film, make_genre, make_person, make_review, make_service, make_user

pytestmark = pytest.mark.browser

PASSWORD = "a-test-password-123"


# --- helpers -------------------------------------------------------------------------------


def log_in(page, username, next_url="/admin/"):
    """Log in through the admin's login form as an existing user; land on ``next_url``."""
    page.goto(f"/admin/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))
    return page


def choose(page, select_id, search, option=None):
    """Pick an option in the select2 autocomplete that replaces ``<select id=select_id>``:
    click the widget, type, and click the matching result, as an editor would."""
    option = option or search
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    results = page.locator(".select2-container--open .select2-results")
    results.get_by_role("option", name=option, exact=True).click()
    # The widget now shows the choice (single: its title; multiple: a chip).
    expect(page.locator(f"#{select_id} + .select2")).to_contain_text(option)


def save(page, button="Save"):
    """Click a save button; return the status of the POST: 302 saved, 200 refused (not 500)."""
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name=button, exact=True).click()
    return response.value.status


@pytest.fixture
def editor(page):
    make_user("editor", superuser=True)
    return log_in(page, "editor")


@pytest.fixture
def catalogue():
    """What exists before the seed film is entered: the people, genres and service it refers
    to, and two films that each match some, not all, of the filters that should find it."""
    for name in ("Drama", "War", "Romance", "Comedy"):
        make_genre(name)
    for name in ("Mikhail Kalatozov", "Tatiana Samoilova", "Sergei Urusevsky", "Aleksey Batalov"):
        make_person(name)
    criterion = ("Criterion Channel", "subscription", "US")
    make_film(
        "I Am Cuba",
        year=1964,
        genres=["Drama"],
        directors=["Mikhail Kalatozov"],
        availability=[criterion],
    )
    make_film(
        "Come and See",
        year=1985,
        genres=["War"],
        directors=["Elem Klimov"],
        availability=[criterion],
    )
    make_service("Max")


# --- 1. entering a film --------------------------------------------------------------------


def test_editor_enters_the_seed_film_through_the_admin(editor, catalogue, new_context):
    page = editor
    page.goto("/admin/films/film/add/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add film")

    # The slug is filled in from the title by the admin's script as the editor types.
    page.locator("#id_title").press_sequentially("The Cranes Are Flying")
    expect(page.locator("#id_slug")).to_have_value("the-cranes-are-flying")

    for genre in ("Drama", "War", "Romance"):
        choose(page, "id_genres", genre[:3], genre)
    page.locator("#id_release_date").fill("1957-10-12")
    page.locator("#id_runtime").fill("97")

    # Credits: one empty row to start with, more on demand.
    add_credit = page.get_by_role("button", name="Add another Credit")
    add_credit.click()
    add_credit.click()
    expect(page.locator("#credits-group tr.form-row:not(.empty-form)")).to_have_count(3)
    credits = [
        ("Mikhail Kalatozov", "Director", "", ""),
        ("Tatiana Samoilova", "Actor", "Veronika", "1"),
        ("Sergei Urusevsky", "Cinematographer", "", ""),
    ]
    for row, (person, role, character, order) in enumerate(credits):
        choose(page, f"id_credits-{row}-person", person.split()[-1], person)
        page.locator(f"#id_credits-{row}-role").select_option(label=role)
        if character:
            page.locator(f"#id_credits-{row}-character").fill(character)
        if order:
            page.locator(f"#id_credits-{row}-order").fill(order)

    choose(page, "id_availabilities-0-service", "Criterion", "Criterion Channel")
    page.locator("#id_availabilities-0-offer_type").select_option(label="Subscription")
    page.locator("#id_availabilities-0-region").select_option("US")

    assert save(page) == 302
    expect(page).to_have_url(re.compile(r"/admin/films/film/$"))
    expect(page.locator(".messagelist .success")).to_have_text(
        "The film “The Cranes Are Flying (1957)” was added successfully."
    )
    film = Film.objects.get(title="The Cranes Are Flying")
    assert (film.slug, film.year, film.runtime) == ("the-cranes-are-flying", 1957, 97)
    assert str(film.release_date) == "1957-10-12"
    assert {g.name for g in film.genres.all()} == {"Drama", "War", "Romance"}
    assert {(c.person.name, c.role, c.character, c.order) for c in film.credits.all()} == {
        ("Mikhail Kalatozov", Credit.Role.DIRECTOR, "", 0),
        ("Tatiana Samoilova", Credit.Role.ACTOR, "Veronika", 1),
        ("Sergei Urusevsky", Credit.Role.CINEMATOGRAPHER, "", 0),
    }
    availability = film.availabilities.get()
    assert (availability.service.name, availability.offer_type, availability.region.code) == (
        "Criterion Channel",
        Availability.OfferType.SUBSCRIPTION,
        "US",
    )

    # A reader (no admin session) finds it with exactly those filters.
    reader = new_context().new_page()
    reader.goto("/films/?genre=war&director=mikhail-kalatozov&service=criterion-channel")
    expect(reader.get_by_role("status")).to_have_text("1 film")
    results = reader.get_by_role("region", name="Films")
    expect(results.get_by_role("article").get_by_role("link")).to_have_text(
        ["The Cranes Are Flying"]
    )
    expect(results).to_contain_text("Directed by Mikhail Kalatozov")


# --- 2. writing a review -------------------------------------------------------------------


SECTIONS = {
    "synopsis": "Veronika and Boris part when he volunteers for the front.",
    "critique": "Urusevsky's camera runs, climbs and spins with her grief.",
    "criticisms": "The last reel leans on speeches.",
    "conclusion": "One of the great films about waiting.",
}


def test_editor_writes_and_publishes_a_review(editor):
    film = make_film(
        "The Cranes Are Flying", year=1957, genres=["War"], directors=["Mikhail Kalatozov"]
    )
    make_film("I Am Cuba", year=1964, directors=["Mikhail Kalatozov"])
    page = editor
    page.goto("/admin/reviews/review/add/")

    choose(page, "id_film", "Cranes", "The Cranes Are Flying (1957)")
    page.locator("#id_headline").press_sequentially("Love and war in one breathless take")
    expect(page.locator("#id_slug")).to_have_value("love-and-war-in-one-breathless-take")
    page.locator("#id_rating").select_option(label="4.5 / 5")
    for name, text in SECTIONS.items():
        page.locator(f"#id_{name}").fill(text)
    page.locator("#id_keywords").fill("soviet cinema, war")
    page.locator("#id_status").select_option(label="Published")
    publication = page.locator(".field-published_at")
    publication.get_by_role("button", name="Today").click()
    publication.get_by_role("button", name="Now").click()
    expect(page.locator("#id_published_at_0")).not_to_have_value("")
    expect(page.locator("#id_published_at_1")).not_to_have_value("")

    assert save(page, "Save and continue editing") == 302
    review = Review.objects.get()
    expect(page).to_have_url(re.compile(rf"/admin/reviews/review/{review.pk}/change/$"))
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    assert review.film == film and review.rating == Decimal("4.5")
    assert review.status == Review.Status.PUBLISHED and review.is_public()
    assert sorted(review.keywords.names()) == ["soviet cinema", "war"]
    assert review.author.username == "editor"

    page.get_by_role("link", name="View on site").click()

    expect(page).to_have_url(re.compile(re.escape(review.get_absolute_url()) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Love and war in one breathless take")
    expect(page.get_by_role("heading", level=2)).to_contain_text(
        ["Synopsis", "Critique", "Criticisms", "Conclusion"]
    )
    expect(page.get_by_role("region", name="Critique")).to_contain_text(SECTIONS["critique"])
    expect(page.locator(".review__meta")).to_contain_text("4.5 out of 5")


def test_only_live_reviews_have_a_view_on_site_link(editor):
    film = make_film("The Cranes Are Flying", year=1957)
    draft = make_review(film, published=False, headline="Notes towards a second look")
    scheduled = make_review(
        film,
        headline="Coming next week",
        status=Review.Status.PUBLISHED,
        published_at=timezone.now() + timedelta(days=7),
    )
    live = make_review(film, headline="Love and war in one breathless take")
    page = editor

    for review in (draft, scheduled):
        page.goto(f"/admin/reviews/review/{review.pk}/change/")
        expect(page.locator("#id_headline")).to_have_value(review.headline)
        expect(page.get_by_role("link", name="History")).to_be_visible()
        expect(page.get_by_role("link", name="View on site", exact=True)).to_have_count(0)
        # Its writer and editors preview it there instead (tests/browser/test_preview.py).
        expect(page.get_by_role("link", name="Preview on site", exact=True)).to_have_attribute(
            "href", review.get_absolute_url()
        )

    page.goto(f"/admin/reviews/review/{live.pk}/change/")
    expect(page.get_by_role("link", name="View on site", exact=True)).to_have_attribute(
        "href", live.get_absolute_url()
    )
    expect(page.get_by_role("link", name="Preview on site", exact=True)).to_have_count(0)


# --- 3. two editors, one review ------------------------------------------------------------


def test_second_editor_saving_a_stale_review_is_refused_and_keeps_their_text(new_context):
    review = make_review(headline="Love and war", critique="The first draft of the critique.")
    make_user("anna", superuser=True)
    make_user("boris", superuser=True)
    change_url = f"/admin/reviews/review/{review.pk}/change/"
    anna = log_in(new_context().new_page(), "anna", change_url)
    boris = log_in(new_context().new_page(), "boris", change_url)
    for page in (anna, boris):
        expect(page.locator("#id_critique")).to_have_value("The first draft of the critique.")

    anna.locator("#id_critique").fill("Anna's critique, saved first.")
    assert save(anna) == 302
    expect(anna.locator(".messagelist .success")).to_contain_text("was changed successfully")

    boris_text = "Boris's critique, typed while Anna was saving."
    boris.locator("#id_critique").fill(boris_text)
    assert save(boris) == 200

    expect(boris).to_have_url(re.compile(re.escape(change_url) + "$"))
    expect(boris.locator(".errornote")).to_be_visible()
    expect(boris.locator(".errorlist.nonfield")).to_contain_text(
        "This review was changed by someone else since you opened it"
    )
    expect(boris.locator("#id_critique")).to_have_value(boris_text)
    review.refresh_from_db()
    assert review.critique == "Anna's critique, saved first."

    # Reloading shows Anna's text, and then Boris can save over it knowingly.
    boris.goto(change_url)
    expect(boris.locator("#id_critique")).to_have_value("Anna's critique, saved first.")
    boris.locator("#id_critique").fill(boris_text)
    assert save(boris) == 302
    expect(boris.locator(".messagelist .success")).to_contain_text("was changed successfully")
    review.refresh_from_db()
    assert review.critique == boris_text


# --- 4. bad input --------------------------------------------------------------------------


def test_a_poster_that_is_not_an_image_is_refused_with_a_form_error(editor, tmp_path):
    film = make_film("The Cranes Are Flying", year=1957, runtime=97)
    not_an_image = tmp_path / "poster.jpg"
    not_an_image.write_text("This is a text file with a .jpg name.\n")
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")

    page.locator("#id_poster").set_input_files(str(not_an_image))
    page.locator("#id_runtime").fill("96")
    assert save(page) == 200  # the form again, not a 500

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-poster .errorlist")).to_contain_text(
        "“poster.jpg” is not a JPEG, PNG"
    )
    film.refresh_from_db()
    assert not film.poster and film.runtime == 97


def test_a_duplicate_credit_row_is_refused_with_an_inline_error(editor):
    film = make_film("The Cranes Are Flying", year=1957, directors=["Mikhail Kalatozov"])
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")
    expect(page.locator("#id_credits-0-person + .select2")).to_contain_text("Mikhail Kalatozov")

    choose(page, "id_credits-1-person", "Kalatozov", "Mikhail Kalatozov")
    page.locator("#id_credits-1-role").select_option(label="Director")
    assert save(page) == 200

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#credits-group .row-form-errors")).to_have_text(
        "Credit with this Film, Person, Role and Character already exists."
    )
    assert film.credits.count() == 1


def test_a_save_while_the_browser_makes_other_requests_is_saved_not_a_503(editor):
    """The live server once answered an admin save with the 503 page, "database table is
    locked", when another request overlapped it (tests/browser/conftest.py)."""
    film = make_film("The Cranes Are Flying", year=1957, directors=["Mikhail Kalatozov"])
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")
    page.locator("#id_runtime").fill("97")

    # Other requests at the same moment: other tabs, a page's late fetches.
    page.evaluate("() => { for (let i = 0; i < 40; i++) fetch('/admin/films/film/?q=' + i); }")
    assert save(page) == 302

    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    film.refresh_from_db()
    assert film.runtime == 97


def test_two_identical_new_credit_rows_are_refused_with_an_inline_error(editor):
    film = make_film("The Cranes Are Flying", year=1957)
    make_person("Tatiana Samoilova")
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")
    page.get_by_role("button", name="Add another Credit").click()
    for row in (0, 1):
        choose(page, f"id_credits-{row}-person", "Samoilova", "Tatiana Samoilova")
        page.locator(f"#id_credits-{row}-role").select_option(label="Actor")
        page.locator(f"#id_credits-{row}-character").fill("Veronika")

    assert save(page) == 200

    credits = page.locator("#credits-group")
    expect(credits.locator(".errorlist.nonform")).to_have_text(
        "Please correct the duplicate data for person, role and character, which must be unique."
    )
    # The editor's rows are still there to fix.
    expect(page.locator("#id_credits-1-character")).to_have_value("Veronika")
    assert not film.credits.exists()


# --- 5. accessibility ----------------------------------------------------------------------

# What axe flags in markup Django's admin renders and this project's templates do not control:
# TabularInline cells have no <label> (the column heading is not associated with the inputs),
# an empty select2 autocomplete's combobox and search box have no accessible name, and Django
# renders a file input inside a <fieldset> whose <legend> names the group, not the input.
DJANGO_WIDGET_RULES = {"label", "label-title-only", "select-name", "aria-input-field-name"}
IN_DJANGO_WIDGET = """targets => targets.map(target => {
    const el = document.querySelector(target);
    return el !== null && (el.closest('.inline-group .tabular, .select2-container') !== null
        || el.matches('input[type=file]'));
})"""


def problems_outside_django_widgets(page, axe):
    """axe's serious and critical findings, less those in the Django widgets listed above."""
    found = [
        (violation, node)
        for violation in axe(impacts={"serious", "critical"})
        for node in violation["nodes"]
    ]
    targets = [node["target"][-1] for _, node in found]
    in_widget = page.evaluate(IN_DJANGO_WIDGET, targets)
    return [
        f"{violation['impact']}: {violation['id']} at {node['target']}"
        for (violation, node), known in zip(found, in_widget, strict=True)
        if not (known and violation["id"] in DJANGO_WIDGET_RULES and len(node["target"]) == 1)
    ]


def test_admin_pages_an_editor_uses_have_no_serious_accessibility_problems(
    page, axe, assert_accessible
):
    film = make_film("The Cranes Are Flying", year=1957, directors=["Mikhail Kalatozov"])
    review = make_review(film)
    make_user("editor", superuser=True)

    page.goto("/admin/login/")
    assert_accessible()
    log_in(page, "editor")
    for url in (
        "/admin/",
        "/admin/films/film/",
        "/admin/reviews/review/",
        f"/admin/reviews/review/{review.pk}/change/",
        "/admin/reviews/review/import/",
    ):
        page.goto(url)
        expect(page.locator("#content h1")).to_be_visible()
        assert_accessible()

    # Forms with inlines or an empty autocomplete: everything but Django's own widgets.
    for url in (
        "/admin/films/film/add/",
        f"/admin/films/film/{film.pk}/change/",
        "/admin/reviews/review/add/",
    ):
        page.goto(url)
        expect(page.locator("#content h1")).to_be_visible()
        problems = problems_outside_django_widgets(page, axe)
        assert not problems, f"axe found on {url}:\n" + "\n".join(problems)


# --- 6. pictures ---------------------------------------------------------------------------


def with_poster(film, *, size=(300, 150), focal=(50, 50)):
    """The film with a wide poster (so the 2:3 crop outline is narrower than the image)."""
    image = Image.new("RGB", size, "red")
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, "PNG")
    film.poster_alt = f"Poster for {film}"
    film.poster_focal_x, film.poster_focal_y = focal
    film.poster.save("poster.png", ContentFile(out.getvalue()), save=True)
    return film


def crop_outline(page):
    rect = page.locator(".field-poster .picture-preview__crop")
    return {name: float(rect.get_attribute(name)) for name in ("x", "y", "width", "height")}


def test_clicking_the_poster_preview_sets_the_focal_point_and_moves_the_crop(editor):
    film = with_poster(make_film("The Cranes Are Flying", year=1957))
    key = film.poster_renditions["key"]
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")
    preview = page.get_by_role("img", name="Current poster: Poster for The Cranes Are Flying")
    expect(preview).to_be_visible()
    # A 2:3 crop of a 2:1 image is a third of its width, centred to begin with.
    assert crop_outline(page) == {"x": 33.33, "y": 0.0, "width": 33.33, "height": 100.0}

    box = preview.bounding_box()
    preview.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.25})

    expect(page.locator("#id_poster_focal_x")).to_have_value("90")
    expect(page.locator("#id_poster_focal_y")).to_have_value("25")
    outline = crop_outline(page)
    assert round(outline["x"]) == 67 and round(outline["width"]) == 33  # at the right edge

    # Typing the focal point moves the outline too.
    page.locator("#id_poster_focal_x").fill("0")
    expect(page.locator(".field-poster .picture-preview__crop")).to_have_attribute("x", "0.00")
    page.locator("#id_poster_focal_x").fill("90")

    assert save(page, "Save and continue editing") == 302
    film.refresh_from_db()
    assert (film.poster_focal_x, film.poster_focal_y) == (90, 25)
    assert film.poster_renditions["key"] != key
    # The form shows the saved focal point's crop without any click.
    assert round(crop_outline(page)["x"]) == 67


def test_choosing_a_poster_fills_an_empty_alt_text_with_the_suggestion(editor, tmp_path):
    film = make_film("Ночи Кабирии", year=1957)
    poster = tmp_path / "poster.png"
    Image.new("RGB", (20, 30), "red").save(poster)
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")
    expect(page.locator("#id_poster_alt")).to_have_value("")

    page.locator("#id_poster").set_input_files(str(poster))

    expect(page.locator("#id_poster_alt")).to_have_value("Poster for Ночи Кабирии (1957)")
    assert save(page) == 302
    film.refresh_from_db()
    assert film.poster and film.poster_alt == "Poster for Ночи Кабирии (1957)"


def test_a_still_added_in_the_inline_gets_its_alt_text_suggestion_and_is_saved(editor, tmp_path):
    film = make_film("Летят журавли", year=1957)
    still = tmp_path / "still.png"
    Image.new("RGB", (64, 36), "grey").save(still)
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")

    page.get_by_role("button", name="Add another Still").click()
    page.locator("#id_stills-0-image").set_input_files(str(still))

    expect(page.locator("#id_stills-0-alt_text")).to_have_value("A still from Летят журавли (1957)")
    page.locator("#id_stills-0-caption").fill("Veronika on the stairs")
    assert save(page) == 302
    saved = film.stills.get()
    assert (saved.alt_text, saved.caption) == (
        "A still from Летят журавли (1957)",
        "Veronika on the stairs",
    )
    assert saved.picture.has("still")


def test_the_film_form_with_a_poster_and_a_still_has_no_serious_accessibility_problems(editor, axe):
    film = with_poster(make_film("The Cranes Are Flying", year=1957))
    still = Still(film=film, alt_text="Veronika on the stairs", caption="«Журавли»")
    still.image.save("still.png", ContentFile(film.poster.read()), save=True)
    page = editor
    page.goto(f"/admin/films/film/{film.pk}/change/")
    expect(page.locator(".field-poster .picture-preview__image")).to_be_visible()
    expect(page.locator("#stills-group .picture-preview__image")).to_be_visible()

    problems = problems_outside_django_widgets(page, axe)
    assert not problems, "axe found:\n" + "\n".join(problems)
