"""An editor imports a review document in the admin: upload, preview, confirm, land on it."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from films.models import Credit, Film
from reviews.models import Review
from tests.factories import make_user

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[2] / "reviews/demo/reviews/the-cranes-are-flying.txt"
PASSWORD = "a-test-password-123"


@pytest.fixture
def editor_page(page):
    make_user("editor", superuser=True)
    page.goto("/admin/login/?next=/admin/reviews/review/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/reviews/review/$"))
    return page


def test_editor_imports_a_review_document(editor_page):
    page = editor_page
    page.get_by_role("link", name="Import review document").click()

    page.get_by_label("Review document").set_input_files(str(FIXTURE))
    page.get_by_role("button", name="Preview").click()

    # The preview shows what was understood, and nothing is written yet.
    expect(page.get_by_text("The Cranes Are Flying").first).to_be_visible()
    expect(page.get_by_text("Mikhail Kalatozov").first).to_be_visible()
    expect(page.get_by_role("cell", name="Criterion Channel")).to_be_visible()
    assert not Film.objects.exists() and not Review.objects.exists()

    page.get_by_label("Tatiana Samoilova").check()
    page.get_by_label("Sergei Urusevsky").check()
    page.get_by_role("button", name="Import").click()

    review = Review.objects.get()
    expect(page).to_have_url(re.compile(rf"/admin/reviews/review/{review.pk}/change/$"))
    expect(page.locator(".messagelist")).to_contain_text("Imported")
    expect(page.get_by_label("Headline")).to_have_value("A Soviet Cinematic Masterpiece")
    assert review.status == Review.Status.DRAFT
    credits = {(c.person.name, c.role, c.character) for c in review.film.credits.all()}
    assert ("Tatiana Samoilova", Credit.Role.ACTOR, "Veronika") in credits
    assert ("Sergei Urusevsky", Credit.Role.CINEMATOGRAPHER, "") in credits
    assert not any(name == "Aleksey Batalov" for name, _, _ in credits)  # not ticked


def test_a_bad_document_is_refused_with_a_message(editor_page, tmp_path):
    page = editor_page
    page.goto("/admin/reviews/review/import/")
    binary = tmp_path / "poster.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    page.get_by_label("Review document").set_input_files(str(binary))
    page.get_by_role("button", name="Preview").click()

    expect(page.locator(".errorlist, .errornote").first).to_be_visible()
    expect(page.get_by_text("poster.txt").first).to_be_visible()
    assert not Film.objects.exists() and not Review.objects.exists()
