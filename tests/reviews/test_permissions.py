"""The permission matrix, through the admin as each user uses it: anonymous, the review's
writer, another writer, an editor and a superuser, × each state of a review, × each action,
forged requests included. What is allowed is written out here, not read from the code."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reviews.models import Review, ReviewTransition
from tests.factories import make_editor, make_review_in, make_user, make_writer

pytestmark = pytest.mark.django_db

STATES = ["draft", "in_review", "sent_back", "scheduled", "published", "unpublished"]
ALL = set(STATES)
BEFORE_LIVE = {"draft", "in_review", "sent_back", "scheduled", "unpublished"}

# action: the states an editor may take it from
EDITOR_MAY = {
    "view": ALL,
    "edit": ALL,
    "submit": {"draft", "sent_back"},
    "send_back": {"in_review"},
    "schedule": BEFORE_LIVE,
    "publish": BEFORE_LIVE,
    "unschedule": {"scheduled"},
    "unpublish": {"published"},
    "return_to_draft": ALL - {"draft"},
    "delete": ALL,
}
# the review's own writer
WRITER_MAY = {
    "view": ALL,
    "edit": {"draft", "sent_back"},
    "submit": {"draft", "sent_back"},
}
MAY = {
    "anonymous": {},
    "writer": WRITER_MAY,
    "other_writer": {},
    "editor": EDITOR_MAY,
    "superuser": EDITOR_MAY,
}
# the state each workflow action leads to
LEADS_TO = {
    "submit": "in_review",
    "send_back": "sent_back",
    "schedule": "scheduled",
    "publish": "published",
    "unschedule": "in_review",
    "unpublish": "unpublished",
    "return_to_draft": "draft",
}
WORKFLOW = list(LEADS_TO)
NOTE = "The second half drags: cut the flashback."


class People:
    """The five kinds of user, made when first asked for, each with a logged-in client."""

    MAKERS = {
        "writer": lambda: make_writer("wendy"),
        "other_writer": lambda: make_writer("oscar"),
        "editor": lambda: make_editor("edith"),
        "superuser": lambda: make_user("root", superuser=True),
    }

    def __init__(self):
        self.users, self.clients = {}, {"anonymous": Client()}

    def user(self, role):
        if role not in self.users and role in self.MAKERS:
            self.users[role] = self.MAKERS[role]()
        return self.users.get(role)

    def client(self, role):
        if role not in self.clients:
            self.clients[role] = Client()
            self.clients[role].force_login(self.user(role))
        return self.clients[role]


@pytest.fixture
def people():
    return People()


def change_url(review):
    return reverse("admin:reviews_review_change", args=[review.pk])


def form_data(review, *, role, **fields):
    """The change form as it comes back from this user's browser: writers' forms have no
    status, publication time or writer fields."""
    data = {
        "film": review.film_id,
        "headline": review.headline,
        "slug": review.slug,
        "byline": review.byline,
        "rating": "",
        "synopsis": review.synopsis,
        "critique": review.critique,
        "criticisms": review.criticisms,
        "conclusion": review.conclusion,
        "keywords": "",
        "loaded_version": review.version,
    }
    if role not in ("writer", "other_writer"):
        local = timezone.localtime(review.published_at) if review.published_at else None
        data |= {
            "author": review.author_id or "",
            "status": review.status,
            "published_at_0": f"{local:%Y-%m-%d}" if local else "",
            "published_at_1": f"{local:%H:%M:%S}" if local else "",
        }
    return data | fields


def snapshot(review):
    """Everything a refused request must leave as it was."""
    row = Review.objects.filter(pk=review.pk).values(
        "status", "published_at", "version", "critique", "author"
    )
    return list(row), ReviewTransition.objects.filter(review=review.pk).count()


def act(client, review, action, role):
    """Do ``action`` to ``review`` as a user of this role would, through the admin."""
    if action == "view":
        return client.get(change_url(review))
    if action == "delete":
        url = reverse("admin:reviews_review_delete", args=[review.pk])
        return client.post(url, {"post": "yes"})
    if action == "edit":
        return client.post(change_url(review), form_data(review, role=role, critique="Rewritten."))
    fields = {"_workflow": action, "workflow_note": NOTE}
    if action == "schedule" and role not in ("writer", "other_writer"):
        later = timezone.localtime() + timedelta(days=10)
        fields |= {"published_at_0": f"{later:%Y-%m-%d}", "published_at_1": f"{later:%H:%M:%S}"}
    return client.post(change_url(review), form_data(review, role=role, **fields))


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ["view", "edit", *WORKFLOW, "delete"])
@pytest.mark.parametrize("role", list(MAY))
def test_permission_matrix(people, role, state, action):
    review = make_review_in(state, author=people.user("writer"), headline="Grief in flight")
    before = snapshot(review)
    allowed = state in MAY[role].get(action, set())

    response = act(people.client(role), review, action, role)

    if allowed:
        assert_done(response, review, action, people.user(role))
    else:
        assert_refused(response, review, role)
        assert snapshot(review) == before, "a refused request wrote something"


def assert_done(response, review, action, user):
    if action == "view":
        assert response.status_code == 200
        assert 'value="Grief in flight"' in response.text or "Grief in flight" in response.text
        return
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    if action == "delete":
        assert not Review.objects.filter(pk=review.pk).exists()
        return
    review.refresh_from_db()
    if action == "edit":
        assert review.critique == "Rewritten."
        return
    assert review.state == LEADS_TO[action]
    assert response["Location"] == change_url(review)
    change = review.transitions.first()
    assert (change.action, change.to_state, change.by, change.note) == (
        action,
        LEADS_TO[action],
        user,
        NOTE,
    )


def assert_refused(response, review, role):
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    elif role == "other_writer":
        # Other writers' reviews do not exist for them.
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"] == reverse("admin:index")
    elif response.status_code == 200:
        # The form again, with the reason; the user's text is still in it.
        errors = response.context["adminform"].form.errors
        assert errors, "refused without a message"
        assert "Rewritten." not in str(review.critique)
    else:
        assert response.status_code == 403
        assert re.search(r"only an editor can change it now|Only editors", response.text)


# The admin shows only what the user may do


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ["writer", "editor", "superuser"])
def test_the_change_form_offers_only_the_moves_the_user_may_make(people, role, state):
    review = make_review_in(state, author=people.user("writer"))

    response = people.client(role).get(change_url(review))

    offered = set(re.findall(r'name="_workflow" value="(\w+)"', response.text))
    expected = {action for action in WORKFLOW if state in MAY[role].get(action, set())}
    assert offered == expected
    can_edit = state in MAY[role]["edit"]
    assert ('name="critique"' in response.text) == can_edit
    assert ('name="status"' in response.text) == (can_edit and role != "writer")


def test_a_writer_never_gets_the_status_menu_or_the_publication_time(people):
    review = make_review_in("draft", author=people.user("writer"))

    response = people.client("writer").get(change_url(review))

    form = response.context["adminform"].form
    assert {"status", "published_at", "author"}.isdisjoint(form.fields)
    assert "Submit for review" in response.text


def test_the_editors_status_menu_offers_only_reachable_states(people):
    review = make_review_in("in_review", author=people.user("writer"))

    response = people.client("editor").get(change_url(review))

    choices = [value for value, _ in response.context["adminform"].form.fields["status"].choices]
    assert choices == ["draft", "in_review", "sent_back", "published"]


# Forged requests


def test_a_writer_posting_a_status_is_refused_and_nothing_is_saved(people):
    review = make_review_in("draft", author=people.user("writer"))
    before = snapshot(review)
    now = timezone.localtime()

    response = people.client("writer").post(
        change_url(review),
        form_data(
            review,
            role="writer",
            critique="Rewritten.",
            status="published",
            published_at_0=f"{now:%Y-%m-%d}",
            published_at_1=f"{now:%H:%M:%S}",
        ),
    )

    assert response.status_code == 200
    assert "You can&#x27;t change a review&#x27;s status" in response.text
    assert snapshot(review) == before
    assert response.context["adminform"].form["critique"].value() == "Rewritten."


def test_a_writer_handing_their_review_to_someone_else_is_refused(people):
    review = make_review_in("draft", author=people.user("writer"))
    before = snapshot(review)

    response = people.client("writer").post(
        change_url(review), form_data(review, role="writer", author=people.user("other_writer").pk)
    )

    assert response.status_code == 200
    assert snapshot(review) == before


def test_a_writer_creating_a_published_review_is_refused(people):
    film = make_review_in("draft").film
    data = form_data(Review(film=film, headline="New", slug="new"), role="writer")

    response = people.client("writer").post(
        reverse("admin:reviews_review_add"), data | {"status": "published"}
    )

    assert response.status_code == 200
    assert not Review.objects.filter(slug="new").exists()


@pytest.mark.parametrize("action", ["publish", "bogus", "plan"])
def test_a_writer_posting_an_action_they_do_not_have_is_refused_with_a_message(people, action):
    review = make_review_in("draft", author=people.user("writer"))
    before = snapshot(review)

    response = people.client("writer").post(
        change_url(review), form_data(review, role="writer", _workflow=action, critique="New.")
    )

    assert response.status_code == 200
    message = {"publish": "Only editors can publish reviews."}.get(
        action, "That is not something a review can do."
    )
    assert message in response.text
    assert snapshot(review) == before


def test_an_editor_posting_a_state_the_table_does_not_allow_is_refused(people):
    review = make_review_in("draft", author=people.user("writer"))
    before = snapshot(review)

    response = people.client("editor").post(
        change_url(review), form_data(review, role="editor", status="unpublished")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"]
    assert snapshot(review) == before


@pytest.mark.parametrize("action", ["publish_now", "unpublish", "return_to_draft", "unschedule"])
def test_a_writer_forging_an_editors_bulk_action_changes_nothing(people, action):
    review = make_review_in("in_review", author=people.user("writer"))
    before = snapshot(review)

    response = people.client("writer").post(
        reverse("admin:reviews_review_changelist"),
        {"action": action, "_selected_action": [review.pk]},
        follow=True,
    )

    assert "No action selected." in response.text
    assert snapshot(review) == before


def test_a_writers_bulk_submit_leaves_other_writers_reviews_alone(people):
    mine = make_review_in("draft", author=people.user("writer"))
    theirs = make_review_in("draft", author=people.user("other_writer"))
    before = snapshot(theirs)

    response = people.client("writer").post(
        reverse("admin:reviews_review_changelist"),
        {"action": "submit_for_review", "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    )

    assert "Submitted 1 review(s) for review." in response.text
    mine.refresh_from_db()
    assert mine.state == "in_review"
    assert snapshot(theirs) == before


def test_a_bulk_action_skips_reviews_it_does_not_apply_to_and_says_so(people):
    live = make_review_in("published", author=people.user("writer"))
    draft = make_review_in("draft", author=people.user("writer"))

    response = people.client("editor").post(
        reverse("admin:reviews_review_changelist"),
        {"action": "unpublish", "_selected_action": [live.pk, draft.pk]},
        follow=True,
    )

    assert "Unpublished 1 review(s). 1 left as they were" in response.text
    assert Review.objects.get(pk=live.pk).state == "unpublished"
    assert Review.objects.get(pk=draft.pk).state == "draft"


# Who sees what in the list


def test_writers_see_only_their_own_reviews_and_editors_see_all(people):
    mine = make_review_in("draft", author=people.user("writer"), headline="Mine")
    make_review_in("published", author=people.user("other_writer"), headline="Theirs")
    url = reverse("admin:reviews_review_changelist")

    def headlines(role):
        return sorted(r.headline for r in people.client(role).get(url).context["cl"].result_list)

    assert headlines("writer") == [mine.headline]
    assert headlines("editor") == ["Mine", "Theirs"]
    assert headlines("superuser") == ["Mine", "Theirs"]


def test_staff_without_a_role_cannot_open_the_reviews(people):
    client = Client()
    client.force_login(make_user("visitor", staff=True))

    assert client.get(reverse("admin:reviews_review_changelist")).status_code == 403
    assert client.get(reverse("admin:reviews_review_dashboard")).status_code == 403


def test_the_writers_group_may_add_but_not_change_or_delete_the_catalogue(people):
    writer = get_user_model().objects.get(pk=people.user("writer").pk)

    for model in ("film", "person", "streamingservice", "credit", "availability"):
        assert writer.has_perm(f"films.add_{model}"), model
        assert not writer.has_perm(f"films.change_{model}"), model
        assert not writer.has_perm(f"films.delete_{model}"), model
    assert not writer.has_perm("films.add_genre")
    assert writer.has_perm("films.view_genre")
    assert not writer.has_perm("reviews.delete_review")
    assert not writer.has_perm("reviews.publish_review")
