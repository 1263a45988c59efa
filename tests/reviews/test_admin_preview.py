"""Previews in the admin: the "Preview on site" button, and sharing and revoking preview links
(editors only)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from reviews.models import PreviewLink
from reviews.preview import preview_link_create
from tests.factories import make_editor, make_review, make_user, make_writer
from tests.reviews.test_preview import NON_PUBLIC_STATES, clock, in_state  # noqa: F401

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:reviews_previewlink_add")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor():
    return logged_in(make_editor("editor"))


def change_url(review):
    return reverse("admin:reviews_review_change", args=[review.pk])


def revoke_url(link):
    return reverse("admin:reviews_previewlink_revoke", args=[link.pk])


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- The review's change page -------------------------------------------------------------


@pytest.mark.parametrize("state", NON_PUBLIC_STATES)
def test_an_editor_can_preview_a_review_that_is_not_public_from_its_page(editor, state):
    review = in_state(state)

    html = editor.get(change_url(review)).text

    assert f'<a href="{review.get_absolute_url()}" class="viewsitelink">Preview on site</a>' in html
    assert "View on site" not in html
    assert f'href="{ADD_URL}?review={review.pk}"' in html
    assert "Share a preview link" in html


def test_a_live_review_has_view_on_site_and_no_preview_button(editor):
    review = make_review()

    html = editor.get(change_url(review)).text

    assert "View on site" in html
    assert "Preview on site" not in html


def test_a_writer_previews_their_own_draft_but_shares_no_links():
    writer = make_writer("writer")
    review = in_state("draft", author=writer)

    html = logged_in(writer).get(change_url(review)).text

    assert "Preview on site" in html
    assert "Preview links" not in html
    assert "Share a preview link" not in html


def test_a_writer_gets_no_preview_button_on_another_writers_draft():
    review = in_state("draft", author=make_writer("author"))

    response = logged_in(make_writer("other")).get(change_url(review), follow=True)

    assert "Preview on site" not in response.text


def test_the_change_page_lists_the_live_links_with_their_address(editor):
    review = in_state("draft")
    live = preview_link_create(review=review, by=make_editor("other"), days=2)
    revoked = preview_link_create(review=review, by=make_editor("third"), days=2)
    revoked.revoked_at = revoked.created_at
    revoked.save()

    html = editor.get(change_url(review)).text

    assert f'value="http://testserver/preview/{live.token}/"' in html
    assert f'href="{revoke_url(live)}"' in html
    assert revoked.token not in html
    # The copy button is a static script: the CSP allows no inline ones.
    assert re.search(r'<script src="[^"]*filmmag/admin/preview_links\.js"', html)


def test_saving_the_review_is_unchanged_by_the_links_section(editor):
    review = in_state("draft", headline="Old headline")
    preview_link_create(review=review, by=make_editor("other"))
    page = editor.get(change_url(review))
    version = re.search(r'name="loaded_version" value="(\d+)"', page.text).group(1)

    response = editor.post(
        change_url(review),
        {
            "film": review.film_id,
            "headline": "New headline",
            "slug": review.slug,
            "byline": "",
            "author": "",
            "rating": "",
            "synopsis": "",
            "critique": "",
            "criticisms": "",
            "conclusion": "",
            "status": "draft",
            "published_at_0": "",
            "published_at_1": "",
            "keywords": "",
            "loaded_version": version,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    review.refresh_from_db()
    assert review.headline == "New headline"
    assert PreviewLink.objects.filter(review=review).count() == 1


# --- Sharing a link -----------------------------------------------------------------------


def test_the_share_page_starts_with_the_review_and_the_longest_time(editor, settings):
    settings.FILMMAG_PREVIEW_LINK_DAYS = 5
    review = in_state("draft", headline="Grief in flight")

    response = editor.get(f"{ADD_URL}?review={review.pk}")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["review"] == str(review.pk)
    assert form["days"].value() == 5
    assert 'max="5"' in response.text
    assert "At most 5 days." in response.text


def test_an_editor_shares_a_link_and_finds_it_on_the_review_page(clock, editor):  # noqa: F811
    review = in_state("draft", headline="Grief in flight")

    response = editor.post(ADD_URL, {"review": review.pk, "days": "3"}, follow=True)

    link = PreviewLink.objects.get()
    assert (link.review, link.created_by.username) == (review, "editor")
    assert link.expires_at == clock.now + timedelta(days=3)
    assert response.redirect_chain == [(change_url(review) + "#preview-links", 302)]
    url = f"http://testserver/preview/{link.token}/"
    assert messages_of(response) == [
        f"Preview link for “Grief in flight”, working until 4 June 2030, 12:00 (UTC): {url}"
    ]
    assert f'value="{url}"' in response.text
    assert Client().get(url).status_code == 200


@pytest.mark.parametrize(("days", "error"), [("8", "less than or equal to 7"), ("0", "greater")])
def test_a_link_cannot_last_longer_than_the_setting_nor_less_than_a_day(editor, days, error):
    review = in_state("draft")

    response = editor.post(ADD_URL, {"review": review.pk, "days": days})

    assert response.status_code == 200
    assert error in str(response.context["adminform"].form.errors["days"])
    assert not PreviewLink.objects.exists()


def test_a_live_review_needs_no_preview_link(editor):
    review = make_review()

    response = editor.post(ADD_URL, {"review": review.pk, "days": "3"})

    assert response.status_code == 200
    assert "already live" in str(response.context["adminform"].form.errors["review"])
    assert not PreviewLink.objects.exists()


# --- Revoking a link ------------------------------------------------------------------------


def test_an_editor_revokes_a_link_after_confirming(editor):
    review = in_state("draft", headline="Grief in flight")
    link = preview_link_create(review=review, by=make_editor("other"))

    confirm = editor.get(revoke_url(link))
    assert confirm.status_code == 200
    assert f"http://testserver/preview/{link.token}/" in confirm.text
    assert "Revoke the link" in confirm.text
    link.refresh_from_db()
    assert link.revoked_at is None  # a GET changes nothing

    response = editor.post(revoke_url(link), follow=True)

    assert response.redirect_chain == [(change_url(review) + "#preview-links", 302)]
    assert messages_of(response) == ["The preview link for “Grief in flight” no longer works."]
    link.refresh_from_db()
    assert link.revoked_by.username == "editor"
    assert link.token not in response.text
    assert Client().get(link.get_absolute_url()).status_code == 410


def test_the_revoke_page_of_a_revoked_link_says_so(editor):
    link = preview_link_create(review=in_state("draft"), by=make_editor("other"))
    editor.post(revoke_url(link))

    html = editor.get(revoke_url(link)).text

    assert "This preview link was revoked on" in html
    assert "Revoke the link" not in html


def test_revoking_an_unknown_link_is_a_404(editor):
    assert editor.get(reverse("admin:reviews_previewlink_revoke", args=[999])).status_code == 404
    # Not a link's number: the admin's own answer to a wrong address, not an error.
    assert editor.post("/admin/reviews/previewlink/x/revoke/").status_code == 302


# --- Only editors -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["writer", "staff without permissions"])
def test_only_editors_share_list_and_revoke_links_even_by_forged_posts(who):
    review = in_state("draft", author=make_writer("author"))
    link = preview_link_create(review=review, by=make_editor("other"))
    user = make_writer("writer") if who == "writer" else make_user("staff", staff=True)
    client = logged_in(user)

    assert client.get(f"{ADD_URL}?review={review.pk}").status_code == 403
    assert client.post(ADD_URL, {"review": review.pk, "days": "3"}).status_code == 403
    assert client.get(revoke_url(link)).status_code == 403
    assert client.post(revoke_url(link)).status_code == 403
    changelist = reverse("admin:reviews_previewlink_changelist")
    assert client.get(changelist).status_code == 403
    assert "Preview links" not in client.get(reverse("admin:index")).text

    assert PreviewLink.objects.count() == 1
    link.refresh_from_db()
    assert link.revoked_at is None


def test_nobody_edits_a_link(editor):
    link = preview_link_create(review=in_state("draft"), by=make_editor("other"))
    url = reverse("admin:reviews_previewlink_change", args=[link.pk])
    far = datetime(2099, 1, 1, tzinfo=UTC)

    response = editor.get(url)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    editor.post(url, {"review": link.review_id, "expires_at_0": "2099-01-01", "days": "9"})

    link.refresh_from_db()
    assert link.expires_at < far


def test_the_links_list_filters_by_state(editor):
    review = in_state("draft")
    live = preview_link_create(review=review, by=make_editor("other"))
    revoked = preview_link_create(review=review, by=make_editor("third"))
    revoked.revoked_at = revoked.created_at
    revoked.save()
    changelist = reverse("admin:reviews_previewlink_changelist")

    for state, expected in [("live", [live]), ("revoked", [revoked]), ("expired", [])]:
        response = editor.get(changelist, {"state": state})
        assert list(response.context["cl"].result_list) == expected, state


def test_an_editor_deletes_a_review_with_its_links(editor):
    review = in_state("draft")
    preview_link_create(review=review, by=make_editor("other"))
    delete_url = reverse("admin:reviews_review_delete", args=[review.pk])

    assert not editor.get(delete_url).context["perms_lacking"]
    editor.post(delete_url, {"post": "yes"})

    assert not PreviewLink.objects.exists()
