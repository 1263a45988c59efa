"""The tag admin: rename, merge with the counts shown first, likely duplicates; old tag
addresses redirect to the tag that replaced them."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from taggit.models import Tag, TaggedItem

from tests.factories import make_film, make_review, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/taggit/tag/"
MERGE = "/admin/taggit/tag/merge/"
DUPLICATES = "/admin/taggit/tag/duplicates/"


def tag(name):
    return Tag.objects.create(name=name)


def tag_page(tag_or_slug):
    slug = getattr(tag_or_slug, "slug", tag_or_slug)
    return reverse("reviews:tag_detail", kwargs={"slug": slug})


def staff_with(*codenames, username="someone"):
    """A logged-in client for a staff user holding exactly these taggit permissions."""
    user = make_user(username, staff=True)
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="taggit", codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor():
    return staff_with("add_tag", "view_tag", "change_tag", "delete_tag", username="editor")


@pytest.fixture
def sciamma():
    """Three spellings of one keyword, on films and reviews, some carrying two of them."""
    accented, lower, punctuated = (
        tag("Céline Sciamma"),
        tag("celine sciamma"),
        tag("Celine-Sciamma!"),
    )
    portrait = make_film("Portrait of a Lady on Fire", year=2019)
    portrait.tags.add(accented, lower)
    tomboy = make_film("Tomboy", year=2011)
    tomboy.tags.add(punctuated)
    review = make_review(portrait, keywords=[accented, lower])
    other_review = make_review(tomboy, keywords=[lower])
    draft = make_review(tomboy, published=False, keywords=[punctuated])
    return {
        "tags": (accented, lower, punctuated),
        "films": (portrait, tomboy),
        "reviews": (review, other_review, draft),
    }


def merge_ids(*tags):
    return ",".join(str(t.pk) for t in tags)


# --- the list ------------------------------------------------------------------------------


def test_the_tag_list_shows_how_many_films_and_reviews_carry_each_tag(editor, sciamma):
    response = editor.get(CHANGELIST)

    assert response.status_code == 200
    rows = {
        tag.name: (tag.film_count, tag.review_count) for tag in response.context["cl"].result_list
    }
    assert rows == {"Céline Sciamma": (1, 1), "celine sciamma": (1, 2), "Celine-Sciamma!": (1, 1)}
    assert re.search(
        r'<a href="/admin/taggit/tag/duplicates/">Likely duplicates</a>', response.text
    )


def test_the_tag_list_filters_unused_tags(editor, sciamma):
    tag("nobody uses me")

    response = editor.get(CHANGELIST, {"in_use": "no"})

    assert [t.name for t in response.context["cl"].result_list] == ["nobody uses me"]


# --- merging -------------------------------------------------------------------------------


def test_the_merge_action_leads_to_the_confirmation_page(editor, sciamma):
    tags = sciamma["tags"]

    response = editor.post(
        CHANGELIST,
        {"action": "merge_selected", "_selected_action": [t.pk for t in tags]},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{MERGE}?ids={'%2C'.join(str(t.pk) for t in tags)}"
    assert Tag.objects.count() == 3  # nothing merged yet


def test_the_confirmation_page_lists_each_tag_with_its_films_and_reviews(editor, sciamma):
    accented, lower, punctuated = sciamma["tags"]

    response = editor.get(MERGE, {"ids": merge_ids(*sciamma["tags"])})

    assert response.status_code == 200
    for t, films, reviews in ((accented, 1, 1), (lower, 1, 2), (punctuated, 1, 1)):
        change = reverse("admin:taggit_tag_change", args=[t.pk])
        expected = (
            f'<tr><th scope="row"><a href="{change}">{t.name}</a></th>'
            f"<td>{t.slug}</td><td>{films}</td><td>{reviews}</td></tr>"
        )
        assert expected in re.sub(r">\s+<", "><", response.text), t.name
    # Distinct films and reviews, the portrait's two tags counted once.
    assert re.search(
        r"The kept tag, after the merge</th>\s*<td></td><td>2</td><td>3</td>", response.text
    )
    # The most used tag is offered as the one to keep.
    assert response.context["form"]["into"].value() == str(lower.pk)
    assert Tag.objects.count() == 3


def test_merging_keeps_every_film_and_review_tagged_once_with_the_chosen_tag(editor, sciamma):
    accented, lower, punctuated = sciamma["tags"]

    response = editor.post(
        MERGE, {"ids": merge_ids(*sciamma["tags"]), "into": accented.pk}, follow=True
    )

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert (
        "Merged “celine sciamma”, “Celine-Sciamma!” into “Céline Sciamma”"
        in [str(m) for m in response.context["messages"]][0]
    )
    assert list(Tag.objects.values_list("name", flat=True)) == ["Céline Sciamma"]
    for film in sciamma["films"]:
        assert list(film.tags.names()) == ["Céline Sciamma"]
    for review in sciamma["reviews"]:
        assert list(review.keywords.names()) == ["Céline Sciamma"]
    assert TaggedItem.objects.count() == 5


def test_merged_tags_old_addresses_redirect_to_the_kept_tag_with_the_query_kept(
    client, editor, sciamma
):
    accented, lower, punctuated = sciamma["tags"]
    old_pages = [tag_page(lower), tag_page(punctuated)]

    editor.post(MERGE, {"ids": merge_ids(*sciamma["tags"]), "into": accented.pk})

    for old in old_pages:
        response = client.get(old, {"page": "2", "utm_source": "mail"})
        assert response.status_code == 301, old
        assert response["Location"] == f"{tag_page(accented)}?page=2&utm_source=mail"
    kept = client.get(tag_page(accented))
    assert kept.status_code == 200
    assert "Portrait of a Lady on Fire" in kept.text and "Tomboy" in kept.text


def test_merging_into_a_new_name_renames_the_kept_tag_and_redirects_every_old_address(
    client, editor, sciamma
):
    accented, lower, punctuated = sciamma["tags"]
    old_pages = [tag_page(t) for t in sciamma["tags"]]

    response = editor.post(
        MERGE, {"ids": merge_ids(*sciamma["tags"]), "into": "new", "name": "Sciamma, Céline"}
    )

    assert response.status_code == 302
    kept = Tag.objects.get()
    assert (kept.name, kept.slug) == ("Sciamma, Céline", "sciamma-celine")
    for old in old_pages:
        assert client.get(old)["Location"] == "/tags/sciamma-celine/"
    assert client.get("/tags/sciamma-celine/").status_code == 200


def test_a_merge_without_a_name_for_the_new_tag_is_refused_with_a_message(editor, sciamma):
    response = editor.post(MERGE, {"ids": merge_ids(*sciamma["tags"]), "into": "new", "name": " "})

    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["Type the name of the tag to keep."]}
    assert Tag.objects.count() == 3


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ids": ""},
        {"ids": "abc,,-1,%00"},
        {"ids": "99999999999999999999999,1e3"},
        {"ids": "12345"},
    ],
)
def test_bad_merge_addresses_send_the_editor_back_with_a_message(editor, params):
    tag("war")

    response = editor.get(MERGE, params, follow=True)

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert "Choose at least two tags to merge" in response.text


def test_a_forged_merge_choice_is_refused_with_a_message(editor, sciamma):
    response = editor.post(MERGE, {"ids": merge_ids(*sciamma["tags"][:2]), "into": "999999"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors["into"][0]
    assert Tag.objects.count() == 3


def test_a_merge_is_in_the_admin_history(editor, sciamma):
    from django.contrib.admin.models import CHANGE, DELETION, LogEntry

    accented, lower, punctuated = sciamma["tags"]

    editor.post(MERGE, {"ids": merge_ids(*sciamma["tags"]), "into": accented.pk})

    entries = {(e.action_flag, e.object_repr) for e in LogEntry.objects.all()}
    assert entries == {
        (CHANGE, "Céline Sciamma"),
        (DELETION, "celine sciamma"),
        (DELETION, "Celine-Sciamma!"),
    }


# --- renaming ------------------------------------------------------------------------------


def test_renaming_a_tag_moves_its_address_and_the_old_one_redirects(client, editor):
    film = make_film()
    film.tags.add("soviet cinema")
    soviet = Tag.objects.get()
    url = reverse("admin:taggit_tag_change", args=[soviet.pk])

    response = editor.post(url, {"name": "Soviet film", "slug": soviet.slug})

    assert response.status_code == 302
    soviet.refresh_from_db()
    assert (soviet.name, soviet.slug) == ("Soviet film", "soviet-film")
    old = client.get("/tags/soviet-cinema/", {"page": "1"})
    assert (old.status_code, old["Location"]) == (301, "/tags/soviet-film/?page=1")
    assert list(film.tags.names()) == ["Soviet film"]
    assert "soviet-cinema" in editor.get(url).text  # listed under "old addresses"


def test_a_slug_the_editor_types_wins_over_the_name(editor):
    soviet = tag("soviet cinema")

    editor.post(
        reverse("admin:taggit_tag_change", args=[soviet.pk]),
        {"name": "Soviet film", "slug": "ussr"},
    )

    soviet.refresh_from_db()
    assert (soviet.name, soviet.slug) == ("Soviet film", "ussr")


@pytest.mark.parametrize(
    ("slug", "error"),
    [
        ("café", "Use only letters a–z, digits, hyphens and underscores."),
        ("old-war", "That address redirects to another tag's page; choose another."),
    ],
)
def test_a_slug_that_would_not_work_is_refused(editor, slug, error):
    war = tag("war")
    war.slug = "war-films"
    war.save()
    war.slug = "old-war"
    war.save()  # "war-films" and "war" are old addresses now, "old-war" is live
    war.slug = "war-and-peace"
    war.save()
    other = tag("peace")

    response = editor.post(
        reverse("admin:taggit_tag_change", args=[other.pk]), {"name": "peace", "slug": slug}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"] == [error]


def test_renaming_into_a_name_that_exists_offers_the_merge_instead(client, editor, sciamma):
    accented, lower, punctuated = sciamma["tags"]
    url = reverse("admin:taggit_tag_change", args=[punctuated.pk])

    response = editor.post(url, {"name": "CÉLINE SCIAMMA", "slug": punctuated.slug})

    assert response.status_code == 200  # not an IntegrityError
    errors = response.context["adminform"].form.errors["name"]
    assert errors[0].startswith("The tag “Céline Sciamma” already exists.")
    link = re.search(r'<a href="([^"]+)">Merge “Celine-Sciamma!” into it</a>', response.text)
    assert link, response.text
    offer = editor.get(link.group(1).replace("&amp;", "&"))
    assert [t.name for t in offer.context["tags"]] == ["Celine-Sciamma!", "Céline Sciamma"]
    form = offer.context["form"]
    assert (form["into"].value(), form["name"].value()) == ("new", "CÉLINE SCIAMMA")

    response = editor.post(
        MERGE, {"ids": merge_ids(punctuated, accented), "into": "new", "name": "CÉLINE SCIAMMA"}
    )

    assert response.status_code == 302
    kept = Tag.objects.get(pk=accented.pk)  # the tag that had the name stays
    assert kept.name == "CÉLINE SCIAMMA"
    assert not Tag.objects.filter(pk=punctuated.pk).exists()
    assert list(sciamma["films"][1].tags.names()) == ["CÉLINE SCIAMMA"]
    assert client.get(tag_page(punctuated))["Location"] == tag_page(kept)


def test_renaming_into_the_exact_name_of_another_tag_offers_it_as_the_one_to_keep(editor):
    war, other = tag("war"), tag("War!")
    response = editor.post(
        reverse("admin:taggit_tag_change", args=[other.pk]), {"name": "war", "slug": other.slug}
    )
    link = re.search(r'<a href="([^"]+)">Merge', response.text).group(1).replace("&amp;", "&")

    form = editor.get(link).context["form"]

    assert form["into"].value() == str(war.pk)


def test_adding_a_tag_whose_name_exists_in_another_case_is_refused(editor):
    tag("war")

    response = editor.post("/admin/taggit/tag/add/", {"name": "WAR", "slug": ""})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == ["The tag “war” already exists."]


def test_a_new_tag_gets_the_policy_slug(editor):
    response = editor.post("/admin/taggit/tag/add/", {"name": "Летят журавли", "slug": ""})

    assert response.status_code == 302
    assert Tag.objects.get().slug == "letyat-zhuravli"


# --- likely duplicates ---------------------------------------------------------------------


def test_the_duplicates_page_groups_case_accent_and_punctuation_variants(editor, sciamma):
    tag("Sciamma")
    noir = [tag("Film noir"), tag("FILM NOIR")]

    response = editor.get(DUPLICATES)

    assert response.status_code == 200
    groups = [[t.name for t in group["tags"]] for group in response.context["groups"]]
    assert groups == [
        ["celine sciamma", "Celine-Sciamma!", "Céline Sciamma"],
        ["Film noir", "FILM NOIR"],
    ]
    counts = {t.name: (t.film_count, t.review_count) for t in response.context["groups"][0]["tags"]}
    assert counts == {"Céline Sciamma": (1, 1), "celine sciamma": (1, 2), "Celine-Sciamma!": (1, 1)}
    merge_link = f'href="{MERGE}?ids={"%2C".join(str(t.pk) for t in noir)}"'
    assert merge_link in response.text and ">Merge these</a>" in response.text


def test_the_duplicates_page_says_when_there_are_none(editor):
    tag("war")
    tag("peace")

    response = editor.get(DUPLICATES)

    assert "No likely duplicates" in response.text


def test_the_duplicates_page_runs_the_same_queries_for_3_groups_as_for_30(editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert editor.get(DUPLICATES).status_code == 200
        return len(captured)

    for n in range(3):
        film = make_film()
        film.tags.add(tag(f"Keyword {n}"), tag(f"keyword-{n}!"))
    few = queries()
    for n in range(3, 30):
        film = make_film()
        film.tags.add(tag(f"Keyword {n}"), tag(f"keyword-{n}!"))
    many = queries()

    assert few == many <= 6


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "codenames",
    [(), ("view_tag",), ("view_tag", "change_tag"), ("view_tag", "delete_tag")],
    ids=["no tag permissions", "view only", "change without delete", "delete without change"],
)
def test_only_staff_who_may_change_and_delete_tags_may_merge(codenames, sciamma):
    client = staff_with(*codenames)
    ids = merge_ids(*sciamma["tags"])

    assert client.get(MERGE, {"ids": ids}).status_code == 403
    assert client.post(MERGE, {"ids": ids, "into": sciamma["tags"][0].pk}).status_code == 403
    forged = client.post(CHANGELIST, {"action": "merge_selected", "_selected_action": [1]})
    assert not forged.get("Location", "").startswith(MERGE)
    assert Tag.objects.count() == 3


def test_staff_who_may_only_view_tags_see_the_duplicates_but_no_merge_button(sciamma):
    response = staff_with("view_tag").get(DUPLICATES)

    assert response.status_code == 200
    assert len(response.context["groups"]) == 1
    assert "Merge these" not in response.text


def test_staff_without_tag_permissions_cannot_see_the_duplicates(sciamma):
    assert staff_with().get(DUPLICATES).status_code == 403


def test_readers_are_sent_to_the_login_page(client, sciamma):
    for url in (MERGE, DUPLICATES):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_merge_action_is_offered_only_to_those_who_may_merge(editor, sciamma):
    assert "merge_selected" in editor.get(CHANGELIST).text
    view_and_change = staff_with("view_tag", "change_tag")
    assert "merge_selected" not in view_and_change.get(CHANGELIST).text
