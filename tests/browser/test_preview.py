"""An editor previews a draft from the admin, shares a preview link, and an outside
contributor (no account) reads the draft with it, until the editor revokes it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_admin_editing import log_in
from tests.factories import make_film, make_review, make_user

pytestmark = pytest.mark.browser


def test_editor_previews_a_draft_and_shares_a_link_a_contributor_can_read(
    page, new_context, assert_accessible
):
    film = make_film("The Cranes Are Flying", year=1957, directors=["Mikhail Kalatozov"])
    draft = make_review(
        film, published=False, headline="Grief in flight", critique="Urusevsky's camera soars."
    )
    make_user("editor", superuser=True)
    change_page = f"/admin/reviews/review/{draft.pk}/change/"
    log_in(page, "editor", change_page)

    # The editor previews the draft on the site: the public page, with the banner.
    page.get_by_role("link", name="Preview on site").click()
    expect(page).to_have_url(re.compile(re.escape(draft.get_absolute_url()) + "$"))
    banner = page.get_by_role("complementary", name="Preview")
    expect(banner).to_contain_text("Preview — not published. State: Draft.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Grief in flight")
    expect(page.locator('meta[name="robots"]')).to_have_attribute("content", "noindex")
    assert_accessible()

    # The editor shares a link for two days; the review's page lists it.
    page.goto(change_page)
    page.get_by_role("link", name="Share a preview link").click()
    page.get_by_label("Days").fill("2")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Preview link for “Grief in flight”")
    url = page.get_by_label("Preview link 1").input_value()
    assert re.fullmatch(r"http://[^/]+/preview/[A-Za-z0-9_-]{43}/", url)

    # A contributor without an account reads the draft with it.
    contributor = new_context().new_page()
    contributor.goto(url)
    expect(contributor.get_by_role("complementary", name="Preview")).to_contain_text(
        "This preview link works until"
    )
    expect(contributor.get_by_text("Urusevsky's camera soars.")).to_be_visible()

    # The editor revokes it; the contributor's next visit says so.
    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke the link").click()
    expect(page.locator(".messagelist")).to_contain_text("no longer works")
    contributor.reload()
    expect(contributor.get_by_role("heading", level=1)).to_have_text(
        "This preview link was withdrawn"
    )
    expect(contributor.get_by_text("Grief in flight")).to_have_count(0)
