import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviews.models import Review
from tests.admin_helpers import editor_client, loaded_version
from tests.factories import make_film, make_review, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The admin_client fixture hashes a password per test; the default hasher takes a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def review_form_data(film, **fields):
    return {
        "film": film.pk,
        "headline": "Grief in flight",
        "slug": "cranes-grief-in-flight",
        "byline": "",
        "author": "",
        "rating": "4.5",
        "synopsis": "Veronika waits.",
        "critique": "Urusevsky's camera soars.",
        "criticisms": "",
        "conclusion": "Essential.",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "keywords": "war, love",
        **fields,
    }


def change_url(review):
    return reverse("admin:reviews_review_change", args=[review.pk])


def form_errors(response):
    return response.context["adminform"].form.errors


# Pages render


def test_review_admin_pages_render(admin_client):
    review = make_review(headline="Grief in flight")

    for url in [
        reverse("admin:reviews_review_changelist"),
        reverse("admin:reviews_review_add"),
        change_url(review),
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_review_change_page_has_no_inline_scripts_so_it_works_under_the_csp(admin_client):
    response = admin_client.get(change_url(make_review()))

    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts
    assert [s for s in scripts if "src=" not in s and "application/json" not in s] == []


def test_review_change_form_follows_the_reviews_sections(admin_client):
    review = make_review()

    response = admin_client.get(change_url(review))

    names = [fieldset.name for fieldset in response.context["adminform"]]
    assert names == [
        "Film and byline",
        "Lead image",
        "Synopsis",
        "Critique",
        "Criticisms",
        "Conclusion",
        "Publishing",
    ]


def test_the_standfirst_is_written_under_the_headline_and_shown_on_the_site(admin_client, client):
    film = make_film("The Cranes Are Flying")
    page = admin_client.get(reverse("admin:reviews_review_add"))
    html = page.text
    assert (
        html.index('name="headline"') < html.index('name="standfirst"') < html.index('name="slug"')
    )
    assert re.search(r'<textarea name="standfirst"[^>]*maxlength="300"', html)

    response = admin_client.post(
        reverse("admin:reviews_review_add"),
        review_form_data(film, standfirst="Love and war, in one long take.", status="published"),
    )

    assert response.status_code == 302, form_errors(response)
    review = Review.objects.get()
    assert review.standfirst == "Love and war, in one long take."
    assert (
        '<p class="standfirst">Love and war, in one long take.</p>'
        in client.get(review.get_absolute_url()).text
    )


def test_rating_is_offered_as_half_star_choices(admin_client):
    response = admin_client.get(reverse("admin:reviews_review_add"))

    choices = [value for value, _ in response.context["adminform"].form.fields["rating"].choices]
    assert [str(value) for value in choices if value != ""] == [
        "0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0",
    ]  # fmt: skip


# Adding and the author


def test_review_add_form_starts_with_the_current_editor_as_author(admin_client, admin_user):
    response = admin_client.get(reverse("admin:reviews_review_add"))

    assert response.context["adminform"].form.initial["author"] == admin_user.pk


def test_review_add_form_saves_and_stamps_the_author(admin_client, admin_user):
    film = make_film("The Cranes Are Flying")

    response = admin_client.post(reverse("admin:reviews_review_add"), review_form_data(film))

    assert response.status_code == 302, form_errors(response)
    review = Review.objects.get(slug="cranes-grief-in-flight")
    assert review.author == admin_user
    assert review.film == film
    assert str(review.rating) == "4.5"
    assert sorted(review.keywords.names()) == ["love", "war"]
    assert review.version == 1


def test_review_add_form_keeps_a_chosen_author(admin_client):
    colleague = make_user("colleague", staff=True)
    film = make_film("The Cranes Are Flying")

    admin_client.post(
        reverse("admin:reviews_review_add"), review_form_data(film, author=colleague.pk)
    )

    assert Review.objects.get().author == colleague


def test_whole_star_rating_is_selected_again_when_the_review_is_reopened(admin_client):
    review = make_review(rating="4.0")

    response = admin_client.get(change_url(review))

    assert '<option value="4.0" selected>4 / 5</option>' in response.text


def test_rating_off_the_half_star_scale_gives_a_form_error(admin_client):
    film = make_film("The Cranes Are Flying")

    response = admin_client.post(
        reverse("admin:reviews_review_add"), review_form_data(film, rating="4.3")
    )

    assert response.status_code == 200
    assert "rating" in form_errors(response)
    assert not Review.objects.exists()


# View on site


def test_published_review_change_page_links_to_the_public_page(admin_client):
    review = make_review(headline="Grief in flight")

    response = admin_client.get(change_url(review))

    assert response.context["absolute_url"] == review.get_absolute_url()
    assert f'href="{review.get_absolute_url()}"' in response.text
    assert "View on site" in response.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"published": False},
        {"status": Review.Status.PUBLISHED, "published_at": timezone.now() + timedelta(days=3)},
    ],
    ids=["draft", "scheduled"],
)
def test_unpublished_review_change_page_has_no_view_on_site_link(admin_client, overrides):
    review = make_review(**overrides)

    response = admin_client.get(change_url(review))

    assert not response.context["has_absolute_url"]
    assert "View on site" not in response.text


# Changelist


def test_review_changelist_shows_which_reviews_are_live(admin_client):
    live = make_review(headline="Live one")
    draft = make_review(published=False, headline="Draft one")
    scheduled = make_review(
        headline="Scheduled one",
        status=Review.Status.PUBLISHED,
        published_at=timezone.now() + timedelta(days=1),
    )

    response = admin_client.get(reverse("admin:reviews_review_changelist"))

    flags = {review.headline: review.live for review in response.context["cl"].result_list}
    assert flags == {live.headline: True, draft.headline: False, scheduled.headline: False}
    assert 'alt="True"' in response.text and 'alt="False"' in response.text


def test_review_changelist_visibility_filter(admin_client):
    make_review(headline="Live one")
    make_review(published=False, headline="Draft one")
    make_review(
        headline="Scheduled one",
        status=Review.Status.PUBLISHED,
        published_at=timezone.now() + timedelta(days=1),
    )
    url = reverse("admin:reviews_review_changelist")

    def headlines(visibility):
        response = admin_client.get(url, {"visibility": visibility})
        return [review.headline for review in response.context["cl"].result_list]

    assert headlines("live") == ["Live one"]
    assert headlines("scheduled") == ["Scheduled one"]
    assert headlines("draft") == ["Draft one"]


def test_review_changelist_search_and_genre_filter(admin_client):
    war = make_review(make_film("The Cranes Are Flying", genres=["War"]), keywords=["grief"])
    make_review(make_film("Vertigo", genres=["Thriller"]), byline="Pauline K.")
    url = reverse("admin:reviews_review_changelist")

    by_title = admin_client.get(url, {"q": "cranes"}).context["cl"].result_list
    by_keyword = admin_client.get(url, {"q": "grief"}).context["cl"].result_list
    by_genre = admin_client.get(url, {"film__genres__id__exact": war.film.genres.get().pk})

    assert list(by_title) == [war]
    assert list(by_keyword) == [war]
    assert list(by_genre.context["cl"].result_list) == [war]


def test_review_changelist_runs_a_constant_number_of_queries(admin_client):
    url = reverse("admin:reviews_review_changelist")
    author = make_user("critic", staff=True)

    def add_reviews(n):
        for _ in range(n):
            make_review(make_film(genres=["Drama"]), author=author, rating="4.0")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    add_reviews(5)
    with_5 = count()
    add_reviews(25)

    assert count() == with_5


# Actions


def run_action(client, action, reviews):
    return client.post(
        reverse("admin:reviews_review_changelist"),
        {"action": action, "_selected_action": [review.pk for review in reviews]},
    )


def test_publish_now_action_publishes_drafts_with_the_current_time(admin_client):
    draft = make_review(published=False)
    scheduled_at = timezone.now() + timedelta(days=2)
    planned = make_review(published=False, published_at=scheduled_at)

    response = run_action(admin_client, "publish_now", [draft, planned])

    assert response.status_code == 302
    draft.refresh_from_db()
    planned.refresh_from_db()
    assert draft.status == planned.status == Review.Status.PUBLISHED
    assert timezone.now() - draft.published_at < timedelta(minutes=1)
    assert draft.is_public()
    assert planned.published_at == scheduled_at  # a planned time is kept
    assert not planned.is_public()
    assert draft.version == planned.version == 2


def test_return_to_draft_action(admin_client):
    review = make_review()

    run_action(admin_client, "return_to_draft", [review])

    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT
    assert not review.is_public()
    assert review.version == 2


# Concurrent edits


def test_second_editor_cannot_overwrite_a_review_changed_since_they_opened_it():
    review = make_review(critique="The original text.")
    alice, bob = editor_client("alice"), editor_client("bob")
    alice_version = loaded_version(alice.get(change_url(review)))
    bob_version = loaded_version(bob.get(change_url(review)))

    alice_response = alice.post(
        change_url(review),
        review_form_data(
            review.film,
            slug=review.slug,
            critique="Alice's rewrite.",
            loaded_version=alice_version,
        ),
    )
    bob_response = bob.post(
        change_url(review),
        review_form_data(
            review.film,
            slug=review.slug,
            critique="Bob's rewrite.",
            loaded_version=bob_version,
        ),
    )

    assert alice_response.status_code == 302
    assert bob_response.status_code == 200
    assert "changed by someone else since you opened it" in str(
        bob_response.context["adminform"].form.non_field_errors()
    )
    assert "changed by someone else since you opened it" in bob_response.text
    assert "Bob&#x27;s rewrite." in bob_response.text  # his text is still there to copy
    review.refresh_from_db()
    assert review.critique == "Alice's rewrite."
    assert review.version == 2


def test_editor_can_save_again_after_reloading(admin_client):
    review = make_review(critique="The original text.")
    for text in ["First edit.", "Second edit."]:
        version = loaded_version(admin_client.get(change_url(review)))
        response = admin_client.post(
            change_url(review),
            review_form_data(review.film, slug=review.slug, critique=text, loaded_version=version),
        )
        assert response.status_code == 302

    review.refresh_from_db()
    assert review.critique == "Second edit."
    assert review.version == 3


def test_editor_with_the_page_open_cannot_undo_a_publish_action(admin_client):
    review = make_review(published=False)
    version = loaded_version(admin_client.get(change_url(review)))
    run_action(editor_client("chief"), "publish_now", [review])

    response = admin_client.post(
        change_url(review),
        review_form_data(review.film, slug=review.slug, status="draft", loaded_version=version),
    )

    assert response.status_code == 200
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED


def test_change_without_the_loaded_version_is_refused(admin_client):
    review = make_review(critique="The original text.")

    response = admin_client.post(
        change_url(review), review_form_data(review.film, slug=review.slug, critique="Blind save.")
    )

    assert response.status_code == 200
    assert form_errors(response)["__all__"]
    review.refresh_from_db()
    assert review.critique == "The original text."


def test_invalid_submission_does_not_use_up_the_version(admin_client):
    review = make_review()
    version = loaded_version(admin_client.get(change_url(review)))

    invalid = admin_client.post(
        change_url(review),
        review_form_data(review.film, slug=review.slug, rating="4.3", loaded_version=version),
    )
    fixed = admin_client.post(
        change_url(review),
        review_form_data(review.film, slug=review.slug, rating="4.0", loaded_version=version),
    )

    assert invalid.status_code == 200
    assert fixed.status_code == 302
    review.refresh_from_db()
    assert str(review.rating) == "4.0"
    assert review.version == 2


def test_publishing_without_a_time_publishes_now(admin_client):
    film = make_film("The Cranes Are Flying")

    response = admin_client.post(
        reverse("admin:reviews_review_add"), review_form_data(film, status="published")
    )

    assert response.status_code == 302, form_errors(response)
    review = Review.objects.get()
    assert review.is_public()
