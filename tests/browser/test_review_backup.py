"""Nothing typed is lost: the review form keeps a copy in the browser's localStorage and offers
it back after a closed tab or a refused save; a successful save removes it. All of it under
the site's Content Security Policy, with no violation and no script error."""

import json
import re

import pytest
from django.db.models import F
from playwright.sync_api import expect

from reviews.models import Review
from tests.browser.test_admin_editing import choose, log_in, problems_outside_django_widgets, save
from tests.factories import make_film, make_review, make_user

pytestmark = pytest.mark.browser

PREFIX = "filmmag:review-backup:"
CRITIQUE = "Urusevsky's camera runs, climbs and spins with her grief.\n\nA second paragraph."

COPIES = f"""() => Object.keys(localStorage)
    .filter(key => key.startsWith("{PREFIX}") && !key.endsWith(":submitted"))
    .sort()
    .map(key => [key, JSON.parse(localStorage.getItem(key))])"""

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def copies(page) -> dict:
    """The copies kept in this browser: {key: copy}, once the page's scripts have run (the
    success message is in the HTML before the script that removes a saved copy has run)."""
    page.wait_for_load_state("load")
    return dict(page.evaluate(COPIES))


def wait_for_copy(page, review, text):
    """Until the debounced write has kept ``text`` in the review's copy."""
    page.wait_for_function(
        """([prefix, text]) => Object.keys(localStorage).some(
            key => key.startsWith(prefix) && localStorage.getItem(key).includes(text))""",
        arg=[f"{PREFIX}{review}:v", json.dumps(text)[1:-1]],
    )


def reopen(page, url):
    """Close the tab and open the form again in a new one (same browser profile)."""
    context = page.context
    page.close()
    page = context.new_page()
    response = page.goto(url)
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    return page


@pytest.fixture
def problems(context):
    """Every CSP violation and script error in any tab of the test; must stay empty."""
    found = []
    context.add_init_script(WATCH_CSP)

    def console(message):
        # The admin links no icon, so Chromium's own request for /favicon.ico is a 404.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            found.append(f"{message.text} at {message.location['url']}")

    context.on("console", console)
    context.on("weberror", lambda error: found.append(str(error.error)))
    context.on(
        "response",
        lambda response: (
            found.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    return found


@pytest.fixture
def writer(page, problems):
    make_user("writer", superuser=True)
    return log_in(page, "writer")


@pytest.fixture
def cranes():
    return make_film("The Cranes Are Flying", year=1957)


def assert_no_csp_violations(page, problems):
    assert page.evaluate("window.__cspViolations") == []
    assert problems == []


def test_a_new_review_typed_then_closed_is_offered_back_and_restored(writer, cranes, problems):
    page = writer
    page.goto("/admin/reviews/review/add/")
    choose(page, "id_film", "Cranes", "The Cranes Are Flying (1957)")
    page.locator("#id_headline").fill("Love and war in one breathless take")
    page.locator("#id_rating").select_option(label="4.5 / 5")
    page.locator("#id_critique").fill(CRITIQUE)
    page.locator("#id_keywords").fill("soviet cinema, war")
    wait_for_copy(page, "new", "soviet cinema, war")

    page = reopen(page, "/admin/reviews/review/add/")

    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("This browser kept text you typed that was not saved.")
    expect(notice).to_contain_text(re.compile(r"in: Film, Headline, Slug, Rating, Critique, Tags"))
    # Nothing is put in the form until the writer asks.
    expect(page.locator("#id_critique")).to_have_value("")
    expect(page.locator("#id_headline")).to_have_value("")

    notice.get_by_role("button", name="Restore my unsaved text").click()

    expect(page.locator("#id_headline")).to_have_value("Love and war in one breathless take")
    expect(page.locator("#id_critique")).to_have_value(CRITIQUE)
    expect(page.locator("#id_keywords")).to_have_value("soviet cinema, war")
    expect(page.locator("#id_rating")).to_have_value("4.5")
    expect(page.locator("#id_film + .select2")).to_contain_text("The Cranes Are Flying (1957)")
    expect(page.get_by_role("status")).to_contain_text("Your unsaved text is back in: Film,")
    expect(page.get_by_role("alert")).to_have_count(0)

    assert save(page) == 302
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    review = Review.objects.get()
    # Browsers submit a textarea's line breaks as CRLF.
    assert (review.film, review.critique.replace("\r\n", "\n")) == (cranes, CRITIQUE)
    assert sorted(review.keywords.names()) == ["soviet cinema", "war"]
    assert copies(page) == {}  # saved: the copy is gone
    page.goto("/admin/reviews/review/add/")
    expect(page.locator("#id_headline")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert_no_csp_violations(page, problems)


def test_a_conflicting_save_keeps_the_copy_and_a_reload_offers_it_back(writer, problems):
    review = make_review(headline="Love and war", critique="The first draft of the critique.")
    change_url = f"/admin/reviews/review/{review.pk}/change/"
    page = writer
    page.goto(change_url)
    mine = "My critique, typed while someone else was saving."
    page.locator("#id_critique").fill(mine)
    # Meanwhile another editor saves the review (a new version).
    Review.objects.filter(pk=review.pk).update(
        critique="Their critique, saved first.", version=F("version") + 1
    )

    assert save(page) == 200

    expect(page.locator(".errorlist.nonfield")).to_contain_text("changed by someone else")
    expect(page.get_by_role("status")).to_contain_text("Your text is also kept in this browser")
    expect(page.get_by_role("alert")).to_have_count(0)  # the text is on the page already
    [copy] = copies(page).values()
    assert copy["fields"]["critique"] == {"value": mine}

    page.goto(change_url)  # "Reload the page to see their changes"

    expect(page.locator("#id_critique")).to_have_value("Their critique, saved first.")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("in: Critique.")
    expect(notice).to_contain_text("The review has been saved since then")
    notice.get_by_role("button", name="Restore my unsaved text").click()
    expect(page.locator("#id_critique")).to_have_value(mine)

    assert save(page) == 302
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    review.refresh_from_db()
    assert review.critique == mine
    assert copies(page) == {}
    assert_no_csp_violations(page, problems)


def test_an_invalid_save_keeps_the_copy_until_the_fixed_save_succeeds(writer, problems):
    review = make_review(headline="Love and war")
    change_url = f"/admin/reviews/review/{review.pk}/change/"
    page = writer
    page.goto(change_url)
    page.locator("#id_headline").fill("")
    page.locator("#id_critique").fill("Kept while the headline is missing.")

    assert save(page) == 200

    expect(page.locator(".field-headline .errorlist")).to_contain_text("This field is required")
    assert len(copies(page)) == 1
    page.locator("#id_headline").fill("Grief in flight")

    assert save(page, "Save and continue editing") == 302

    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert copies(page) == {}
    expect(page.get_by_role("alert")).to_have_count(0)
    assert_no_csp_violations(page, problems)


def test_the_notice_works_from_the_keyboard_and_discard_keeps_the_saved_text(writer, problems, axe):
    review = make_review(critique="The saved critique.")
    change_url = f"/admin/reviews/review/{review.pk}/change/"
    page = writer
    tab = page.context.new_page()
    tab.goto(change_url)
    tab.locator("#id_critique").fill("Second thoughts, never saved.")
    wait_for_copy(tab, review.pk, "Second thoughts")
    tab.close()

    page.goto(change_url)

    notice = page.get_by_role("alert")
    expect(notice).to_be_visible()
    assert "saved since" not in notice.inner_text()  # same version: nobody saved meanwhile
    assert problems_outside_django_widgets(page, axe) == []
    notice.get_by_role("button", name="Restore my unsaved text").focus()
    page.keyboard.press("Tab")
    expect(notice.get_by_role("button", name="Discard")).to_be_focused()
    page.keyboard.press("Enter")

    status = page.get_by_role("status")
    expect(status).to_have_text("The kept text was discarded.")
    expect(status).to_be_focused()  # focus is not lost with the removed buttons
    expect(page.locator("#id_critique")).to_have_value("The saved critique.")
    assert copies(page) == {}

    page.reload()
    expect(page.locator("#id_critique")).to_have_value("The saved critique.")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert_no_csp_violations(page, problems)


def test_the_copy_holds_the_text_fields_and_never_the_csrf_token_or_the_publishing_state(
    writer, problems
):
    review = make_review(critique="Saved.")
    page = writer
    page.goto(f"/admin/reviews/review/{review.pk}/change/")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    page.locator("#id_conclusion").fill("One of the great films about waiting.")
    wait_for_copy(page, review.pk, "great films about waiting")

    [(key, copy)] = copies(page).items()

    assert key == f"{PREFIX}{review.pk}:v{review.version}"
    assert token not in json.dumps(copy)
    assert set(copy["fields"]) >= {"headline", "synopsis", "critique", "criticisms", "keywords"}
    assert not set(copy["fields"]) & {
        "csrfmiddlewaretoken",
        "loaded_version",
        "status",
        "published_at_0",
        "published_at_1",
    }
    assert copy["fields"]["conclusion"] == {"value": "One of the great films about waiting."}
    assert_no_csp_violations(page, problems)


def test_a_review_too_long_to_keep_is_said_so_rather_than_dropped_silently(writer, problems):
    review = make_review()
    page = writer
    page.goto(f"/admin/reviews/review/{review.pk}/change/")

    page.locator("#id_critique").evaluate(
        """textarea => {
            textarea.value = "word ".repeat(250000);
            textarea.dispatchEvent(new Event("input", {bubbles: true}));
        }"""
    )

    expect(page.get_by_role("status")).to_contain_text("too long to keep a copy")
    assert copies(page) == {}
    assert_no_csp_violations(page, problems)


def test_text_typed_just_before_the_tab_is_closed_is_kept_too(writer, problems):
    review = make_review(critique="Saved.")
    change_url = f"/admin/reviews/review/{review.pk}/change/"
    page = writer
    tab = page.context.new_page()
    tab.goto(change_url)
    tab.locator("#id_critique").fill("The last words, typed as the tab closed.")
    tab.close()  # before the debounced write: the page's "pagehide" writes it

    page.goto(change_url)

    page.get_by_role("alert").get_by_role("button", name="Restore my unsaved text").click()
    expect(page.locator("#id_critique")).to_have_value("The last words, typed as the tab closed.")
    assert_no_csp_violations(page, problems)
