"""A review's life: the transition table, the record of every change with its note, the
constraints in the database, and the roles' groups."""

import re
from datetime import timedelta
from importlib import import_module
from types import SimpleNamespace
from unittest import mock

import pytest
from django import forms
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviews.models import Review, ReviewTransition, allow_state_writes
from reviews.roles import sync_groups
from reviews.workflow import (
    TRANSITIONS,
    TransitionRefused,
    review_create,
    review_publish,
    review_return_to_draft,
    review_schedule,
    review_send_back,
    review_set_expiry,
    review_submit,
    review_transition,
    review_unpublish,
    review_unschedule,
    reviews_publish,
)
from tests.factories import make_editor, make_film, make_review, make_review_in, make_writer

pytestmark = pytest.mark.django_db

State = Review.State


def stored(review):
    return Review.objects.values("status", "published_at", "version").get(pk=review.pk)


# Scheduled: published, with a time to come; public at that time with nothing to run


def test_a_scheduled_review_goes_live_at_its_time_without_any_write():
    at = timezone.now() + timedelta(hours=2)
    review = review_schedule(review=make_review(published=False), at=at)
    before = stored(review)

    with mock.patch("django.utils.timezone.now", return_value=at - timedelta(seconds=1)):
        assert review.state == State.SCHEDULED
        assert not Review.objects.published().filter(pk=review.pk).exists()
        assert Review.objects.in_state(State.SCHEDULED).get() == review
    with mock.patch("django.utils.timezone.now", return_value=at):
        assert review.state == State.PUBLISHED
        assert Review.objects.published().get() == review
        assert not Review.objects.in_state(State.SCHEDULED).exists()

    assert stored(review) == before
    assert review.transitions.count() == 1


def test_an_expired_review_leaves_the_site_at_its_expiry_and_says_so():
    review = make_review_in("published")
    expiry = timezone.now() + timedelta(hours=1)
    review_set_expiry(review=review, expires_at=expiry, by=make_editor("edith"))

    with mock.patch("django.utils.timezone.now", return_value=expiry):
        assert review.state == State.EXPIRED
        assert not review.is_public()
        assert Review.objects.in_state(State.EXPIRED).get() == review
    change = review.transitions.first()
    assert (change.action, change.from_state, change.to_state) == (
        "set_expiry",
        "published",
        "published",
    )
    assert change.expires_at == expiry


def test_the_published_state_is_exactly_what_readers_see():
    for state in State.values:
        make_review_in(state)

    published = set(Review.objects.published())
    assert set(Review.objects.in_state(State.PUBLISHED)) == published
    assert {review.state for review in published} == {State.PUBLISHED}


def test_publishing_an_expired_review_again_removes_its_expiry():
    review = make_review_in("expired")

    review_publish(review=review, at=timezone.now(), by=make_editor())

    assert (review.state, review.expires_at) == (State.PUBLISHED, None)
    assert review.is_public()
    assert review.transitions.first().expires_at is None


def test_only_editors_set_an_expiry():
    wendy = make_writer("wendy")
    review = make_review_in("draft", author=wendy)

    with pytest.raises(TransitionRefused, match="Only editors"):
        review_set_expiry(review=review, expires_at=timezone.now(), by=wendy)


# The table, move by move, each recorded


@pytest.mark.parametrize(
    ("start", "move", "end"),
    [
        ("draft", lambda r, by: review_submit(review=r, by=by, note="Ready."), "in_review"),
        ("sent_back", lambda r, by: review_submit(review=r, by=by, note="Fixed."), "in_review"),
        ("in_review", lambda r, by: review_send_back(review=r, by=by, note="Cut."), "sent_back"),
        (
            "in_review",
            lambda r, by: review_schedule(review=r, by=by, at=timezone.now() + timedelta(days=1)),
            "scheduled",
        ),
        ("in_review", lambda r, by: review_publish(review=r, by=by), "published"),
        (
            "scheduled",
            lambda r, by: review_publish(review=r, by=by, at=timezone.now()),
            "published",
        ),
        ("scheduled", lambda r, by: review_unschedule(review=r, by=by), "in_review"),
        ("published", lambda r, by: review_unpublish(review=r, by=by), "unpublished"),
        ("unpublished", lambda r, by: review_publish(review=r, by=by), "published"),
        ("published", lambda r, by: review_return_to_draft(review=r, by=by), "draft"),
    ],
)
def test_each_move_is_made_and_recorded_with_who_when_and_the_note(start, move, end):
    editor = make_editor("edith")
    review = make_review_in(start)
    version = review.version

    move(review, editor)

    review.refresh_from_db()
    assert review.state == end
    assert review.version == version + 1
    change = review.transitions.first()
    assert (change.from_state, change.to_state, change.by) == (start, end, editor)
    assert timezone.now() - change.at < timedelta(minutes=1)
    assert change.published_at == review.published_at


def test_the_table_lists_each_action_once_and_editors_may_take_every_one():
    actions = [transition.action for transition in TRANSITIONS]

    assert len(actions) == len(set(actions)) == len(ReviewTransition.Action)
    assert all("editor" in transition.who for transition in TRANSITIONS)
    assert {t.action for t in TRANSITIONS if "the review's writer" in t.who} == {"submit"}


def test_sending_back_needs_a_note_and_writes_nothing_without_one():
    review = make_review_in("in_review")
    before = stored(review)

    with pytest.raises(TransitionRefused, match="needs a note") as refused:
        review_send_back(review=review, note="  ", by=make_editor())

    assert refused.value.code == "note"
    assert stored(review) == before


def test_scheduling_needs_a_time_to_come():
    review = make_review_in("in_review")

    with pytest.raises(TransitionRefused, match="in the future"):
        review_schedule(review=review, at=timezone.now() - timedelta(minutes=1))
    assert review.transitions.filter(action="schedule").count() == 0


def test_publishing_at_a_future_time_is_recorded_as_scheduling():
    review = make_review_in("in_review")

    review_publish(review=review, at=timezone.now() + timedelta(days=1))

    assert review.transitions.first().action == "schedule"
    assert review.state == State.SCHEDULED


def test_a_move_the_state_does_not_allow_is_refused_with_the_reason():
    review = make_review_in("draft", headline="Vertigo, again")

    with pytest.raises(TransitionRefused, match="“Vertigo, again” is a draft, so it can't be"):
        review_unpublish(review=review, by=make_editor())


def test_a_writer_may_submit_their_own_review_but_not_anothers_or_set_its_time():
    wendy, oscar = make_writer("wendy"), make_writer("oscar")
    mine = make_review_in("draft", author=wendy)
    theirs = make_review_in("draft", author=oscar)

    review_submit(review=mine, by=wendy)
    with pytest.raises(TransitionRefused, match="Only the review's writer or an editor"):
        review_submit(review=theirs, by=wendy)
    with pytest.raises(TransitionRefused, match="Only editors set the publication"):
        review_transition(
            review=make_review_in("draft", author=wendy),
            status=Review.Status.IN_REVIEW,
            published_at=timezone.now() + timedelta(days=1),
            by=wendy,
        )
    with pytest.raises(TransitionRefused, match="Only editors can publish reviews"):
        review_publish(review=mine, by=wendy)
    assert mine.state == State.IN_REVIEW and theirs.state == State.DRAFT


def test_a_bulk_move_the_user_may_not_make_refuses_the_whole_batch():
    wendy = make_writer("wendy")
    reviews = [make_review_in("in_review", author=wendy) for _ in range(3)]

    with pytest.raises(TransitionRefused, match="Only editors"):
        reviews_publish(reviews=Review.objects.all(), by=wendy)

    assert {r.state for r in Review.objects.all()} == {State.IN_REVIEW}
    assert ReviewTransition.objects.filter(action="publish").count() == 0
    assert len(reviews) == 3


def test_unpublishing_keeps_the_publication_time_for_a_republication():
    review = make_review_in("published")
    published_at = review.published_at

    review_unpublish(review=review)
    assert not review.is_public()
    review_publish(review=review)

    assert (review.state, review.published_at) == (State.PUBLISHED, published_at)


def test_unscheduling_keeps_the_planned_time_for_the_next_publication():
    review = make_review_in("scheduled")
    planned = review.published_at

    review_unschedule(review=review)
    assert (review.state, review.published_at) == (State.IN_REVIEW, planned)
    reviews_publish(reviews=Review.objects.filter(pk=review.pk))

    review.refresh_from_db()
    assert (review.state, review.published_at) == (State.SCHEDULED, planned)


def test_a_writer_may_create_a_review_in_review_but_not_a_published_one():
    wendy = make_writer("wendy")
    film = make_film()

    review = review_create(
        review=Review(film=film, headline="A", status="in_review", author=wendy), by=wendy
    )
    assert review.transitions.get().action == "submit"
    with pytest.raises(TransitionRefused, match="Only editors"):
        review_create(review=Review(film=film, headline="B", status="published"), by=wendy)
    assert not Review.objects.filter(headline="B").exists()


# The database holds the states


@pytest.mark.parametrize(
    ("status", "published_at", "constraint"),
    [
        ("bogus", None, "review_status_known"),
        ("published", None, "review_published_states_have_time"),
        ("unpublished", None, "review_published_states_have_time"),
    ],
)
def test_the_database_refuses_a_state_that_does_not_exist(status, published_at, constraint):
    review = make_review(published=False)

    with pytest.raises(IntegrityError), transaction.atomic(), allow_state_writes():
        Review.objects.filter(pk=review.pk).update(status=status, published_at=published_at)

    with pytest.raises(Exception, match="status|publication time"):
        Review(film=review.film, headline="x", status=status).validate_constraints()
    assert constraint in {c.name for c in Review._meta.constraints}


@pytest.mark.parametrize("status", ["draft", "in_review", "sent_back"])
def test_before_publication_a_review_may_have_no_time(status):
    review = make_review(published=False)

    with allow_state_writes():
        Review.objects.filter(pk=review.pk).update(status=status, published_at=None)


def test_the_database_refuses_a_send_back_without_a_note():
    review = make_review_in("in_review")

    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewTransition.objects.create(
            review=review, action="send_back", from_state="in_review", to_state="sent_back"
        )


# The groups


ROLES = import_module("reviews.migrations.0007_roles").ROLES


def group_permissions(name):
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_migration_made_both_groups_with_exactly_their_permissions():
    assert group_permissions("Writers") == {
        "reviews.add_review",
        "reviews.change_review",
        "reviews.view_review",
        *(
            f"films.{action}_{model}"
            for model in ("film", "person", "streamingservice", "credit", "availability")
            for action in ("add", "view")
        ),
        "films.view_genre",
    }
    editors = group_permissions("Editors")
    assert {"reviews.publish_review", "reviews.delete_review", "films.delete_film"} <= editors
    assert {"taggit.change_tag", "taggit.delete_tag"} <= editors
    assert not any(p.startswith("auth.") for p in editors)


def test_syncing_the_groups_again_changes_nothing_and_undoes_changes_made_by_hand():
    editor = SimpleNamespace(connection=connection)
    before = {name: group_permissions(name) for name in ROLES}
    writers = Group.objects.get(name="Writers")
    writers.permissions.add(Permission.objects.get(codename="delete_film"))
    writers.permissions.remove(Permission.objects.get(codename="add_review"))

    sync_groups(django_apps, editor, ROLES)
    sync_groups(django_apps, editor, ROLES)

    assert {name: group_permissions(name) for name in ROLES} == before
    assert Group.objects.filter(name__in=ROLES).count() == 2


def test_a_role_naming_a_permission_that_does_not_exist_stops_the_sync():
    with pytest.raises(LookupError, match="reviews.fly_review"):
        sync_groups(
            django_apps, SimpleNamespace(connection=connection), {"Writers": ["reviews.fly_review"]}
        )


# The change form: notes, history, and what the buttons need


def change_url(review):
    return reverse("admin:reviews_review_change", args=[review.pk])


def post_form(client, review, **fields):
    page = client.get(change_url(review))
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.FileField):
            continue  # a browser sends nothing for an empty file input
        if name == "published_at":
            local = timezone.localtime(value) if value else None
            data["published_at_0"] = f"{local:%Y-%m-%d}" if local else ""
            data["published_at_1"] = f"{local:%H:%M:%S}" if local else ""
        elif name == "keywords":
            data[name] = ""
        else:
            data[name] = "" if value is None else value
    return client.post(change_url(review), data | fields)


def test_the_writer_reads_the_editors_note_on_their_review_and_on_the_dashboard(client):
    wendy, edith = make_writer("wendy"), make_editor("edith", first_name="Edith")
    review = make_review_in("in_review", author=wendy, headline="Grief in flight")
    client.force_login(edith)
    note = "The second half drags:\ncut the flashback."

    response = post_form(client, review, _workflow="send_back", workflow_note=note)

    assert response.status_code == 302
    client.force_login(wendy)
    page = client.get(change_url(review))
    assert "State: Sent back" in page.text
    callout = re.search(r'<div class="workflow-callout".*?</div>', page.text, re.S).group()
    assert "Sent back by Edith" in callout
    assert "The second half drags:<br>cut the flashback." in callout
    dashboard = client.get(reverse("admin:reviews_review_dashboard"))
    assert dashboard.context["sent_back_to_me"][0].note == note
    assert "cut the flashback." in dashboard.text


def test_the_history_lists_every_change_newest_first_with_who_and_note(client):
    wendy, edith = make_writer("wendy"), make_editor("edith")
    review = make_review_in("draft", author=wendy)
    review_submit(review=review, by=wendy, note="First go.")
    review_send_back(review=review, by=edith, note="Shorter, please.")
    review_submit(review=review, by=wendy, note="Cut by a third.")
    client.force_login(edith)

    response = client.get(change_url(review))

    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", response.text, re.S)
        if "<td>" in row
    ]
    assert [row.split(" ", 2)[2] for row in rows] == [
        "wendy Submit for review: sent back → in review Cut by a third.",
        "edith Send back to the writer: in review → sent back Shorter, please.",
        "wendy Submit for review: draft → in review First go.",
    ]


def test_a_note_without_a_change_of_state_is_refused_rather_than_lost(client):
    wendy = make_writer("wendy")
    review = make_review_in("draft", author=wendy)
    client.force_login(wendy)

    response = post_form(client, review, workflow_note="Is the ending clear?", critique="New.")

    assert response.status_code == 200
    assert "A note goes with a change of state" in response.text
    assert "Is the ending clear?</textarea>" in response.text
    assert Review.objects.get(pk=review.pk).critique != "New."


def test_schedule_with_a_past_time_is_refused_on_the_time_field(client):
    review = make_review_in("in_review")
    client.force_login(make_editor())
    past = timezone.localtime() - timedelta(days=1)

    response = post_form(
        client,
        review,
        _workflow="schedule",
        published_at_0=f"{past:%Y-%m-%d}",
        published_at_1=f"{past:%H:%M:%S}",
    )

    assert response.status_code == 200
    assert "in the future" in str(response.context["adminform"].form.errors["published_at"])
    assert Review.objects.get(pk=review.pk).state == State.IN_REVIEW


def test_scheduling_says_when_in_the_sites_time_zone(client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    review = make_review_in("in_review")
    client.force_login(make_editor())
    later = timezone.localtime() + timedelta(days=2)

    response = post_form(
        client,
        review,
        _workflow="schedule",
        published_at_0=f"{later:%Y-%m-%d}",
        published_at_1="09:30:00",
        critique="Edited and scheduled in one go.",
    )

    page = client.get(response["Location"])
    assert f"It goes live on {later:%Y-%m-%d} at 09:30 (Europe/Paris)." in page.text
    review.refresh_from_db()
    assert review.state == State.SCHEDULED
    assert review.critique == "Edited and scheduled in one go."
    assert timezone.localtime(review.published_at).strftime("%H:%M") == "09:30"


def test_a_writer_submitting_saves_their_text_with_it(client):
    wendy = make_writer("wendy")
    review = make_review_in("sent_back", author=wendy)
    client.force_login(wendy)

    response = post_form(client, review, _workflow="submit", critique="Tightened.")

    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.state, review.critique, review.version) == (State.IN_REVIEW, "Tightened.", 4)
    page = client.get(change_url(review))
    assert "“" + review.headline + "” was submitted for review." in page.text
    assert 'name="critique"' not in page.text  # now the editors'


def test_a_writer_adds_a_review_and_submits_it_in_one_go(client):
    wendy = make_writer("wendy")
    film = make_film("Vertigo")
    client.force_login(wendy)
    page = client.get(reverse("admin:reviews_review_add"))
    assert re.findall(r'name="_workflow" value="(\w+)"', page.text) == ["submit"]

    response = client.post(
        reverse("admin:reviews_review_add"),
        {
            "film": film.pk,
            "headline": "Falling",
            "slug": "falling",
            "critique": "Dizzying.",
            "keywords": "",
            "_workflow": "submit",
            "workflow_note": "My first for you.",
        },
    )

    assert response.status_code == 302
    review = Review.objects.get(slug="falling")
    assert (review.state, review.author) == (State.IN_REVIEW, wendy)
    assert review.transitions.get().note == "My first for you."


# The list: counts per state, filters by state, writer and film


def make_one_of_each(author=None):
    return {state: make_review_in(state, headline=state, author=author) for state in State.values}


def test_the_review_list_counts_reviews_in_each_state(client):
    make_one_of_each()
    make_review_in("draft")
    client.force_login(make_editor())

    response = client.get(reverse("admin:reviews_review_changelist"))

    counts = {c["value"]: c["count"] for c in response.context["state_counts"]}
    assert counts == {
        "draft": 2,
        "in_review": 1,
        "sent_back": 1,
        "scheduled": 1,
        "live": 1,
        "expired": 1,
        "unpublished": 1,
    }
    nav = re.search(r'<nav class="workflow-counts".*?</nav>', response.text, re.S).group()
    assert re.search(r'href="\?visibility=draft"[^>]*>Draft <span[^>]*>2</span>', nav)


def test_a_writers_counts_are_of_their_own_reviews(client):
    wendy = make_writer("wendy")
    make_one_of_each()
    make_review_in("draft", author=wendy)
    client.force_login(wendy)

    response = client.get(reverse("admin:reviews_review_changelist"))

    counts = {c["value"]: c["count"] for c in response.context["state_counts"]}
    assert counts["draft"] == 1 and sum(counts.values()) == 1


@pytest.mark.parametrize("state", [*State.values[:4], "live", "expired", "unpublished"])
def test_the_state_filter_lists_the_reviews_in_that_state(client, state):
    make_one_of_each()
    client.force_login(make_editor())

    response = client.get(reverse("admin:reviews_review_changelist"), {"visibility": state})

    expected = "published" if state == "live" else state
    assert [r.headline for r in response.context["cl"].result_list] == [expected]


def test_the_list_filters_by_writer_and_by_film(client):
    wendy = make_writer("wendy")
    vertigo = make_film("Vertigo")
    mine = make_review_in("draft", author=wendy, headline="Mine")
    on_vertigo = make_review_in("draft", film=vertigo, headline="On Vertigo")
    client.force_login(make_editor())
    url = reverse("admin:reviews_review_changelist")

    by_writer = client.get(url, {"author__id__exact": wendy.pk})
    by_film = client.get(url, {"film__id__exact": vertigo.pk})

    assert list(by_writer.context["cl"].result_list) == [mine]
    assert list(by_film.context["cl"].result_list) == [on_vertigo]
    assert "By writer" in by_writer.text and "By film" in by_film.text


def test_the_counts_take_one_query_whatever_the_number_of_reviews(client):
    client.force_login(make_editor())
    url = reverse("admin:reviews_review_changelist")

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        return len(queries)

    make_one_of_each()
    few = count()
    for state in State.values:
        for _ in range(4):
            make_review_in(state)

    assert count() == few


# The dashboard


DASHBOARD = reverse("admin:reviews_review_dashboard")


def test_the_admin_index_links_to_the_dashboard(client):
    client.force_login(make_writer())

    response = client.get(reverse("admin:index"))

    assert f'href="{DASHBOARD}"' in response.text


def test_the_dashboard_shows_each_section_and_the_time_zone(client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    edith = make_editor("edith")
    now = timezone.now()
    make_one_of_each()
    make_review_in("draft", author=edith, headline="Edith's draft")
    make_review_in("sent_back", author=edith, headline="Edith's returned piece")
    soon = [
        make_review_in("scheduled", headline=f"Soon {n}", published_at=now + timedelta(days=days))
        for n, days in enumerate([5, 5, 9])
    ]
    make_review_in("scheduled", headline="Far off", published_at=now + timedelta(weeks=8))
    make_review_in("published", headline="Last year", published_at=now - timedelta(days=365))
    client.force_login(edith)

    response = client.get(DASHBOARD)

    context = response.context
    assert "All times are in <strong>Europe/Paris</strong>" in response.text
    assert [r.headline for r in context["sent_back_to_me"]] == ["Edith's returned piece"]
    assert [r.headline for r in context["my_drafts"]] == ["Edith's draft"]
    assert [r.headline for r in context["waiting"]] == ["in_review"]
    days = [(day, [r.headline for r in reviews]) for day, reviews in context["scheduled_by_day"]]
    assert [names for _, names in days] == [["scheduled"], ["Soon 0", "Soon 1"], ["Soon 2"]]
    assert days[1][0] == timezone.localtime(soon[0].published_at).date()
    assert context["scheduled_later"] == 1
    assert "1 more scheduled later" in response.text
    assert [r.headline for r in context["recent"]] == ["published"]


def test_a_writers_dashboard_shows_only_their_own_reviews(client):
    wendy = make_writer("wendy")
    make_one_of_each()
    mine = make_one_of_each(author=wendy)
    client.force_login(wendy)

    context = client.get(DASHBOARD).context

    assert list(context["sent_back_to_me"]) == [mine["sent_back"]]
    assert list(context["my_drafts"]) == [mine["draft"]]
    assert list(context["waiting"]) == [mine["in_review"]]
    assert [r for _, reviews in context["scheduled_by_day"] for r in reviews] == [mine["scheduled"]]
    assert list(context["recent"]) == [mine["published"]]


# The user, the user's and their groups' permissions, then one query per section (sent back
# with their notes, drafts, waiting with their submission times, scheduled, later, recent). The
# session is not counted: with Redis it comes from the cache.
@pytest.mark.parametrize(("role", "budget"), [("writer", 9), ("editor", 9)])
def test_the_dashboard_runs_a_fixed_number_of_queries(client, role, budget):
    user = make_writer() if role == "writer" else make_editor()
    client.force_login(user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(DASHBOARD).status_code == 200
        return len([q for q in queries if "django_session" not in q["sql"]])

    make_one_of_each(author=user)
    few = count()
    for _ in range(5):
        make_one_of_each(author=user)
        make_one_of_each()

    assert count() == few == budget
