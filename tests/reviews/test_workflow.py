"""A review's state changes in one place (reviews.workflow), and readers see the change at once."""

import datetime
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import TaggedItem

from films.cache import catalogue_version
from reviews.models import Review, ReviewStateError
from reviews.services import review_import_file
from reviews.workflow import (
    review_create,
    review_publish,
    review_return_to_draft,
    review_set_expiry,
    review_transition,
    reviews_create,
    reviews_publish,
    reviews_return_to_draft,
)
from tests.admin_helpers import editor_client, loaded_version
from tests.factories import make_film, make_review, make_user

pytestmark = pytest.mark.django_db

FILM_LIST = reverse("films:film_list")
CRANES = Path(settings.BASE_DIR) / "reviews/demo/reviews/the-cranes-are-flying.txt"
CATALOGUE = Path(__file__).parent / "data" / "catalogue.json"


def reviewed_count(client):
    """The film list's "Reviewed" facet count, as a reader sees it."""
    response = client.get(FILM_LIST)
    assert response.status_code == 200
    return next(o.count for o in response.context["facets"]["reviewed"] if o.value == "yes")


def run_action(client, action, reviews):
    return client.post(
        reverse("admin:reviews_review_changelist"),
        {"action": action, "_selected_action": [review.pk for review in reviews]},
        follow=True,
    )


def change_url(review):
    return reverse("admin:reviews_review_change", args=[review.pk])


def form_data(review, **fields):
    """The change form as an editor submits it, unchanged unless ``fields`` say otherwise."""
    local = timezone.localtime(review.published_at) if review.published_at else None
    return {
        "film": review.film_id,
        "headline": review.headline,
        "slug": review.slug,
        "byline": review.byline,
        "author": review.author_id or "",
        "rating": review.rating or "",
        "synopsis": review.synopsis,
        "critique": review.critique,
        "criticisms": review.criticisms,
        "conclusion": review.conclusion,
        "status": review.status,
        "published_at_0": local.strftime("%Y-%m-%d") if local else "",
        "published_at_1": local.strftime("%H:%M:%S") if local else "",
        "keywords": "",
        **fields,
    }


@pytest.fixture
def workflow_log(caplog):
    """The workflow's account of each change it makes: which reviews, what, and by whom."""
    caplog.set_level("DEBUG", logger="reviews.workflow")

    def lines():
        lines = [r.getMessage() for r in caplog.records if r.name == "reviews.workflow"]
        caplog.clear()
        return lines

    return lines


# The film list's cached counts follow every change of state


def test_publish_now_action_shows_in_the_film_lists_counts_at_once(client, admin_client):
    make_review(make_film("Vertigo"))
    drafts = [make_review(make_film(title), published=False) for title in ("Psycho", "Rope")]
    assert reviewed_count(client) == 1  # the counts are now cached

    run_action(admin_client, "publish_now", drafts)

    assert reviewed_count(client) == 3


def test_return_to_draft_action_shows_in_the_film_lists_counts_at_once(client, admin_client):
    reviews = [make_review(make_film(title)) for title in ("Vertigo", "Psycho", "Rope")]
    assert reviewed_count(client) == 3

    run_action(admin_client, "return_to_draft", reviews[:2])

    assert reviewed_count(client) == 1


def test_publishing_in_the_change_form_shows_in_the_film_lists_counts_at_once(client, admin_client):
    review = make_review(published=False)
    assert reviewed_count(client) == 0
    version = loaded_version(admin_client.get(change_url(review)))

    response = admin_client.post(
        change_url(review), form_data(review, status="published", loaded_version=version)
    )

    assert response.status_code == 302
    assert reviewed_count(client) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda review: review_publish(review=review),
        lambda review: reviews_publish(reviews=Review.objects.filter(pk=review.pk)),
        lambda review: review_publish(review=review, at=timezone.now() - timedelta(hours=1)),
        lambda review: review_transition(review=review, status=Review.Status.PUBLISHED),
    ],
)
def test_every_way_of_publishing_shows_in_the_counts_at_once(client, change):
    review = make_review(published=False)
    assert reviewed_count(client) == 0

    change(review)

    assert reviewed_count(client) == 1


def test_the_counts_are_dropped_again_when_the_change_commits(
    django_capture_on_commit_callbacks,
):
    """A reader who caches counts between the change and its commit must not keep them."""
    review = make_review(published=False)
    with django_capture_on_commit_callbacks(execute=True):
        review_publish(review=review)
        during = catalogue_version()

    assert catalogue_version() != during


def test_a_change_that_changes_nothing_keeps_the_cached_counts():
    review = make_review()
    version = catalogue_version()

    assert reviews_publish(reviews=Review.objects.filter(pk=review.pk)) == []
    assert catalogue_version() == version


# What the bulk actions do


def test_publish_now_action_says_what_it_did(admin_client):
    draft = make_review(published=False)
    planned = make_review(published=False, published_at=timezone.now() + timedelta(days=2))
    live = make_review()

    response = run_action(admin_client, "publish_now", [draft, planned, live])

    assert "Published 2 review(s). 1 will go live at their publication time." in response.text


def test_publish_now_leaves_published_reviews_and_their_versions_alone(admin_client):
    published_at = timezone.now() - timedelta(days=3)
    live = make_review(published_at=published_at)

    run_action(admin_client, "publish_now", [live])

    live.refresh_from_db()
    assert (live.published_at, live.version) == (published_at, 1)


def test_return_to_draft_action_says_what_it_did_and_keeps_the_time(admin_client):
    published_at = timezone.now() - timedelta(days=3)
    live = make_review(published_at=published_at)
    draft = make_review(published=False)

    response = run_action(admin_client, "return_to_draft", [live, draft])

    assert "Returned 1 review(s) to draft." in response.text
    live.refresh_from_db()
    draft.refresh_from_db()
    assert (live.status, live.published_at, live.version) == ("draft", published_at, 2)
    assert draft.version == 1


def test_an_editor_with_the_form_open_cannot_save_over_a_return_to_draft(admin_client):
    review = make_review()
    version = loaded_version(admin_client.get(change_url(review)))
    run_action(editor_client("chief"), "return_to_draft", [review])

    response = admin_client.post(
        change_url(review), form_data(review, critique="Old text.", loaded_version=version)
    )

    assert response.status_code == 200
    assert "changed by someone else since you opened it" in response.text
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT


@pytest.mark.parametrize("n", [2, 20])
def test_a_bulk_change_takes_the_same_queries_for_any_number_of_reviews(n):
    for _ in range(n):
        make_review(published=False, keywords=["war", "love"])
    ContentType.objects.get_for_models(Review, TaggedItem)  # cached once per process

    with CaptureQueriesContext(connection) as queries:
        changed = reviews_publish(reviews=Review.objects.all())

    assert len(changed) == n
    statements = [q["sql"].split()[0] for q in queries]
    # The savepoint pairs are the atomic blocks, nested in the test's transaction; the inner one
    # records the revisions (the reviews, their keyword links, the reviews the links name, a
    # check that they exist, the revision and its versions); the INSERT after it records every
    # review's transition, the UPDATE computes their films' sort keys again, and the last SELECT
    # finds the next scheduled change (films.cache).
    revisions = ["SAVEPOINT", *["SELECT"] * 5, "INSERT", "INSERT", "RELEASE"]
    assert statements == [
        "SAVEPOINT",
        "SELECT",
        "UPDATE",
        *revisions,
        "INSERT",
        "UPDATE",
        "SELECT",
        "RELEASE",
    ]


# The change form goes through the workflow


def test_publishing_in_the_change_form_goes_through_the_workflow(admin_client, workflow_log):
    review = make_review(published=False)
    version = loaded_version(admin_client.get(change_url(review)))
    workflow_log()

    admin_client.post(
        change_url(review), form_data(review, status="published", loaded_version=version)
    )

    assert workflow_log() == [f"Reviews {review.pk}: published by admin"]
    review.refresh_from_db()
    assert review.is_public()
    assert review.version == 2  # once, though the state and the text were both written


def test_scheduling_in_the_change_form(admin_client):
    review = make_review(published=False)
    version = loaded_version(admin_client.get(change_url(review)))
    later = timezone.localtime() + timedelta(days=3)

    admin_client.post(
        change_url(review),
        form_data(
            review,
            status="published",
            published_at_0=later.strftime("%Y-%m-%d"),
            published_at_1=later.strftime("%H:%M:%S"),
            loaded_version=version,
        ),
    )

    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert review.published_at == later.replace(microsecond=0)
    assert not review.is_public()


def expiry_fields(when):
    local = timezone.localtime(when)
    return {"expires_at_0": local.strftime("%Y-%m-%d"), "expires_at_1": local.strftime("%H:%M:%S")}


def test_setting_an_expiry_in_the_change_form_goes_through_the_workflow(admin_client, workflow_log):
    review = make_review()
    response = admin_client.get(change_url(review))
    assert "expiry time" in response.text.lower()
    later = (timezone.localtime() + timedelta(days=30)).replace(microsecond=0)
    workflow_log()

    response = admin_client.post(
        change_url(review),
        form_data(review, loaded_version=loaded_version(response), **expiry_fields(later)),
    )

    assert response.status_code == 302
    assert workflow_log() == [
        f"Reviews {review.pk}: published, expiry {later.isoformat()} by admin"
    ]
    review.refresh_from_db()
    assert (review.expires_at, review.version) == (later, 2)
    assert review.is_public()


def test_an_expiry_before_the_publication_time_is_a_form_error(admin_client):
    review = make_review()
    response = admin_client.get(change_url(review))

    response = admin_client.post(
        change_url(review),
        form_data(
            review,
            loaded_version=loaded_version(response),
            **expiry_fields(review.published_at - timedelta(days=1)),
        ),
    )

    assert response.status_code == 200
    assert "The expiry time must be after the publication time." in response.text
    review.refresh_from_db()
    assert (review.expires_at, review.version) == (None, 1)


def test_saving_the_text_does_not_move_the_publication_time(admin_client):
    """The form shows whole seconds; an untouched time keeps its stored microseconds."""
    published_at = datetime.datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=datetime.UTC)
    review = make_review(published_at=published_at)
    version = loaded_version(admin_client.get(change_url(review)))

    response = admin_client.post(
        change_url(review), form_data(review, critique="Rewritten.", loaded_version=version)
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.critique, review.published_at, review.version) == (
        "Rewritten.",
        published_at,
        2,
    )


def test_saving_the_text_does_not_move_the_expiry_time(admin_client):
    expires_at = datetime.datetime(2999, 3, 1, 9, 0, 0, 123456, tzinfo=datetime.UTC)
    review = make_review(expires_at=expires_at)
    version = loaded_version(admin_client.get(change_url(review)))

    response = admin_client.post(
        change_url(review),
        form_data(
            review, critique="Rewritten.", loaded_version=version, **expiry_fields(expires_at)
        ),
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.critique, review.expires_at, review.version) == ("Rewritten.", expires_at, 2)


def test_adding_a_published_review_goes_through_the_workflow(admin_client, workflow_log):
    film = make_film()
    data = form_data(
        Review(film=film, headline="New", slug="new", status="published"), keywords="war"
    )

    response = admin_client.post(reverse("admin:reviews_review_add"), data)

    assert response.status_code == 302
    review = Review.objects.get()
    assert workflow_log() == [f"Reviews {review.pk}: created as published by admin"]
    assert review.is_public()
    assert review.version == 1


# The importer and the demo loader go through the workflow


def test_the_importer_creates_its_draft_through_the_workflow(workflow_log):
    editor = make_user("ines")

    review = review_import_file(data=CRANES.read_bytes(), author=editor).review

    assert workflow_log() == [f"Reviews {review.pk}: created as draft by ines"]
    assert review.status == Review.Status.DRAFT


def test_the_importer_leaves_a_published_reviews_state_alone(workflow_log):
    review = review_import_file(data=CRANES.read_bytes()).review
    published_at = review_publish(review=review).published_at
    workflow_log()

    report = review_import_file(data=CRANES.read_bytes().replace(b"Urusevsky", b"Urusevskii"))

    assert report.changed
    assert workflow_log() == []
    review.refresh_from_db()
    assert (review.status, review.published_at) == ("published", published_at)


def test_load_demo_publishes_its_reviews_through_the_workflow(client, workflow_log):
    call_command("load_demo", "--catalogue", str(CATALOGUE), "--no-artwork", stdout=StringIO())

    published = [line for line in workflow_log() if line.endswith(": published by the system")]
    assert len(published) == Review.objects.published().count() > 0
    assert reviewed_count(client) == len(published)


# The workflow's rules


def test_publishing_without_a_time_publishes_now():
    review = review_publish(review=make_review(published=False))

    assert timezone.now() - review.published_at < timedelta(minutes=1)
    assert review.is_public()


def test_publishing_keeps_a_planned_time_unless_given_one():
    planned = timezone.now() + timedelta(days=2)
    review = review_publish(review=make_review(published=False, published_at=planned))
    assert review.published_at == planned

    earlier = timezone.now() - timedelta(hours=1)
    review = review_publish(review=review, at=earlier)
    assert review.published_at == earlier
    assert review.is_public()


def test_the_review_in_hand_is_updated_and_can_be_saved_again():
    review = make_review(published=False)

    review_publish(review=review)
    review.critique = "Edited after publishing."
    review.save()

    review.refresh_from_db()
    assert (review.status, review.version, review.critique) == (
        "published",
        2,
        "Edited after publishing.",
    )


def test_a_transition_writes_only_the_state_not_other_unsaved_changes():
    review = make_review(published=False, critique="Stored.")
    review.critique = "Not saved yet."

    review_publish(review=review)

    assert Review.objects.get().critique == "Stored."


def test_an_expiry_takes_a_review_off_the_site_when_it_comes(workflow_log):
    review = make_review()
    workflow_log()

    review_set_expiry(review=review, expires_at=timezone.now() + timedelta(hours=1))
    assert review.is_public()
    review_set_expiry(review=review, expires_at=timezone.now())
    assert not review.is_public()
    review_set_expiry(review=review, expires_at=None)

    assert review.is_public()
    assert review.version == 4
    assert workflow_log()[-1] == f"Reviews {review.pk}: expiry removed by the system"


def test_an_expiry_not_after_the_publication_time_is_refused_with_a_message():
    review = make_review()

    with pytest.raises(ValidationError, match="must be after the publication time"):
        review_set_expiry(review=review, expires_at=review.published_at)
    with pytest.raises(ValidationError, match="must be after the publication time"):
        make_review(expires_at=timezone.now() - timedelta(days=2))

    review.refresh_from_db()
    assert (review.expires_at, review.version, Review.objects.count()) == (None, 1, 1)


def test_publishing_now_past_the_expiry_is_refused():
    review = make_review(published=False, expires_at=timezone.now() - timedelta(hours=1))

    with pytest.raises(ValidationError):
        review_publish(review=review)
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT


def test_return_to_draft_takes_a_review_off_the_site():
    review = review_return_to_draft(review=make_review())

    assert not review.is_public()
    assert review.version == 2


def test_bulk_return_to_draft_returns_the_reviews_that_changed():
    live, draft = make_review(), make_review(published=False)

    changed = reviews_return_to_draft(reviews=Review.objects.all())

    assert changed == [live]
    assert draft.pk not in {review.pk for review in changed}


def test_review_create_publishes_a_review_built_as_published_now():
    review = review_create(review=Review(film=make_film(), headline="x", status="published"))

    assert review.is_public()


def test_reviews_create_makes_many_in_one_query():
    film = make_film()
    built = [Review(film=film, headline=f"R{n}", slug=f"r{n}", status="published") for n in (1, 2)]

    with CaptureQueriesContext(connection) as queries:
        reviews_create(reviews=built)

    inserts = [q["sql"].split()[:3] for q in queries if q["sql"].startswith("INSERT")]
    # One for the reviews; the revision and its versions (one each) are django-reversion's.
    assert [table for _, _, table in inserts] == [
        '"reviews_review"',
        '"reversion_revision"',
        '"reversion_version"',
    ]
    assert Review.objects.published().count() == 2


def test_wrong_entry_points_are_refused():
    review = make_review()
    with pytest.raises(ValueError, match="review_transition"):
        review_create(review=review)
    with pytest.raises(ValueError, match="review_create"):
        review_publish(review=Review(film=review.film, headline="x"))
    with pytest.raises(ValueError, match="slug"):
        reviews_create(reviews=[Review(film=review.film, headline="x")])


# Nothing else writes a review's state


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda r: setattr(r, "status", "draft") or r.save(), id="save status"),
        pytest.param(
            lambda r: setattr(r, "published_at", timezone.now()) or r.save(), id="save time"
        ),
        pytest.param(
            lambda r: setattr(r, "status", "draft") or r.save(update_fields=["status"]),
            id="save update_fields",
        ),
        pytest.param(
            lambda r: setattr(r, "expires_at", timezone.now()) or r.save(), id="save expiry"
        ),
        pytest.param(lambda r: Review.objects.filter(pk=r.pk).update(status="draft"), id="update"),
        pytest.param(
            lambda r: Review.objects.filter(pk=r.pk).update(expires_at=timezone.now()),
            id="update expiry",
        ),
        pytest.param(lambda r: r.film.reviews.update(published_at=None), id="related update"),
        pytest.param(
            lambda r: setattr(r, "status", "draft") or Review.objects.bulk_update([r], ["status"]),
            id="bulk_update",
        ),
        pytest.param(
            lambda r: Review.objects.create(film=r.film, headline="x", status="published"),
            id="create",
        ),
        pytest.param(
            lambda r: Review.objects.bulk_create(
                [Review(film=r.film, headline="x", slug="x", published_at=timezone.now())]
            ),
            id="bulk_create",
        ),
        pytest.param(
            lambda r: Review.objects.bulk_create(
                [Review(film=r.film, headline="x", slug="x", expires_at=timezone.now())]
            ),
            id="bulk_create expiry",
        ),
    ],
)
def test_writing_the_state_outside_the_workflow_is_refused(write):
    review = make_review()

    with pytest.raises(ReviewStateError, match="outside reviews.workflow"):
        write(review)

    review.refresh_from_db()
    assert (review.status, review.version, Review.objects.count()) == ("published", 1, 1)


def test_other_writes_of_a_review_are_allowed():
    review = make_review()
    review.critique = "New text."
    review.save()
    Review.objects.filter(pk=review.pk).update(byline="Ines")
    partial = Review.objects.only("headline").get()
    partial.headline = "New headline"
    partial.save()
    review.refresh_from_db()
    review.status = "draft"  # in memory only: not among the fields saved
    review.save(update_fields=["rating"])
    Review.objects.create(film=review.film, headline="A new draft")

    assert Review.objects.published().get().headline == "New headline"


def test_only_the_workflow_may_lift_the_guard():
    """The guard's escape hatch is for reviews.workflow; tests aside, nobody else uses it."""
    root = Path(settings.BASE_DIR)
    folders = [
        folder
        for folder in root.iterdir()
        if folder.is_dir()
        and not folder.name.startswith(".")
        and folder.name not in {"tests", "node_modules", "staticfiles", "media"}
    ]
    users = {
        path.relative_to(root).as_posix()
        for folder in folders
        for path in folder.rglob("*.py")
        if "allow_state_writes" in path.read_text(encoding="utf-8")
    }

    assert users == {"reviews/models.py", "reviews/workflow.py"}
