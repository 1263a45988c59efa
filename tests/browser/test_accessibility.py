"""Every kind of public page, checked by axe-core in a real browser."""

import pytest
from django.urls import reverse

from tests.factories import make_public_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def pages(live_server):
    return make_public_pages()


def test_public_pages_have_no_serious_accessibility_problems(page, pages, assert_accessible):
    for url in pages:
        page.goto(url)
        assert_accessible()


def test_film_list_is_usable_on_a_phone(page, pages, assert_accessible):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(reverse("films:film_list"))

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # The filters are a closed panel below the heading: opened, they are checked too.
    assert not page.get_by_role("button", name="Apply filters").is_visible()
    assert_accessible()
    page.locator("summary", has_text="Filters").click()
    assert page.get_by_role("button", name="Apply filters").is_visible()
    assert_accessible()
