import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError
from django.urls import reverse
from django.utils.text import slugify
from taggit.managers import _TaggableManager
from taggit.models import Tag, TaggedItem

from films.cache import catalogue_version
from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from reviews.models import Review
from reviews.parser import SuggestedCredit, parse_document
from reviews.services import (
    ReviewImportError,
    name_key,
    review_import,
    review_import_file,
)
from reviews.workflow import reviews_publish
from tests.admin_helpers import loaded_version
from tests.factories import make_film, make_genre, make_person, make_review, make_service, make_user

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR) / "reviews/demo/reviews/the-cranes-are-flying.txt"
ALL_MODELS = (Film, Genre, Person, Credit, StreamingService, Availability, Review, Tag, TaggedItem)


@pytest.fixture
def document():
    return parse_document(FIXTURE.read_bytes(), filename=FIXTURE.name)


def counts():
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def credits_of(film):
    return {
        (c.person.name, c.role, c.character)
        for c in film.credits.select_related("person").exclude(role=Credit.Role.DIRECTOR)
    }


def suggestion(document, person):
    return next(c for c in document.suggested_credits if c.person == person)


def management_forms(*prefixes):
    counts = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0"}
    return {f"{prefix}-{key}": n for prefix in prefixes for key, n in counts.items()}


def film_form_data(film, **fields):
    """The film change form as an editor who opened it before the import submits it."""
    return {
        "title": film.title,
        "slug": film.slug,
        "release_date": str(film.release_date or ""),
        "year": str(film.year),
        "genres": [genre.pk for genre in film.genres.all()],
        **management_forms("credits", "availabilities", "stills"),
        **fields,
    }


def review_form_data(review, **fields):
    return {
        "film": review.film.pk,
        "headline": review.headline,
        "slug": review.slug,
        "status": review.status,
        "published_at_0": "",
        "published_at_1": "",
        "keywords": ", ".join(sorted(review.keywords.names())),
        **{name: getattr(review, name) for name in ("synopsis", "critique", "conclusion")},
        **fields,
    }


STALKER = (
    "Stalker (1979)\nTitle: Stalker\nRelease Date: 25 May 1979\nGenre: Science Fiction\n"
    "Synopsis\nThree men.\nReview\nHaunting.\nConclusion\nSee it.\n"
)


def test_the_repository_copy_of_the_fixture_is_the_shared_one():
    shared = Path(settings.BASE_DIR).parent / "shared/fixtures/reviews/the-cranes-are-flying.txt"
    if not shared.exists():
        pytest.skip("the shared fixtures folder is not mounted here")
    assert FIXTURE.read_bytes() == shared.read_bytes()


def test_importing_the_fixture_creates_the_film_with_its_catalogue_data(document):
    report = review_import(document=document)

    film = Film.objects.get()
    assert report.film == film
    assert report.film_created and report.review_created
    assert (film.title, film.year, film.release_date) == (
        "The Cranes Are Flying",
        1957,
        datetime.date(1957, 10, 12),
    )
    assert set(film.genres.values_list("name", flat=True)) == {"Drama", "War", "Romance"}
    assert all(genre.slug for genre in Genre.objects.all())
    directors = film.credits.filter(role=Credit.Role.DIRECTOR)
    assert [(c.person.name, c.order) for c in directors] == [("Mikhail Kalatozov", 0)]
    assert set(film.availabilities.values_list("service__name", "offer_type", "region")) == {
        ("Criterion Channel", "subscription", "US"),
        ("Amazon Prime Video", "rent", "US"),
        ("Amazon Prime Video", "buy", "US"),
        ("iTunes", "rent", "US"),
        ("iTunes", "buy", "US"),
        ("Google Play", "rent", "US"),
        ("Google Play", "buy", "US"),
    }
    assert set(film.availabilities.values_list("last_checked", flat=True)) == {
        datetime.date.today()
    }


def test_importing_the_fixture_creates_a_draft_review_with_the_documents_text(document):
    editor = make_user("ines", staff=True)

    report = review_import(document=document, author=editor)

    review = Review.objects.get()
    assert report.review == review
    assert review.status == Review.Status.DRAFT and review.published_at is None
    assert review.headline == "A Soviet Cinematic Masterpiece"
    assert review.author == editor
    assert review.byline == ""
    for section in ("synopsis", "critique", "criticisms", "conclusion"):
        assert getattr(review, section) == getattr(document, section)
    assert review.critique.count("\n\n") == 5  # six paragraphs kept apart
    assert review.conclusion.count("\n\n") == 1
    assert sorted(review.keywords.names()) == sorted(document.keywords)
    assert len(document.keywords) == 10
    assert "film The Cranes Are Flying (1957)" in report.created
    assert report.summary() == (
        "“A Soviet Cinematic Masterpiece”: created 1 film, 3 genres, 1 person, "
        "1 director credit, 4 streaming services, 7 offers, 1 review."
    )


def test_suggested_credits_are_not_applied_unless_accepted(document):
    assert document.suggested_credits  # the fixture does suggest some

    review_import(document=document)

    assert credits_of(Film.objects.get()) == set()
    assert not Person.objects.filter(name="Tatiana Samoilova").exists()


def test_accepted_credits_are_applied_and_only_those(document):
    accepted = [
        suggestion(document, "Tatiana Samoilova"),
        suggestion(document, "Aleksey Batalov"),
        suggestion(document, "Sergei Urusevsky"),
    ]

    review_import(document=document, accepted_credits=accepted)

    film = Film.objects.get()
    assert credits_of(film) == {
        ("Tatiana Samoilova", "actor", "Veronika"),
        ("Aleksey Batalov", "actor", "Boris"),
        ("Sergei Urusevsky", "cinematographer", ""),
    }
    actors = film.credits.filter(role=Credit.Role.ACTOR).order_by("order")
    assert [(c.person.name, c.order) for c in actors] == [
        ("Tatiana Samoilova", 0),
        ("Aleksey Batalov", 1),
    ]
    assert not Person.objects.filter(name="Dmitri Shostakovich").exists()


def test_accepted_actor_gets_the_next_billing_order_after_the_existing_cast(document):
    make_film(
        "The Cranes Are Flying",
        year=1957,
        cast=[("Vasili Merkuryev", "Fyodor Ivanovich"), ("Aleksandr Shvorin", "Mark")],
    )

    review_import(document=document, accepted_credits=[suggestion(document, "Aleksey Batalov")])

    batalov = Credit.objects.get(person__name="Aleksey Batalov")
    assert (batalov.character, batalov.order) == ("Boris", 2)


def test_importing_the_same_document_twice_changes_nothing(document):
    accepted = document.suggested_credits[:3]
    review_import(document=document, accepted_credits=accepted)
    before = counts()
    stamps = {
        "film": Film.objects.values_list("updated_at", "version").get(),
        "review": Review.objects.values_list("updated_at", "version").get(),
    }

    report = review_import(document=document, accepted_credits=accepted)

    assert counts() == before
    assert not report.changed
    assert report.created == [] and report.updated == []
    assert any("review" in item for item in report.unchanged)
    assert "nothing to change" in report.summary()
    assert Film.objects.values_list("updated_at", "version").get() == stamps["film"]
    assert Review.objects.values_list("updated_at", "version").get() == stamps["review"]


def test_existing_catalogue_rows_are_matched_not_duplicated(document):
    film = make_film("the cranes are flying", year=1957)
    make_genre("DRAMA", slug="drama")
    make_person("mikhail kalatozov")
    make_service("CRITERION CHANNEL")
    make_service("iTunes")
    before = counts()

    report = review_import(document=document)

    assert not report.film_created
    assert Film.objects.get() == film
    assert Genre.objects.count() == before["Genre"] + 2  # War and Romance are new
    assert set(film.genres.values_list("name", flat=True)) == {"DRAMA", "War", "Romance"}
    assert Person.objects.count() == before["Person"]
    assert Person.objects.get().credits.get().role == Credit.Role.DIRECTOR
    assert StreamingService.objects.count() == before["StreamingService"] + 2
    assert Availability.objects.filter(service__name="CRITERION CHANNEL").count() == 1


def test_films_are_matched_on_their_original_title_too(document):
    film = make_film("Letyat zhuravli", original_title="The Cranes Are Flying", year=1957)

    review_import(document=document)

    assert list(Film.objects.all()) == [film]
    assert Review.objects.get().film == film


def test_a_film_of_another_year_is_a_different_film(document):
    make_film("The Cranes Are Flying", year=1990)

    review_import(document=document)

    assert set(Film.objects.values_list("year", flat=True)) == {1957, 1990}


def test_names_match_across_unicode_forms_and_apostrophe_styles(document):
    decomposed = "Agne\u0300s Varda"  # "Agnès" with a combining grave accent
    person = make_person(decomposed)
    make_person("Peter O'Toole")
    document.directors = ["AGNÈS VARDA", "Peter O’Toole"]

    review_import(document=document)

    directors = Film.objects.get().credits.filter(role=Credit.Role.DIRECTOR)
    assert Person.objects.count() == 2
    assert set(directors.values_list("person", flat=True)) == set(
        Person.objects.values_list("pk", flat=True)
    )
    assert directors.get(order=0).person == person
    assert name_key("Peter O’Toole") == name_key("peter o'toole")


def test_streaming_services_are_matched_by_slug_too(document):
    make_service("Amazon Prime", slug="amazon-prime-video")

    review_import(document=document)

    assert not StreamingService.objects.filter(name="Amazon Prime Video").exists()
    assert Availability.objects.filter(service__name="Amazon Prime").count() == 2


def test_availability_goes_to_the_given_region(document):
    review_import(document=document, region="gb")

    assert set(Availability.objects.values_list("region", flat=True)) == {"GB"}


def test_an_unknown_region_is_refused(document):
    with pytest.raises(ReviewImportError, match="not a country code"):
        review_import(document=document, region="XX")
    assert counts()["Film"] == 0


def test_changed_text_updates_the_draft_and_says_so(document):
    review_import(document=document)
    review = Review.objects.get()
    document.critique = "A shorter critique.\n\nIn two paragraphs."

    report = review_import(document=document)

    review.refresh_from_db()
    assert review.critique == "A shorter critique.\n\nIn two paragraphs."
    assert review.version == 2
    assert report.updated == [f"review “{review}”: critique"]
    assert Review.objects.count() == 1


def test_a_published_review_stays_published_when_its_text_is_updated(document):
    film = make_film("The Cranes Are Flying", year=1957)
    published = make_review(film, headline="A Soviet Cinematic Masterpiece", byline="Ines")

    report = review_import(document=document)

    published.refresh_from_db()
    assert published.status == Review.Status.PUBLISHED
    assert published.byline == "Ines"
    assert published.critique == document.critique
    assert any("already published" in warning for warning in report.warnings)
    assert Review.objects.count() == 1


def test_an_unchanged_published_review_is_left_alone(document):
    review_import(document=document)
    reviews_publish(reviews=Review.objects.all())

    report = review_import(document=document)

    assert not report.changed
    assert not report.warnings
    assert Review.objects.get().status == Review.Status.PUBLISHED


def test_changed_keywords_are_replaced(document):
    review_import(document=document)
    document.keywords = ["Soviet war dramas", "cranes"]

    report = review_import(document=document)

    assert set(Review.objects.get().keywords.names()) == {"cranes", "Soviet war dramas"}
    assert "keywords" in report.updated[0]


def test_keywords_differing_only_in_case_are_unchanged(document):
    review_import(document=document)
    document.keywords = [keyword.upper() for keyword in document.keywords]

    report = review_import(document=document)

    assert not report.changed


def test_a_failure_in_a_later_step_rolls_everything_back(document, monkeypatch):
    def broken_set(self, *args, **kwargs):
        raise RuntimeError("tagging failed")

    monkeypatch.setattr(_TaggableManager, "set", broken_set)

    with pytest.raises(RuntimeError, match="tagging failed"):
        review_import(document=document, accepted_credits=document.suggested_credits)

    assert set(counts().values()) == {0}


def test_a_database_conflict_is_a_clear_error_and_writes_nothing(document, monkeypatch):
    def racing_create(*args, **kwargs):
        raise IntegrityError('duplicate key value violates unique constraint "reviews_review_slug"')

    monkeypatch.setattr("reviews.services.review_create", racing_create)

    with pytest.raises(ReviewImportError, match="clashed with another change"):
        review_import(document=document)

    assert set(counts().values()) == {0}


def test_a_document_without_a_year_for_a_new_film_is_refused(document):
    document.year = None
    document.release_date = None

    with pytest.raises(ReviewImportError, match="gives no year"):
        review_import(document=document)
    assert counts()["Film"] == 0


def test_a_document_without_a_year_updates_the_only_film_of_that_title(document):
    film = make_film("The Cranes Are Flying", year=1957)
    document.year = None
    document.release_date = None

    review_import(document=document)

    assert Review.objects.get().film == film


def test_too_long_names_are_refused_before_writing(document):
    document.directors = ["X" * 300]

    with pytest.raises(ReviewImportError, match="longer than 200"):
        review_import(document=document)
    assert counts()["Film"] == 0


def test_a_suggested_credit_with_an_unknown_role_is_skipped_with_a_warning(document):
    odd = SuggestedCredit(person="Anna Someone", role="gaffer")

    report = review_import(document=document, accepted_credits=[odd])

    assert not Person.objects.filter(name="Anna Someone").exists()
    assert any("gaffer" in warning for warning in report.warnings)


def test_dry_run_reports_what_would_happen_and_writes_nothing(document):
    report = review_import(document=document, dry_run=True)

    assert report.dry_run and report.film_created and report.review_created
    assert "would create" in report.summary()
    assert set(counts().values()) == {0}


def test_review_import_file_parses_and_imports():
    report = review_import_file(
        data=FIXTURE.read_bytes(), filename=FIXTURE.name, accept_all_credits=True
    )

    assert report.review.film.title == "The Cranes Are Flying"
    assert Credit.objects.filter(role=Credit.Role.COMPOSER).count() == 1


def test_a_real_slug_collision_in_the_database_is_a_clear_error(document, monkeypatch):
    """As when two imports of a new film race: both pick the same slug, the second fails."""
    make_film("The Cranes Are Flying", year=1990)  # another film, already holding the slug
    monkeypatch.setattr("films.slugs.unique_slug", lambda model, text, **kwargs: slugify(text))
    before = counts()

    with pytest.raises(ReviewImportError, match="clashed with another change"):
        review_import(document=document)

    assert counts() == before


def test_data_that_breaks_a_database_rule_is_named_not_called_a_clash(document):
    document.release_date = datetime.date(1850, 12, 25)  # past the parser, which now warns

    with pytest.raises(ReviewImportError) as excinfo:
        review_import(document=document)

    message = str(excinfo.value)
    assert "broke a rule of the catalogue" in message
    assert "The year must be between 1870 and 2100." in message
    assert "clashed" not in message and "try again" not in message
    assert set(counts().values()) == {0}


# Concurrent editors -------------------------------------------------------------------------


def test_an_import_that_only_adds_a_genre_makes_an_open_film_form_stale(admin_client):
    film = make_film("Stalker", year=1979, release_date=datetime.date(1979, 5, 25))
    url = reverse("admin:films_film_change", args=[film.pk])
    data = film_form_data(film, loaded_version=loaded_version(admin_client.get(url)))

    report = review_import(document=parse_document(STALKER))
    response = admin_client.post(url, data)

    assert report.updated == ["film Stalker (1979): genres added: Science Fiction"]
    assert response.status_code == 200
    assert "changed by someone else since you opened it" in response.text
    film.refresh_from_db()
    assert list(film.genres.values_list("name", flat=True)) == ["Science Fiction"]
    assert film.version == 2


def test_an_import_that_only_changes_keywords_makes_an_open_review_form_stale(
    admin_client, document
):
    review_import(document=document)
    review = Review.objects.get()
    url = reverse("admin:reviews_review_change", args=[review.pk])
    data = review_form_data(review, loaded_version=loaded_version(admin_client.get(url)))
    document.keywords = ["cranes", "Soviet war dramas"]

    report = review_import(document=document)
    response = admin_client.post(url, data)

    assert report.updated == [f"review “{review}”: keywords"]
    assert response.status_code == 200
    assert "changed by someone else since you opened it" in response.text
    review.refresh_from_db()
    assert set(review.keywords.names()) == {"cranes", "Soviet war dramas"}
    assert review.version == 2


def test_an_editor_who_reloads_after_the_import_can_save(admin_client):
    film = make_film("Stalker", year=1979)
    review_import(document=parse_document(STALKER))
    url = reverse("admin:films_film_change", args=[film.pk])
    film.refresh_from_db()

    data = film_form_data(film, runtime="161", loaded_version=loaded_version(admin_client.get(url)))
    response = admin_client.post(url, data)

    assert response.status_code == 302
    film.refresh_from_db()
    assert (film.runtime, film.release_date) == (161, datetime.date(1979, 5, 25))


def test_an_import_does_not_write_back_film_columns_changed_since_it_matched(document, monkeypatch):
    film = make_film("The Cranes Are Flying", year=1957, runtime=97)
    as_matched = Film.objects.get(pk=film.pk)
    Film.objects.filter(pk=film.pk).update(runtime=98, logline="An editor's logline.")
    monkeypatch.setattr("reviews.services.film_match", lambda **kwargs: as_matched)

    review_import(document=document)

    film.refresh_from_db()
    assert (film.runtime, film.logline) == (98, "An editor's logline.")
    assert film.release_date == datetime.date(1957, 10, 12)
    assert film.version == 2


def test_an_import_does_not_write_back_review_columns_changed_since_it_matched(
    document, monkeypatch
):
    film = make_film("The Cranes Are Flying", year=1957)
    review = make_review(film, headline="A Soviet Cinematic Masterpiece", published=False)
    as_matched = Review.objects.get(pk=review.pk)
    Review.objects.filter(pk=review.pk).update(byline="Ines Marlowe", rating="4.5")
    monkeypatch.setattr("reviews.services.review_match", lambda **kwargs: as_matched)

    review_import(document=document)

    review.refresh_from_db()
    assert (review.byline, str(review.rating)) == ("Ines Marlowe", "4.5")
    assert review.critique == document.critique
    assert review.version == 2


# The film list's cache ----------------------------------------------------------------------


def test_a_dry_run_keeps_the_film_lists_cached_counts_and_an_import_does_not(document):
    version = catalogue_version()

    review_import(document=document, dry_run=True)

    assert catalogue_version() == version

    review_import(document=document)

    assert catalogue_version() != version
