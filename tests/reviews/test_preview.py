"""Previews: a review that is not public, on its real page, for its writer and editors only,
and shared preview links that expire and can be revoked."""

import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviews.models import PreviewLink, Review
from reviews.preview import can_preview, preview_link_create, preview_link_revoke
from tests.factories import (
    make_editor,
    make_film,
    make_review,
    make_review_in,
    make_user,
    make_writer,
)
from tests.page_meta import read_head
from tests.query_counting import count_queries
from tests.test_settings import load_settings, settings_value

pytestmark = pytest.mark.django_db

BANNER = "Preview — not published."
NOINDEX = '<meta name="robots" content="noindex">'


# --- People and states ------------------------------------------------------------------------

# Every state readers cannot see: Review.State but published (tests.factories.make_review_in
# brings a review there through the workflow).
NON_PUBLIC_STATES = [state for state in Review.State if state != Review.State.PUBLISHED]


def in_state(state, **overrides):
    return make_review_in(state, **overrides)


VIEWERS = {
    "anonymous": False,
    "another writer": False,
    "the review's writer": True,
    "editor": True,
    "superuser": True,
}


def client_for(viewer, author):
    client = Client()
    user = {
        "anonymous": lambda: None,
        "another writer": lambda: make_writer("other"),
        "the review's writer": lambda: author,
        "editor": make_editor,
        "superuser": lambda: make_user("chief", superuser=True),
    }[viewer]()
    if user is not None:
        client.force_login(user)
    return client


def assert_preview(response, *, shared=False):
    assert response.status_code == 200
    assert BANNER in response.text
    assert response.text.count(NOINDEX) == 1
    assert response["X-Robots-Tag"] == "noindex"
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}
    assert "Cookie" in response["Vary"]
    if shared:
        assert response["Referrer-Policy"] == "no-referrer"


def assert_public_page(response):
    assert response.status_code == 200
    assert BANNER not in response.text
    assert NOINDEX not in response.text
    assert "X-Robots-Tag" not in response
    assert "no-store" not in response.get("Cache-Control", "")


# --- Who sees a review before it is public ------------------------------------------------


@pytest.mark.parametrize("viewer", list(VIEWERS))
@pytest.mark.parametrize("state", NON_PUBLIC_STATES)
def test_only_the_writer_and_editors_see_a_review_that_is_not_public(state, viewer):
    author = make_writer("writer")
    review = in_state(state, headline="Grief in flight", author=author)
    client = client_for(viewer, author)

    response = client.get(review.get_absolute_url())

    if VIEWERS[viewer]:
        assert_preview(response)
        assert "<h1>Grief in flight</h1>" in response.text
    else:
        assert response.status_code == 404
        assert "Grief in flight" not in response.text


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_a_live_review_is_the_public_page_for_everyone(viewer):
    author = make_writer("writer")
    review = make_review(author=author)

    assert_public_page(client_for(viewer, author).get(review.get_absolute_url()))


def test_an_inactive_or_non_staff_editor_sees_no_preview():
    review = in_state("draft")
    inactive, not_staff = make_editor("gone"), make_editor("reader")
    inactive.is_active = False
    inactive.save()
    not_staff.is_staff = False
    not_staff.save()

    for user in (inactive, not_staff):
        client = Client()
        client.force_login(user)
        assert client.get(review.get_absolute_url()).status_code == 404, user
        assert not can_preview(user, review)


def test_a_writer_who_lost_staff_status_no_longer_sees_their_draft():
    writer = make_writer("writer")
    review = in_state("draft", author=writer)
    client = Client()
    client.force_login(writer)
    assert client.get(review.get_absolute_url()).status_code == 200

    writer.is_staff = False
    writer.save()

    assert client.get(review.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("state", NON_PUBLIC_STATES)
def test_the_banner_says_the_state(admin_client, state):
    html = admin_client.get(in_state(state).get_absolute_url()).text

    assert f"State: {Review.State(state).label}." in html
    assert ("Goes live on" in html) == (state == Review.State.SCHEDULED)


def test_a_scheduled_preview_says_when_it_goes_live_in_the_sites_time_zone(admin_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    review = make_review(
        status=Review.Status.PUBLISHED, published_at=datetime(2031, 3, 12, 8, 0, tzinfo=UTC)
    )

    html = admin_client.get(review.get_absolute_url()).text

    assert "State: Scheduled." in html
    assert "Goes live on" in html
    assert '<time datetime="2031-03-12T08:00:00+00:00">12 March 2031, 09:00</time>' in html
    assert "(Europe/Paris)" in html


def test_a_draft_without_a_time_previews_without_a_date(admin_client):
    review = in_state("draft", byline="Ines Marlowe", rating="4.0")

    response = admin_client.get(review.get_absolute_url())

    html = response.text
    assert "By Ines Marlowe" in html
    assert '<time datetime="">' not in html
    [data] = read_head(response).json_ld
    assert "datePublished" not in data  # the review's (its film's release date is there)


def test_a_preview_is_the_public_template_with_the_review_in_full(admin_client):
    film = make_film("The Cranes Are Flying", year=1957, directors=["Mikhail Kalatozov"])
    review = in_state(
        "draft",
        film=film,
        headline="Grief in flight",
        synopsis="Veronika waits.",
        critique="Urusevsky's camera soars.",
        keywords=["soviet cinema"],
    )

    response = admin_client.get(review.get_absolute_url())

    assert [t.name for t in response.templates][0] == "reviews/review_detail.html"
    html = response.text
    for text in ["Veronika waits.", "Urusevsky&#x27;s camera soars.", "Mikhail Kalatozov"]:
        assert text in html
    assert reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}) in html


def test_a_preview_leaves_the_public_404_in_place(admin_client, client):
    review = in_state("draft")
    assert admin_client.get(review.get_absolute_url()).status_code == 200

    assert client.get(review.get_absolute_url()).status_code == 404


def test_an_old_address_of_a_draft_redirects_its_previewers_only(admin_client, client):
    review = in_state("draft", slug="first-title")
    review.slug = "second-title"
    review.save()

    response = admin_client.get("/reviews/first-title/")

    assert response.status_code == 301
    assert response["Location"] == "/reviews/second-title/"
    assert client.get("/reviews/first-title/").status_code == 404


def test_the_preview_query_count_is_fixed(settings):
    # Sessions in the database alone: with Redis, the session comes from the cache instead.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    film = make_film("Vertigo", genres=["Thriller", "Mystery"], directors=["Alfred Hitchcock"])
    writer = make_writer("writer")
    review = in_state("draft", film=film, author=writer, keywords=["a", "b", "c"])
    # Session, user, the published page's miss, the user's and groups' permissions (none
    # for a superuser), then the review with its genres, directors, keywords and stills.
    expected = {writer: 10, make_editor(): 10, make_user("chief", superuser=True): 8}
    for user, queries in expected.items():
        client = Client()
        client.force_login(user)
        assert count_queries(client, review.get_absolute_url()) == queries, user


def test_a_draft_costs_anonymous_readers_no_more_queries_than_before(client):
    review = in_state("draft")

    with CaptureQueriesContext(connection) as queries:
        assert client.get(review.get_absolute_url()).status_code == 404
    # The published page's miss and the old-slug lookup; nobody is logged in, so no session.
    assert len(queries) == 2


# --- Shared preview links -----------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """Time stands still at a known moment until the test moves it: the site reads the time
    only through django.utils.timezone.now()."""

    class Clock:
        now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)

        def advance(self, **delta):
            self.now += timedelta(**delta)

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def share(review, *, days=None, by=None):
    return preview_link_create(review=review, by=by or make_editor(), days=days)


def test_a_preview_link_opens_the_review_for_anyone_who_has_it(client):
    review = in_state("draft", headline="Grief in flight")
    link = share(review, days=3)

    response = client.get(link.get_absolute_url())

    assert_preview(response, shared=True)
    assert "<h1>Grief in flight</h1>" in response.text
    assert "This preview link works until" in response.text
    assert re.fullmatch(r"/preview/[A-Za-z0-9_-]{43}/", link.get_absolute_url())


@pytest.mark.parametrize("state", NON_PUBLIC_STATES)
def test_a_preview_link_works_in_every_state_that_is_not_public(client, state):
    link = share(in_state(state))

    assert_preview(client.get(link.get_absolute_url()), shared=True)


def test_a_preview_link_lasts_the_chosen_number_of_days(client, clock):
    link = share(in_state("draft"), days=2)
    assert link.expires_at == datetime(2030, 6, 3, 12, 0, tzinfo=UTC)

    clock.advance(days=2, seconds=-1)
    assert client.get(link.get_absolute_url()).status_code == 200

    clock.advance(seconds=1)
    response = client.get(link.get_absolute_url())
    assert response.status_code == 410
    assert "This preview link has expired" in response.text
    assert "ask the editor who sent you the link for a new one" in response.text


def test_a_preview_link_lasts_the_set_number_of_days_by_default(clock, settings):
    settings.FILMMAG_PREVIEW_LINK_DAYS = 10

    link = share(in_state("draft"))

    assert link.expires_at - clock.now == timedelta(days=10)


@pytest.mark.parametrize("days", [0, -1, 8])
def test_a_preview_link_cannot_outlast_the_setting(days):
    with pytest.raises(ValueError, match="from 1 to 7 days"):
        share(in_state("draft"), days=days)
    assert not PreviewLink.objects.exists()


def test_a_revoked_link_stops_working_at_once(client):
    editor = make_editor()
    link = share(in_state("draft", headline="Grief in flight"), by=editor)
    assert client.get(link.get_absolute_url()).status_code == 200

    preview_link_revoke(link=link, by=editor)

    response = client.get(link.get_absolute_url())
    assert response.status_code == 410
    assert "This preview link was withdrawn" in response.text
    assert "Grief in flight" not in response.text


def test_revoking_twice_keeps_the_first_revocation(clock):
    first, second = make_editor("first"), make_editor("second")
    link = share(in_state("draft"), by=first)
    preview_link_revoke(link=link, by=first)
    revoked_at = link.revoked_at

    clock.advance(hours=1)
    preview_link_revoke(link=link, by=second)

    assert (link.revoked_at, link.revoked_by) == (revoked_at, first)


def test_revoking_one_link_leaves_the_others(client):
    review = in_state("draft")
    kept, revoked = share(review), share(review)

    preview_link_revoke(link=revoked, by=make_editor("other"))

    assert client.get(kept.get_absolute_url()).status_code == 200
    assert client.get(revoked.get_absolute_url()).status_code == 410


@pytest.mark.parametrize("token", ["x", "a" * 43, "a" * 200])
def test_a_wrong_token_is_the_sites_404(client, token):
    share(in_state("draft"))

    response = client.get(f"/preview/{token}/")

    assert response.status_code == 404
    assert "Page not found" in response.text


def test_a_token_is_matched_exactly(client):
    link = share(in_state("draft"))

    for wrong in [link.token.upper(), link.token[:-1], link.token + "a"]:
        if wrong != link.token:
            assert client.get(f"/preview/{wrong}/").status_code == 404


def test_a_link_to_a_review_now_live_leads_to_its_public_page(client, clock):
    review = in_state("scheduled")  # in three days
    link = share(review)
    assert client.get(link.get_absolute_url()).status_code == 200

    clock.advance(days=3)
    response = client.get(link.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"] == review.get_absolute_url()
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert_public_page(client.get(response["Location"]))


def test_expired_and_revoked_pages_are_private_too(client, clock):
    link = share(in_state("draft"), days=1)
    clock.advance(days=1)

    response = client.get(link.get_absolute_url())

    assert response.status_code == 410
    assert response.text.count(NOINDEX) == 1
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_only_editors_make_and_revoke_links():
    review = in_state("draft")
    link = share(review)
    for user in [make_writer("writer"), make_user("reader"), make_user("chief", superuser=True)]:
        if user.is_superuser:
            assert preview_link_create(review=review, by=user).pk
            continue
        with pytest.raises(PermissionDenied):
            preview_link_create(review=review, by=user)
        with pytest.raises(PermissionDenied):
            preview_link_revoke(link=link, by=user)
    link.refresh_from_db()
    assert link.revoked_at is None


def test_the_link_page_query_count_is_fixed(client):
    film = make_film("Vertigo", genres=["Thriller", "Mystery"], directors=["Alfred Hitchcock"])
    link = share(in_state("draft", film=film, keywords=["a", "b", "c"]))

    # The link, then the review with its genres, directors and keywords.
    assert count_queries(client, link.get_absolute_url()) == 6


def test_the_link_lifetime_is_set_by_environment():
    assert settings_value("s.FILMMAG_PREVIEW_LINK_DAYS") == "7"
    assert settings_value("s.FILMMAG_PREVIEW_LINK_DAYS", DJANGO_PREVIEW_LINK_DAYS="3") == "3"
    for wrong in ["0", "-2", "a week"]:
        result = load_settings(
            DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50, DJANGO_PREVIEW_LINK_DAYS=wrong
        )
        assert "DJANGO_PREVIEW_LINK_DAYS must be a whole number of days" in result.stderr


def test_preview_pages_are_valid_html(admin_client, client, tmp_path):
    from tests.test_html_validity import checker

    command = checker()
    scheduled = make_review(
        status=Review.Status.PUBLISHED,
        published_at=timezone.now() + timedelta(days=3),
        keywords=["soviet cinema"],
    )
    revoked = share(in_state("draft"))
    preview_link_revoke(link=revoked, by=make_editor())
    pages = {
        "draft preview": admin_client.get(in_state("draft").get_absolute_url()),
        "scheduled preview": admin_client.get(scheduled.get_absolute_url()),
        "shared link": client.get(share(in_state("draft", rating="3.5")).get_absolute_url()),
        "withdrawn link": client.get(revoked.get_absolute_url()),
    }
    files = {}
    for name, response in pages.items():
        assert response.status_code in (200, 410), name
        path = tmp_path / f"{name.replace(' ', '-')}.html"
        path.write_bytes(response.content)
        files[str(path)] = name

    result = subprocess.run([*command, *files], capture_output=True, text=True, timeout=300)

    report = result.stderr + result.stdout
    for path, name in files.items():
        report = report.replace(path, name)
    assert result.returncode == 0, f"invalid HTML:\n{report}"
