"""Revisions: every save keeps one (admin, importer, bulk actions and the workflow, films with
their credits and offers), the review's history compares any revision with the current review
section by section, and a restore brings a revision's text back as a new draft."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from films.models import Availability, Film
from reviews.models import Review
from reviews.revisions import words_diff
from reviews.services import review_import_file
from reviews.workflow import review_publish
from tests.admin_helpers import editor_client, loaded_version
from tests.factories import make_editor, make_film, make_person, make_review, make_user
from tests.films.test_admin import film_form_data, management_form

pytestmark = pytest.mark.django_db

DOCUMENT = Path(__file__).parent / "documents" / "the-cranes-are-flying.txt"


def versions(obj):
    return list(Version.objects.get_for_object(obj).select_related("revision__user").order_by("pk"))


def keywords_in(version):
    """The keyword names a version's revision holds for its object (its tag links)."""
    names = []
    for other in version.revision.version_set.all():
        if other.content_type.model != "taggeditem":
            continue
        link = json.loads(other.serialized_data)[0]["fields"]
        if str(link["object_id"]) == version.object_id and link["content_type"] == [
            version.content_type.app_label,
            version.content_type.model,
        ]:
            names.append(link["tag"][0])
    return sorted(names, key=str.casefold)


def objects_in(revision):
    return sorted((v.content_type.model, int(v.object_id)) for v in revision.version_set.all())


def review_form_data(review, **fields):
    data = {
        "film": review.film_id,
        "headline": review.headline,
        "standfirst": review.standfirst,
        "slug": review.slug,
        "byline": review.byline,
        "author": review.author_id or "",
        "rating": "" if review.rating is None else str(review.rating),
        "synopsis": review.synopsis,
        "critique": review.critique,
        "criticisms": review.criticisms,
        "conclusion": review.conclusion,
        "status": review.status,
        "published_at_0": "",
        "published_at_1": "",
        "keywords": ", ".join(sorted(review.keywords.names())),
        "loaded_version": review.version,
    }
    if review.published_at:
        local = timezone.localtime(review.published_at)
        data["published_at_0"] = local.strftime("%Y-%m-%d")
        data["published_at_1"] = local.strftime("%H:%M:%S")
    return {**data, **fields}


def change_url(review):
    return reverse("admin:reviews_review_change", args=[review.pk])


def history_url(review):
    return reverse("admin:reviews_review_history", args=[review.pk])


def diff_url(review, version):
    return reverse("admin:reviews_review_revision", args=[review.pk, version.pk])


def restore_url(review, version):
    return reverse("admin:reviews_review_revision_restore", args=[review.pk, version.pk])


def page_queries(client, url):
    """The queries a page runs, but for the session's (which Redis may serve, see settings)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len([q for q in queries if "django_session" not in q["sql"]])


def section(response, name):
    """The HTML of one section of the comparison page."""
    match = re.search(
        rf'<section[^>]*id="section-{name}".*?</section>', response.text, flags=re.DOTALL
    )
    assert match, f"no {name} section"
    return match.group(0)


WRITERS_CANNOT_POST = ("status", "published_at_0", "published_at_1", "author")


def edited(client, review, *, as_writer=False, **fields):
    """Save ``fields`` through the review's change form, as an editor (or its writer) does."""
    review.refresh_from_db()
    data = review_form_data(review, **fields)
    if as_writer:  # the writer's form has no state or author fields (reviews.workflow)
        data = {k: v for k, v in data.items() if k not in WRITERS_CANNOT_POST}
    response = client.post(change_url(review), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    review.refresh_from_db()
    return review


def writer(username="writer"):
    """Staff with the rights to write reviews, and not to publish them."""
    user = make_user(username, staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="reviews",
            codename__in=["add_review", "change_review", "view_review"],
        )
    )
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def editor():
    return editor_client("editor")


# Every save keeps one revision


def test_creating_a_review_keeps_its_first_revision(editor):
    film = make_film("Vertigo")
    data = {
        "film": film.pk,
        "headline": "Dizzy heights",
        "slug": "dizzy",
        "critique": "Vertiginous.",
        "status": "draft",
        "keywords": "obsession, San Francisco",
    }

    response = editor.post(reverse("admin:reviews_review_add"), data)

    assert response.status_code == 302
    (first,) = versions(Review.objects.get(slug="dizzy"))
    assert first.revision.user.username == "editor"
    assert first.field_dict["headline"] == "Dizzy heights"
    assert keywords_in(first) == ["obsession", "San Francisco"]  # sorted ignoring case


def test_an_admin_save_keeps_one_revision_with_the_new_text_and_keywords(editor):
    review = make_review(critique="The camera soars.", keywords=["war"])
    before = len(versions(review))

    edited(editor, review, critique="The camera flies.", keywords="war, love")

    new = versions(review)[before:]
    assert len(new) == 1
    assert new[0].field_dict["critique"] == "The camera flies."
    assert keywords_in(new[0]) == ["love", "war"]
    assert new[0].revision.user.username == "editor"
    assert "Critique" in new[0].revision.get_comment()


def test_a_change_form_save_that_also_publishes_keeps_one_revision(editor):
    review = make_review(published=False, critique="Draft text.")
    before = len(versions(review))

    edited(
        editor,
        review,
        critique="Final text.",
        status="published",
        published_at_0="2024-01-01",
        published_at_1="10:00:00",
    )

    new = versions(review)[before:]
    assert len(new) == 1
    assert new[0].field_dict["status"] == "published"
    assert new[0].field_dict["critique"] == "Final text."


def test_a_refused_stale_save_keeps_no_revision(editor):
    review = make_review()
    stale = review_form_data(review, critique="Overwrite")
    edited(editor, review, critique="First")
    before = len(versions(review))

    response = editor.post(change_url(review), stale)

    assert "changed by someone else" in response.text
    assert len(versions(review)) == before


def test_an_import_keeps_one_revision_of_the_review_and_one_of_the_film_with_its_credits():
    author = make_user("importer")

    report = review_import_file(data=DOCUMENT.read_bytes(), author=author)

    review, film = report.review, report.film
    (review_version,) = versions(review)
    (film_version,) = versions(film)
    assert review_version.revision.user == author
    assert review_version.revision.get_comment() == "Imported from a review document."
    assert review_version.field_dict["headline"] == review.headline
    assert "Soviet war dramas" in keywords_in(review_version)
    # The film's revision holds its credits and offers; the review is in a revision of its own,
    # so reverting the film never touches the review.
    film_objects = objects_in(film_version.revision)
    assert ("credit", film.credits.get().pk) in film_objects
    offers = {("availability", pk) for pk in film.availabilities.values_list("pk", flat=True)}
    assert offers and offers <= set(film_objects)
    assert ("review", review.pk) not in film_objects
    assert review_version.revision != film_version.revision


def test_importing_the_same_document_again_keeps_no_new_revision():
    report = review_import_file(data=DOCUMENT.read_bytes())

    review_import_file(data=DOCUMENT.read_bytes())

    assert len(versions(report.review)) == 1
    assert len(versions(report.film)) == 1


def test_an_import_that_changes_a_review_keeps_one_revision_of_it():
    report = review_import_file(data=DOCUMENT.read_bytes())
    changed = DOCUMENT.read_text().replace("poignant and visually", "poignant, visually")

    review_import_file(data=changed.encode())

    first, second = versions(report.review)
    assert "poignant, visually" in second.field_dict["critique"]
    assert "poignant and visually" in first.field_dict["critique"]


def test_a_dry_run_import_keeps_no_revision():
    review_import_file(data=DOCUMENT.read_bytes(), dry_run=True)

    assert not Version.objects.exists()


def test_a_bulk_action_keeps_one_revision_of_each_review_it_changes(editor):
    drafts = [make_review(published=False, keywords=["noir"]) for _ in range(3)]
    already = make_review()
    before = {review.pk: len(versions(review)) for review in [*drafts, already]}

    editor.post(
        reverse("admin:reviews_review_changelist"),
        {
            "action": "publish_now",
            "_selected_action": [r.pk for r in [*drafts, already]],
        },
    )

    for review in drafts:
        new = versions(review)[before[review.pk] :]
        assert len(new) == 1
        assert new[0].field_dict["status"] == "published"
        assert new[0].revision.user.username == "editor"
        assert new[0].revision.get_comment() == "Published."
        assert keywords_in(new[0]) == ["noir"]
    assert len(versions(already)) == before[already.pk]  # unchanged: no revision


def test_a_workflow_transition_outside_the_admin_keeps_one_revision():
    review = make_review(published=False)
    before = len(versions(review))

    review_publish(review=review, by=make_editor("chief"))

    new = versions(review)[before:]
    assert [v.revision.user.username for v in new] == ["chief"]
    assert new[0].field_dict["status"] == "published"


def test_a_film_save_keeps_one_revision_with_its_credits_and_offers_as_saved(editor):
    film = make_film(
        "Vertigo",
        year=1958,
        cast=[("James Stewart", "Scottie")],
        availability=[("Criterion", "rent")],
    )
    credit, offer = film.credits.get(), film.availabilities.get()
    newcomer = make_person("Kim Novak")
    data = film_form_data(title="Vertigo", slug=film.slug, release_date="", year="1958")
    data.update(management_form("credits", 2, initial=1))
    data.update(management_form("availabilities", 1, initial=1))
    data.update(
        {
            "credits-0-id": credit.pk,
            "credits-0-film": film.pk,
            "credits-0-person": credit.person_id,
            "credits-0-role": "actor",
            "credits-0-character": "John “Scottie” Ferguson",
            "credits-0-order": "0",
            "credits-1-film": film.pk,
            "credits-1-person": newcomer.pk,
            "credits-1-role": "actor",
            "credits-1-character": "Madeleine",
            "credits-1-order": "1",
            "availabilities-0-id": offer.pk,
            "availabilities-0-film": film.pk,
            "availabilities-0-service": offer.service_id,
            "availabilities-0-offer_type": "rent",
            "availabilities-0-region": "US",
            "availabilities-0-DELETE": "on",
            "loaded_version": film.version,
        }
    )

    response = editor.post(reverse("admin:films_film_change", args=[film.pk]), data)

    assert response.status_code == 302
    (version,) = versions(film)
    added = film.credits.get(person=newcomer)
    assert objects_in(version.revision) == sorted(
        [("film", film.pk), ("credit", credit.pk), ("credit", added.pk)]
        + [("taggeditem", pk) for pk in film.tagged_items.values_list("pk", flat=True)]
    )
    saved = {
        int(v.object_id): v.field_dict["character"]
        for v in version.revision.version_set.all()
        if v.content_type.model == "credit"
    }
    assert saved == {credit.pk: "John “Scottie” Ferguson", added.pk: "Madeleine"}
    assert keywords_in(version) == ["love", "war"]
    assert not Availability.objects.filter(pk=offer.pk).exists()


def test_reverting_a_film_is_a_new_revision_that_keeps_its_address_and_stales_open_forms(editor):
    film = make_film("Vertigo", year=1958, directors=["Alfred Hitchcock"])
    url = reverse("admin:films_film_change", args=[film.pk])
    data = film_form_data(title="Vertigo", slug=film.slug, release_date="", year="1958")
    data.update(management_form("credits", 0))
    editor.post(url, {**data, "runtime": "128", "loaded_version": film.version})
    first = versions(film)[0]
    film.credits.all().delete()
    version = loaded_version(editor.get(url))
    editor.post(url, {**data, "runtime": "129", "slug": "vertigo-1958", "loaded_version": version})
    data["slug"] = "vertigo-1958"
    alt = "Poster for Vertigo (1958)"
    Film.objects.filter(pk=film.pk).update(poster="posters/1958/vertigo.png", poster_alt=alt)
    data["poster_alt"] = alt
    open_form = {**data, "runtime": "130", "loaded_version": loaded_version(editor.get(url))}
    revision_url = reverse("admin:films_film_revision", args=[film.pk, first.pk])

    form = editor.get(revision_url)
    assert form.context["adminform"].form.initial["slug"] == "vertigo-1958"  # the address stays
    response = editor.post(
        revision_url, {**data, "runtime": "128", "loaded_version": loaded_version(form)}
    )

    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [f.formset.errors for f in response.context["inline_admin_formsets"]],
    )
    film.refresh_from_db()
    # The content goes back; the address and the poster (a file) stay.
    assert (film.runtime, film.slug) == (128, "vertigo-1958")
    assert film.poster.name == "posters/1958/vertigo.png"
    assert [person.name for person in film.directors] == ["Alfred Hitchcock"]
    assert len(versions(film)) == 3  # the earlier two, and the revert as a new one
    stale = editor.post(url, open_form)
    assert "changed by someone else" in stale.text
    film.refresh_from_db()
    assert film.runtime == 128


# The history page


def test_the_history_lists_each_revision_with_who_and_when(editor):
    review = make_review(headline="Dizzy heights")
    edited(editor, review, headline="Dizzier heights")

    response = editor.get(history_url(review))

    assert response.status_code == 200
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(\d+)</th>(.*?)</tr>", response.text, re.S)
    assert [number for number, _ in rows] == ["2", "1"]
    assert "editor" in rows[0][1] and "Dizzier heights" in rows[0][1]
    assert "the system" in rows[1][1] and "Created." in rows[1][1]
    assert "Times are in UTC" in response.text


def test_the_history_takes_the_same_queries_for_any_number_of_revisions(editor):
    review = make_review()

    edited(editor, review, critique="Two.")
    few = page_queries(editor, history_url(review))
    for n in range(8):
        edited(editor, review, critique=f"Version {n}.")

    # The user, the review, the number of its revisions, and a page of them with who saved each.
    assert page_queries(editor, history_url(review)) == few == 4


def test_the_comparison_takes_a_fixed_number_of_queries(editor):
    review = make_review(keywords=["war", "love"])
    edited(editor, review, critique="New.", keywords="war, peace")
    first = versions(review)[0]

    # The user, the review, the revision with who saved it, its number, its keyword links, the
    # current keywords, and the films of both.
    assert page_queries(editor, diff_url(review, first)) == 7


# The section diff


def test_the_comparison_shows_words_removed_and_added_in_their_section(editor):
    review = make_review(
        headline="Grief in flight",
        critique="Urusevsky's camera soars over the city.",
        conclusion="Essential.",
        keywords=["war", "love"],
    )
    first = versions(review)[-1]
    edited(
        editor, review, critique="Urusevsky's camera glides over the city.", keywords="war, peace"
    )

    response = editor.get(diff_url(review, first))

    critique = section(response, "critique")
    assert "<del>soars</del><ins>glides</ins>" in critique
    assert "camera" in critique and "<del>camera" not in critique
    keywords = section(response, "keywords")
    assert "<del>love</del>" in keywords and "<ins>peace</ins>" in keywords
    assert "war" in keywords and "<del>war" not in keywords and "<ins>war" not in keywords
    for unchanged in ("headline", "synopsis", "conclusion", "film", "rating"):
        assert "(unchanged)" in section(response, unchanged)
    assert "<del>" not in section(response, "headline")


def test_the_standfirst_is_compared_and_restored_with_the_text(editor):
    review = make_review(standfirst="Kalatozov’s war, seen from the home front.")
    first = versions(review)[-1]
    edited(editor, review, standfirst="Kalatozov’s war, seen from the stairs.")

    response = editor.get(diff_url(review, first))

    assert "<del>home front</del><ins>stairs</ins>" in section(response, "standfirst")
    editor.post(restore_url(review, first), {"loaded_version": review.version})
    review.refresh_from_db()
    assert review.standfirst == "Kalatozov’s war, seen from the home front."


def test_the_comparison_keeps_markup_in_the_text_escaped(editor):
    review = make_review(critique='Safe <b>bold</b> & <script>alert("x")</script> here.')
    first = versions(review)[-1]
    edited(editor, review, critique='Safe <i>bold</i> & <script>alert("y")</script> here.')

    response = editor.get(diff_url(review, first))

    critique = section(response, "critique")
    assert "<script>" not in critique and "<b>" not in critique and "<i>" not in critique
    assert "&lt;<del>b</del><ins>i</ins>&gt;bold" in critique
    assert "&lt;script&gt;alert(&quot;<del>x</del><ins>y</ins>&quot;)" in critique


def test_the_comparison_shows_a_changed_film_and_rating_as_values(editor):
    review = make_review(film=make_film("Vertigo", year=1958), rating="4.0")
    first = versions(review)[-1]
    edited(editor, review, film=make_film("Psycho", year=1960).pk, rating="4.5")

    response = editor.get(diff_url(review, first))

    assert "<del>Vertigo (1958)</del> <ins>Psycho (1960)</ins>" in section(response, "film")
    assert "<del>4 / 5</del> <ins>4.5 / 5</ins>" in section(response, "rating")


def test_words_diff_merges_neighbouring_changes_and_handles_any_script():
    assert str(words_diff("The old grey cat.", "The new black cat.")) == (
        "The <del>old grey</del><ins>new black</ins> cat."
    )
    assert (
        str(words_diff("Летят журавли", "Летят птицы"))
        == "Летят <del>журавли</del><ins>птицы</ins>"
    )
    assert str(words_diff("", "")) == ""


def test_a_revision_of_another_review_is_a_404(editor):
    review, other = make_review(), make_review()

    response = editor.get(diff_url(review, versions(other)[0]))

    assert response.status_code == 404


# Restore


def test_restoring_brings_the_text_back_as_a_new_draft_revision(editor):
    review = make_review(
        headline="Grief in flight", critique="Old words.", keywords=["war"], rating="3.0"
    )
    edited(editor, review, critique="Old words.", keywords="war")  # a revision with keywords
    restored_from = versions(review)[-1]
    edited(editor, review, headline="Grief", critique="New words.", rating="4.0", keywords="love")
    old = [(v.pk, v.serialized_data, v.revision.date_created) for v in versions(review)]
    version = review.version
    assert review.is_public()

    response = editor.post(restore_url(review, restored_from), {"loaded_version": review.version})

    assert response.status_code == 302
    assert response.url == change_url(review)
    review.refresh_from_db()
    assert (review.headline, review.critique, str(review.rating)) == (
        "Grief in flight",
        "Old words.",
        "3.0",
    )
    assert sorted(review.keywords.names()) == ["war"]
    assert review.status == Review.Status.DRAFT
    assert not review.is_public()
    assert review.version == version + 1
    all_versions = versions(review)
    assert [(v.pk, v.serialized_data, v.revision.date_created) for v in all_versions[:-1]] == old
    newest = all_versions[-1]
    assert newest.field_dict["critique"] == "Old words."
    assert newest.field_dict["status"] == "draft"
    assert keywords_in(newest) == ["war"]
    assert newest.revision.user.username == "editor"
    assert "as a new draft" in newest.revision.get_comment()
    page = editor.get(response.url)
    assert "Restored revision" in page.text


def test_restoring_makes_an_open_change_form_stale(editor):
    review = make_review(critique="First.")
    first = versions(review)[-1]
    edited(editor, review, critique="Second.")
    open_form = review_form_data(review, critique="Typed in another tab.")

    editor.post(restore_url(review, first), {"loaded_version": review.version})
    response = editor.post(change_url(review), open_form)

    assert response.status_code == 200
    assert "changed by someone else" in response.text
    assert "Typed in another tab." in response.text
    review.refresh_from_db()
    assert review.critique == "First."


def test_restoring_from_a_stale_comparison_changes_nothing(editor):
    review = make_review(critique="First.")
    first = versions(review)[-1]
    edited(editor, review, critique="Second.")
    seen = review.version
    edited(editor, review, critique="Third.")
    count = len(versions(review))

    response = editor.post(restore_url(review, first), {"loaded_version": seen}, follow=True)

    assert "saved by someone since you opened the comparison" in response.text
    review.refresh_from_db()
    assert review.critique == "Third." and len(versions(review)) == count


def test_restoring_a_revision_equal_to_the_current_review_changes_nothing(editor):
    review = make_review(critique="Same.")
    latest = versions(review)[-1]

    response = editor.post(
        restore_url(review, latest), {"loaded_version": review.version}, follow=True
    )

    assert "Nothing to restore" in response.text
    assert len(versions(review)) == 1
    review.refresh_from_db()
    assert review.is_public()


def test_restore_accepts_only_post(editor):
    review = make_review()

    response = editor.get(restore_url(review, versions(review)[0]))

    assert response.status_code == 405


def test_restoring_the_first_revision_works_too(editor):
    review = make_review(published=False, critique="The very first text.")
    first = versions(review)[0]
    for n in range(3):
        edited(editor, review, critique=f"Rewrite {n}.")
    version = review.version

    editor.post(restore_url(review, first), {"loaded_version": review.version})

    review.refresh_from_db()
    assert review.critique == "The very first text."
    assert review.status == Review.Status.DRAFT and review.version == version + 1
    assert len(versions(review)) == 5


# Who may see and restore


def test_the_writer_sees_the_history_of_their_review_and_restores_their_draft():
    user, client = writer()
    review = make_review(published=False, author=user, critique="Mine.")
    first = versions(review)[0]
    edited(client, review, as_writer=True, critique="Mine, rewritten.")

    assert client.get(history_url(review)).status_code == 200
    assert "Restore revision 1" in client.get(diff_url(review, first)).text
    client.post(restore_url(review, first), {"loaded_version": review.version})

    review.refresh_from_db()
    assert review.critique == "Mine."


def test_the_writer_may_not_restore_their_published_review():
    user, client = writer()
    review = make_review(author=user, critique="Mine.")
    first = versions(review)[0]
    edited(editor_client("chief"), review, critique="Edited by the chief.")

    page = client.get(diff_url(review, first))
    response = client.post(restore_url(review, first), {"loaded_version": review.version})

    assert page.status_code == 200 and "Restore revision" not in page.text
    assert response.status_code == 403
    review.refresh_from_db()
    assert review.critique == "Edited by the chief." and review.is_public()


def test_another_writer_may_neither_see_nor_restore_the_history():
    owner, _ = writer("owner")
    _, other = writer("other")
    review = make_review(published=False, author=owner)
    first = versions(review)[0]

    # Writers see only their own reviews in the admin (reviews/workflow.py): 404 or 403.
    assert other.get(history_url(review)).status_code in (403, 404)
    assert other.get(diff_url(review, first)).status_code in (403, 404)
    assert other.post(restore_url(review, first), {"loaded_version": 1}).status_code in (403, 404)


def test_an_editor_with_the_publish_permission_may_restore_any_review():
    user = make_user("deputy", staff=True)
    # Made here if the editorial workflow has not (it defines who publishes).
    Permission.objects.get_or_create(
        codename="publish_review",
        content_type=ContentType.objects.get_for_model(Review),
        defaults={"name": "Can publish review"},
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="reviews",
            codename__in=["change_review", "view_review", "publish_review"],
        )
    )
    client = Client()
    client.force_login(user)
    review = make_review(critique="Before.")
    first = versions(review)[0]
    edited(editor_client("chief"), review, critique="After.")

    client.post(restore_url(review, first), {"loaded_version": review.version})

    review.refresh_from_db()
    assert review.critique == "Before."


def test_history_pages_need_a_login():
    review = make_review()

    response = Client().get(history_url(review))

    assert response.status_code == 302
    assert "/login/" in response.url


def test_an_unknown_review_or_revision_is_a_404(editor):
    review = make_review()

    assert editor.get(reverse("admin:reviews_review_revision", args=[999, 1])).status_code == 404
    assert editor.get(reverse("admin:reviews_review_revision", args=["x", 1])).status_code == 404
    missing = reverse("admin:reviews_review_revision", args=[review.pk, 999999])
    assert editor.get(missing).status_code == 404
    assert (
        editor.post(
            restore_url(review, versions(review)[0]).replace(str(review.pk), "999999", 1)
        ).status_code
        == 404
    )


# Under the Content Security Policy


def test_history_pages_have_no_inline_scripts_or_styles(editor):
    review = make_review()
    edited(editor, review, critique="Changed.")
    film = make_film(directors=["Alfred Hitchcock"])
    editor.post(
        reverse("admin:films_film_change", args=[film.pk]),
        {
            **film_form_data(title=film.title, slug=film.slug, release_date="", year="1957"),
            "loaded_version": film.version,
        },
    )
    urls = [
        history_url(review),
        diff_url(review, versions(review)[0]),
        reverse("admin:films_film_history", args=[film.pk]),
        reverse("admin:films_film_revision", args=[film.pk, versions(film)[0].pk]),
        reverse("admin:films_film_recoverlist"),
    ]
    for url in urls:
        response = editor.get(url)
        assert response.status_code == 200, url
        html = response.text
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert [s for s in scripts if "src=" not in s and "application/json" not in s] == [], url
        assert "<style" not in html and ' style="' not in html, url


# The demo magazine


def test_the_demo_loader_leaves_every_film_and_review_with_a_revision():
    from tests.reviews.test_commands import CATALOGUE

    call_command("load_demo", "--catalogue", str(CATALOGUE), stdout=StringIO())

    films, reviews = Film.objects.all(), Review.objects.all()
    assert films and reviews
    assert all(versions(film) for film in films)
    assert all(versions(review) for review in reviews)
