"""Tags kept tidy (films.tags): duplicates found, merges that lose no tag, old addresses kept."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from taggit.models import Tag, TaggedItem

from films.cache import VERSION_KEY, catalogue_version
from films.models import SlugHistory
from films.tags import (
    TagMergeError,
    tag_duplicate_groups,
    tag_key,
    tag_names_resolve,
    tags_merge,
)
from tests.factories import make_film, make_review, make_user

pytestmark = pytest.mark.django_db


def tag(name):
    return Tag.objects.create(name=name)


def old_slugs(target):
    content_type = ContentType.objects.get_for_model(Tag)
    return set(
        SlugHistory.objects.filter(content_type=content_type, object_id=target.pk).values_list(
            "slug", flat=True
        )
    )


# --- likely duplicates ---------------------------------------------------------------------


def test_names_differing_in_case_accents_and_punctuation_share_a_key():
    keys = {tag_key(name) for name in ("Céline Sciamma", "celine sciamma", "Celine-Sciamma!")}

    assert keys == {"celinesciamma"}


def test_keys_keep_what_tells_names_apart():
    assert tag_key("C++") != tag_key("C")
    assert tag_key("Летят журавли") == tag_key("летят  журавли")
    assert tag_key("Летят журавли") != tag_key("Letyat zhuravli")
    # Punctuation-only names do not all fall into one group.
    assert tag_key("!!!") != tag_key("???")
    assert tag_key("ß") == tag_key("SS")


def test_duplicate_groups_hold_only_tags_that_share_a_key():
    sciamma = [tag("Céline Sciamma"), tag("celine sciamma"), tag("Celine-Sciamma!")]
    noir = [tag("Film noir"), tag("film-noir")]
    tag("Sciamma")
    tag("noir")
    tag("!!!")
    tag("???")

    groups = tag_duplicate_groups()

    assert [{t.pk for t in group} for group in groups] == [
        {t.pk for t in sciamma},
        {t.pk for t in noir},
    ]


def test_duplicate_groups_take_one_query_however_many_tags(django_assert_num_queries):
    for n in range(30):
        tag(f"Keyword {n}")
        tag(f"keyword-{n}!")

    with django_assert_num_queries(1):
        groups = tag_duplicate_groups()

    assert len(groups) == 30


# --- merging -------------------------------------------------------------------------------


def test_a_merge_loses_no_tag_and_leaves_each_item_tagged_once():
    target, source, other = tag("Céline Sciamma"), tag("celine sciamma"), tag("Celine-Sciamma!")
    both_film = make_film("Portrait of a Lady on Fire", year=2019)
    both_film.tags.add(target, source, other)
    source_film = make_film("Tomboy", year=2011)
    source_film.tags.add(source)
    both_review = make_review(both_film)
    both_review.keywords.add(target, source)
    twin_review = make_review(source_film)
    twin_review.keywords.add(source, other)  # two merged tags, not the target

    result = tags_merge(tags=[target, source, other], into=target)

    assert result.target == target
    assert {t.name for t in result.merged} == {"celine sciamma", "Celine-Sciamma!"}
    assert list(Tag.objects.values_list("name", flat=True)) == ["Céline Sciamma"]
    for item in (both_film, source_film):
        assert list(item.tags.names()) == ["Céline Sciamma"]
    for review in (both_review, twin_review):
        assert list(review.keywords.names()) == ["Céline Sciamma"]
    assert TaggedItem.objects.count() == 4
    assert (result.moved, result.dropped) == (2, 4)


def test_a_merge_keeps_the_other_tags_of_each_film():
    keep, merged = tag("war"), tag("War!")
    film = make_film()
    film.tags.add(merged, "soviet cinema")

    tags_merge(tags=[keep, merged], into=keep)

    assert sorted(film.tags.names()) == ["soviet cinema", "war"]


def test_merged_slugs_and_their_own_old_slugs_redirect_to_the_target():
    target, source = tag("Film noir"), tag("film-noir!")
    source.slug = "noir-films"
    source.save()  # "film-noir-2" is now an old address of the source
    film = make_film()
    film.tags.add(source)

    tags_merge(tags=[source, target], into=target)

    assert old_slugs(target) == {"film-noir-2", "noir-films"}


def test_a_merge_into_a_new_name_renames_the_most_used_tag_and_its_slug_follows():
    rare, common = tag("celine sciamma"), tag("Celine-Sciamma!")
    assert (rare.slug, common.slug) == ("celine-sciamma", "celine-sciamma-2")
    for film in (make_film(), make_film()):
        film.tags.add(common)
    make_film().tags.add(rare)

    result = tags_merge(tags=[rare, common], into="Céline Sciamma")

    assert result.target.pk == common.pk
    target = Tag.objects.get()
    assert (target.name, target.slug) == ("Céline Sciamma", "celine-sciamma")
    assert old_slugs(target) == {"celine-sciamma-2"}
    assert TaggedItem.objects.filter(tag=target).count() == 3


def test_a_merge_into_a_name_that_exists_in_another_case_keeps_that_tag():
    existing, source = tag("soviet cinema"), tag("Soviet film")
    make_film().tags.add(source)

    result = tags_merge(tags=[source], into="Soviet Cinema")

    assert result.target.pk == existing.pk
    assert list(Tag.objects.values_list("name", flat=True)) == ["Soviet Cinema"]


def test_a_merge_bumps_the_catalogue_version():
    keep, merged = tag("war"), tag("War!")
    before = catalogue_version()

    tags_merge(tags=[keep, merged], into=keep)

    assert cache.get(VERSION_KEY) != before


@pytest.mark.parametrize(
    ("into", "message"),
    [
        ("   ", "Give the name of the tag to merge into."),
        ("x" * 101, r"at most 100 characters \(this one has 101\)"),
    ],
)
def test_a_merge_into_a_bad_name_is_refused_and_writes_nothing(into, message):
    a, b = tag("war"), tag("War!")
    make_film().tags.add(b)

    with pytest.raises(TagMergeError, match=message):
        tags_merge(tags=[a, b], into=into)

    assert Tag.objects.count() == 2 and TaggedItem.objects.get().tag == b


def test_merging_a_tag_into_itself_alone_is_refused():
    a = tag("war")

    with pytest.raises(TagMergeError, match="at least two"):
        tags_merge(tags=[a], into=a)


def test_a_merge_is_logged_with_who_did_it(caplog):
    a, b = tag("war"), tag("War!")

    with caplog.at_level("INFO", logger="films.tags"):
        tags_merge(tags=[a, b], into=a, by=make_user("ines"))

    assert "Merged tags ['War!'] into 'war'" in caplog.text and "by ines" in caplog.text


# --- merged names stay merged --------------------------------------------------------------


def test_a_merged_name_typed_again_resolves_to_the_tag_it_was_merged_into():
    keep, merged = tag("Céline Sciamma"), tag("celine sciamma")
    tags_merge(tags=[keep, merged], into=keep)

    resolved = tag_names_resolve(
        names=["celine sciamma", "war", "Céline Sciamma", "Celine Sciamma"]
    )

    assert resolved == ["Céline Sciamma", "war"]


def test_a_live_tag_wins_over_an_old_address(django_assert_max_num_queries):
    keep, merged = tag("Céline Sciamma"), tag("celine sciamma")
    tags_merge(tags=[keep, merged], into=keep)
    tag("Celine Sciamma")  # created since, on purpose

    with django_assert_max_num_queries(3):
        resolved = tag_names_resolve(names=["celine sciamma", "soviet cinema"])

    assert resolved == ["celine sciamma", "soviet cinema"]


def test_a_review_saved_from_a_form_opened_before_a_merge_does_not_bring_it_back(admin_client):
    from tests.admin_helpers import loaded_version

    keep, merged = tag("Céline Sciamma"), tag("celine sciamma")
    review = make_review(keywords=[merged])
    url = f"/admin/reviews/review/{review.pk}/change/"
    version = loaded_version(admin_client.get(url))
    tags_merge(tags=[keep, merged], into=keep)

    response = admin_client.post(
        url,
        {
            "film": review.film.pk,
            "headline": review.headline,
            "slug": review.slug,
            "synopsis": review.synopsis,
            "critique": review.critique,
            "keywords": "celine sciamma, war",
            "status": review.status,
            "published_at_0": review.published_at.strftime("%Y-%m-%d"),
            "published_at_1": review.published_at.strftime("%H:%M:%S"),
            "loaded_version": version,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert sorted(review.keywords.names()) == ["Céline Sciamma", "war"]
    assert not Tag.objects.filter(name="celine sciamma").exists()


def test_before_any_merge_typed_names_are_left_as_taggit_would_take_them():
    tag("Céline Sciamma")

    assert tag_names_resolve(names=["celine sciamma", "Celine-Sciamma!"]) == [
        "celine sciamma",
        "Celine-Sciamma!",
    ]


def test_the_old_name_of_a_renamed_tag_resolves_to_its_new_name():
    soviet = tag("soviet cinema")
    soviet.name, soviet.slug = "Soviet film", "soviet-film"
    soviet.save()

    assert tag_names_resolve(names=["Soviet Cinema"]) == ["Soviet film"]


def test_tags_named_finds_other_cases_of_accented_names_on_every_database():
    from films.tags import tags_named

    accented = tag("Céline Sciamma")
    tag("Celine Sciamma")

    assert tags_named("CÉLINE SCIAMMA") == [accented]
