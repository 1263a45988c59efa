"""The one slug policy: any name gives a working page and link; old slugs redirect (301)."""

import re
from importlib import import_module

import pytest
from django import forms
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape
from taggit.models import Tag

from films.models import Film, Genre, Person, SlugHistory, StreamingService
from films.slugs import SLUG_MAX_LENGTH, slug_base, unique_slug
from reviews.models import Review
from reviews.text import repeats_title
from tests.factories import make_film, make_review

pytestmark = pytest.mark.django_db

ASCII_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")

NAMES = {
    "accents": "Rashōmon café society",
    "cyrillic": "Летят журавли",
    "cjk": "羅生門",
    "hangul": "기생충",
    "arabic": "الرسالة",
    "emoji": "🎬 Film 🍿",
    "only emoji": "🎞️",
    "punctuation only": "!!!",
    "ellipsis": "…",
    "combining marks only": "\u0301\u0301",
    "zero-width and dashes": "\u200b---\u200b",
    "markup": "<script>alert(1)</script>",
    "long": "A very long name " * 12,
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_every_name_gets_a_usable_ascii_slug(name):
    slug = slug_base(name, kind="film")

    assert ASCII_SLUG.fullmatch(slug), slug
    assert len(slug) <= SLUG_MAX_LENGTH


def test_slugs_transliterate_rather_than_drop_letters():
    assert slug_base("Летят журавли", kind="film") == "letyat-zhuravli"
    assert slug_base("Stanisław Lem adaptation", kind="keyword") == "stanislaw-lem-adaptation"
    assert slug_base("🎬 Film 🍿", kind="film") == "clapper-film-popcorn"


def test_a_name_that_leaves_nothing_gets_a_stable_fallback_per_name():
    assert slug_base("!!!", kind="keyword") == slug_base("!!!", kind="keyword")
    assert slug_base("!!!", kind="keyword") != slug_base("???", kind="keyword")
    assert slug_base("!!!", kind="keyword").startswith("keyword-")


def test_long_names_are_cut_at_a_word_boundary():
    slug = slug_base("word " * 100, kind="film")

    assert len(slug) <= SLUG_MAX_LENGTH
    assert not slug.endswith("-") and slug.endswith("word")


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_any_name_gives_working_pages_and_links(client, name):
    genre_name = name[: Genre._meta.get_field("name").max_length]
    film = make_film(
        name[:200],
        genres=[genre_name],
        directors=[name[:200]],
        availability=[(name[:100], "subscription")],
    )
    keyword = name.strip()[: Tag._meta.get_field("name").max_length].strip() or "kw"
    film.tags.add(keyword)
    review = make_review(film, headline=name[:200], keywords=[keyword])
    tag = Tag.objects.get(name=keyword)

    pages = [
        film.get_absolute_url(),
        film.credits.get().person.get_absolute_url(),
        Genre.objects.get(name=genre_name).get_absolute_url(),
        StreamingService.objects.get(name=name[:100]).get_absolute_url(),
        review.get_absolute_url(),
        reverse("reviews:tag_detail", kwargs={"slug": tag.slug}),
    ]
    for url in pages:
        assert url.isascii(), url
        response = client.get(url)
        assert response.status_code == 200, url
    # Film pages link to the keyword's page; review pages too, unless the keyword only repeats
    # the film's title (README, "How the magazine looks"), and then it is in the meta keywords.
    assert pages[-1] in client.get(film.get_absolute_url()).content.decode()
    review_html = client.get(review.get_absolute_url()).content.decode()
    assert (pages[-1] in review_html) is not repeats_title(keyword, film.title)
    assert f'<meta name="keywords" content="{escape(keyword)}">' in review_html


def test_the_same_name_twice_gets_distinct_slugs():
    first, second = make_film("羅生門", year=1950), make_film("羅生門", year=1951)

    assert first.slug == "luoshengmen"
    assert second.slug == "luoshengmen-2"


def test_an_unusable_slug_given_in_code_is_replaced_by_the_policy():
    genre = Genre.objects.create(name="Café society", slug="café society")

    assert genre.slug == "cafe-society"


def test_demo_magazine_pages_with_accented_keywords_answer(client):
    """Regression: /films/solaris/ and this review answered 500 (céline-sciamma, stanisław-…)."""
    call_command("load_demo", "--no-artwork", verbosity=0)
    review = Review.objects.get(film__title="Portrait of a Lady on Fire")

    for url in ("/films/solaris/", review.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200, url
    assert Tag.objects.filter(slug="celine-sciamma").exists()
    assert Tag.objects.filter(slug__regex=r"[^-a-z0-9_]").count() == 0


# --- old slugs -----------------------------------------------------------------------------


def test_a_changed_slug_redirects_permanently_with_the_query_kept(client):
    film = make_film("Vertigo", year=1958)
    film.slug = "vertigo-1958"
    film.save()

    response = client.get("/films/vertigo/?utm_source=newsletter")

    assert response.status_code == 301
    assert response["Location"] == "/films/vertigo-1958/?utm_source=newsletter"


def test_every_earlier_slug_redirects_to_the_current_one(client):
    person = Person.objects.create(name="Andrei Tarkovsky")
    for slug in ("tarkovsky", "andrei-tarkovskii"):
        person.slug = slug
        person.save()

    for old in ("andrei-tarkovsky", "tarkovsky"):
        response = client.get(f"/people/{old}/")
        assert response.status_code == 301
        assert response["Location"] == "/people/andrei-tarkovskii/"


def test_a_slug_taken_back_is_live_again_not_a_redirect(client):
    genre = Genre.objects.create(name="Noir")
    genre.slug = "film-noir"
    genre.save()
    genre.slug = "noir"
    genre.save()

    assert client.get("/genres/noir/").status_code == 200
    assert client.get("/genres/film-noir/").status_code == 301


def test_new_rows_do_not_take_a_slug_that_still_redirects():
    old = make_film("Solaris", year=1972)
    old.slug = "solaris-1972"
    old.save()

    assert make_film("Solaris", year=2002).slug == "solaris-2"


def test_an_old_slug_of_a_draft_review_stays_hidden(client):
    review = make_review(published=False, headline="Secret")
    old_url = review.get_absolute_url()
    review.slug = "secret-2"
    review.save()

    assert client.get(old_url).status_code == 404


def test_renamed_tag_keeps_its_old_url(client):
    film = make_film("Stalker", year=1979)
    film.tags.add("zone")
    tag = Tag.objects.get(name="zone")
    tag.slug = "the-zone"
    tag.save()

    response = client.get("/tags/zone/")

    assert response.status_code == 301
    assert response["Location"] == "/tags/the-zone/"


def test_unknown_slugs_and_junk_in_slug_position_are_404(client):
    for path in ("/films/no-such-film/", "/tags/nope/", "/films/a%00b/", "/people/%20/"):
        assert client.get(path).status_code == 404, path


def test_the_migration_moves_unusable_slugs_and_keeps_the_old_urls(client):
    """Rows saved under the old rules (Unicode keyword slugs, "untitled" films)."""
    film = make_film("Летят журавли", year=1957)
    film.tags.add("Céline Sciamma")
    make_review(film, keywords=["Céline Sciamma"])
    Film.objects.filter(pk=film.pk).update(slug="untitled")
    Tag.objects.filter(name="Céline Sciamma").update(slug="céline-sciamma")

    import_module("reviews.migrations.0004_migrate_slugs").forwards(apps, None)
    import_module("films.migrations.0005_migrate_slugs").forwards(apps, None)

    assert Film.objects.get(pk=film.pk).slug == "letyat-zhuravli"
    assert Tag.objects.get(name="Céline Sciamma").slug == "celine-sciamma"
    assert client.get("/films/untitled/")["Location"] == "/films/letyat-zhuravli/"
    response = client.get("/tags/céline-sciamma/")
    assert response.status_code == 301
    assert response["Location"] == "/tags/celine-sciamma/"
    assert SlugHistory.objects.count() == 2


def test_admin_adds_a_film_whose_title_has_no_latin_letters(admin_client):
    response = admin_client.post(
        reverse("admin:films_film_add"),
        {
            "title": "東京物語",
            "slug": "",
            "year": "1953",
            "credits-TOTAL_FORMS": "0",
            "credits-INITIAL_FORMS": "0",
            "availabilities-TOTAL_FORMS": "0",
            "availabilities-INITIAL_FORMS": "0",
            "stills-TOTAL_FORMS": "0",
            "stills-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Film.objects.get(title="東京物語").slug == "dongjingwuyu"


def test_admin_refuses_an_overlong_keyword_with_a_message(admin_client):
    film = make_film("Vertigo", year=1958)
    review = make_review(film)
    url = reverse("admin:reviews_review_change", args=[review.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k != "keywords" and not isinstance(form.fields[k], forms.FileField)
    }
    data.update(film=film.pk, keywords="x" * 101, loaded_version=review.version)

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "A keyword can be at most 100 characters" in response.content.decode()


def test_unique_slug_is_shared_by_importer_and_models():
    Genre.objects.create(name="War")

    assert unique_slug(Genre, "War") == "war-2"


def test_editors_see_old_addresses_in_the_admin(admin_client):
    film = make_film("Vertigo", year=1958)
    film.slug = "vertigo-1958"
    film.save()

    response = admin_client.get(reverse("admin:films_slughistory_changelist"))

    assert response.status_code == 200
    assert "Vertigo (1958)" in response.content.decode()
