import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from reviews.parser import parse_document
from reviews.services import review_import
from tests.admin_helpers import editor_client, loaded_version
from tests.factories import make_film, make_genre, make_person, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The admin_client fixture hashes a password per test; the default hasher takes a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def management_form(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def film_form_data(*, credits=(), availability=(), **fields):
    """POST data for the film add form; ``credits`` and ``availability`` are lists of dicts."""
    data = {
        "title": "The Cranes Are Flying",
        "slug": "the-cranes-are-flying",
        "original_title": "Летят журавли",
        "release_date": "1957-10-12",
        "year": "",
        "runtime": "97",
        "original_language": "Russian",
        "logline": "A young woman waits for her fiancé to return from the front.",
        "tags": "war, love",
        **management_form("credits", len(credits)),
        **management_form("availabilities", len(availability)),
        **management_form("stills", 0),
    }
    for i, credit in enumerate(credits):
        data.update({f"credits-{i}-{key}": value for key, value in credit.items()})
    for i, offer in enumerate(availability):
        data.update({f"availabilities-{i}-{key}": value for key, value in offer.items()})
    data.update(fields)
    return data


ALT = "Poster for The Cranes Are Flying (1957)"


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (2, 3), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def inline_errors(response, prefix):
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == prefix
    )
    return formset.formset.non_form_errors(), [form.errors for form in formset.formset.forms]


# Pages render


@pytest.mark.parametrize(
    "model, make",
    [
        (Film, lambda: make_film("Vertigo", directors=["Alfred Hitchcock"], genres=["Thriller"])),
        (Person, lambda: make_person("Alfred Hitchcock")),
        (Genre, lambda: make_genre("Thriller")),
        (StreamingService, lambda: make_service("Criterion Channel")),
    ],
)
def test_catalogue_admin_pages_render(admin_client, model, make):
    obj = make()
    opts = model._meta
    for url in [
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_add"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_admin_pages_have_no_inline_scripts_so_they_work_under_the_csp(admin_client):
    film = make_film("Vertigo", directors=["Alfred Hitchcock"])
    for url in [
        reverse("admin:films_film_add"),
        reverse("admin:films_film_change", args=[film.pk]),
        reverse("admin:films_film_changelist"),
    ]:
        html = admin_client.get(url).content.decode()
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts
        inline = [s for s in scripts if "src=" not in s and "application/json" not in s]
        assert inline == [], url


# Film add form with inlines


def test_film_add_form_saves_a_film_with_credits_and_availability(admin_client):
    director = make_person("Mikhail Kalatozov")
    actor = make_person("Tatiana Samoilova")
    service = make_service("Criterion Channel")
    drama = make_genre("Drama")
    data = film_form_data(
        genres=[str(drama.pk)],
        countries=["SU"],
        credits=[
            {"person": director.pk, "role": "director", "character": "", "order": "0"},
            {"person": actor.pk, "role": "actor", "character": "Veronika", "order": "1"},
        ],
        availability=[
            {
                "service": service.pk,
                "offer_type": "subscription",
                "region": "US",
                "url": "https://www.criterionchannel.com/the-cranes-are-flying",
                "last_checked": "2024-05-01",
            }
        ],
    )

    response = admin_client.post(reverse("admin:films_film_add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    film = Film.objects.get(slug="the-cranes-are-flying")
    assert film.year == 1957
    assert list(film.genres.all()) == [drama]
    assert [country.code for country in film.countries] == ["SU"]
    assert sorted(film.tags.names()) == ["love", "war"]
    assert set(film.credits.values_list("person__name", "role", "character")) == {
        ("Mikhail Kalatozov", "director", ""),
        ("Tatiana Samoilova", "actor", "Veronika"),
    }
    offer = film.availabilities.get()
    assert (offer.service, offer.offer_type, offer.region.code) == (service, "subscription", "US")


def test_film_without_release_date_or_year_gets_a_form_error(admin_client):
    data = film_form_data(release_date="", year="")

    response = admin_client.post(reverse("admin:films_film_add"), data)

    assert response.status_code == 200
    assert "year" in response.context["adminform"].form.errors
    assert not Film.objects.exists()


def test_duplicate_credit_gives_a_form_error_not_a_server_error(admin_client):
    director = make_person("Mikhail Kalatozov")
    credit = {"person": director.pk, "role": "director", "character": "", "order": "0"}
    data = film_form_data(credits=[credit, credit])

    response = admin_client.post(reverse("admin:films_film_add"), data)

    assert response.status_code == 200
    non_form_errors, _ = inline_errors(response, "credits")
    assert "Please correct the duplicate data" in str(non_form_errors)
    assert not Film.objects.exists()


def test_duplicate_credit_of_a_saved_row_gives_a_form_error(admin_client):
    film = make_film("Vertigo", directors=["Alfred Hitchcock"])
    existing = film.credits.get()
    data = film_form_data(title="Vertigo", slug=film.slug, release_date="", year="1958")
    data.update(management_form("credits", 2, initial=1))
    data.update(
        {
            "credits-0-id": existing.pk,
            "credits-0-film": film.pk,
            "credits-0-person": existing.person_id,
            "credits-0-role": "director",
            "credits-0-order": "0",
            "credits-1-film": film.pk,
            "credits-1-person": existing.person_id,
            "credits-1-role": "director",
            "credits-1-order": "1",
        }
    )

    response = admin_client.post(reverse("admin:films_film_change", args=[film.pk]), data)

    assert response.status_code == 200
    _, form_errors = inline_errors(response, "credits")
    assert "already exists" in str(form_errors[1]["__all__"])
    assert film.credits.count() == 1


def test_character_for_a_director_gives_a_form_error(admin_client):
    director = make_person("Mikhail Kalatozov")
    data = film_form_data(
        credits=[{"person": director.pk, "role": "director", "character": "Boris", "order": "0"}]
    )

    response = admin_client.post(reverse("admin:films_film_add"), data)

    assert response.status_code == 200
    _, form_errors = inline_errors(response, "credits")
    assert form_errors[0]["__all__"]
    assert not Credit.objects.exists()


def test_duplicate_availability_gives_a_form_error_not_a_server_error(admin_client):
    service = make_service("Criterion Channel")
    offer = {"service": service.pk, "offer_type": "rent", "region": "US"}
    data = film_form_data(availability=[offer, dict(offer)])

    response = admin_client.post(reverse("admin:films_film_add"), data)

    assert response.status_code == 200
    non_form_errors, _ = inline_errors(response, "availabilities")
    assert "Please correct the duplicate data" in str(non_form_errors)
    assert not Availability.objects.exists()


# Posters


def test_non_image_poster_gives_a_form_error(admin_client):
    upload = SimpleUploadedFile("poster.jpg", b"this is not a JPEG", content_type="image/jpeg")

    response = admin_client.post(
        reverse("admin:films_film_add"), film_form_data(poster=upload, poster_alt=ALT)
    )

    assert response.status_code == 200
    assert "“poster.jpg” is not a JPEG, PNG" in str(
        response.context["adminform"].form.errors["poster"]
    )
    assert not Film.objects.exists()


def test_image_poster_is_saved(admin_client):
    upload = SimpleUploadedFile("poster.png", png_bytes(), content_type="image/png")

    response = admin_client.post(
        reverse("admin:films_film_add"), film_form_data(poster=upload, poster_alt=ALT)
    )

    assert response.status_code == 302
    assert Film.objects.get().poster.name.endswith(".png")


# Autocomplete, search and filters


def test_person_autocomplete_finds_a_person_by_name(admin_client):
    kalatozov = make_person("Mikhail Kalatozov")
    make_person("Alfred Hitchcock")

    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "films", "model_name": "credit", "field_name": "person", "term": "kalat"},
    )

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(kalatozov.pk), "text": "Mikhail Kalatozov"}]


def test_service_and_genre_autocomplete_work(admin_client):
    service = make_service("Criterion Channel")
    genre = make_genre("Drama")

    services = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "films",
            "model_name": "availability",
            "field_name": "service",
            "term": "crit",
        },
    ).json()["results"]
    genres = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "films", "model_name": "film", "field_name": "genres", "term": "dra"},
    ).json()["results"]

    assert [r["id"] for r in services] == [str(service.pk)]
    assert [r["id"] for r in genres] == [str(genre.pk)]


def changelist_films(response):
    return list(response.context["cl"].result_list)


def test_film_changelist_search_finds_a_film_by_its_directors_name(admin_client):
    cranes = make_film("The Cranes Are Flying", directors=["Mikhail Kalatozov"])
    make_film("Vertigo", directors=["Alfred Hitchcock"])

    response = admin_client.get(reverse("admin:films_film_changelist"), {"q": "kalatozov"})

    assert changelist_films(response) == [cranes]


def test_film_changelist_search_finds_a_film_by_its_original_title(admin_client):
    cranes = make_film("The Cranes Are Flying", original_title="Летят журавли")
    make_film("Vertigo")

    response = admin_client.get(reverse("admin:films_film_changelist"), {"q": "журавли"})

    assert changelist_films(response) == [cranes]


def test_film_changelist_lists_directors_and_genres(admin_client):
    make_film("The Cranes Are Flying", directors=["Mikhail Kalatozov"], genres=["Drama", "War"])

    response = admin_client.get(reverse("admin:films_film_changelist"))

    assert response.status_code == 200
    assert '<td class="field-director_names">Mikhail Kalatozov</td>' in response.content.decode()
    assert '<td class="field-genre_names">Drama, War</td>' in response.content.decode()


def test_decade_filter_offers_only_decades_with_films_and_filters_by_them(admin_client):
    cranes = make_film("The Cranes Are Flying", year=1957)
    make_film("Earth", year=1930)
    make_film("I Am Cuba", year=1964)
    url = reverse("admin:films_film_changelist")

    response = admin_client.get(url, {"decade": "1950"})

    assert changelist_films(response) == [cranes]
    decade_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "decade"
    )
    assert decade_filter.lookup_choices == [("1960", "1960s"), ("1950", "1950s"), ("1930", "1930s")]


def test_decade_filter_with_a_bad_value_does_not_crash(admin_client):
    make_film("The Cranes Are Flying", year=1957)

    response = admin_client.get(reverse("admin:films_film_changelist"), {"decade": "fifties"})

    assert response.status_code == 302
    assert "e=1" in response.url


def test_film_changelist_filters_by_genre_and_streaming_service(admin_client):
    cranes = make_film(
        "The Cranes Are Flying", genres=["Drama"], availability=[("Criterion Channel", "rent")]
    )
    make_film("Vertigo", genres=["Thriller"], availability=[("Max", "rent")])
    url = reverse("admin:films_film_changelist")

    drama = Genre.objects.get(name="Drama")
    criterion = StreamingService.objects.get(name="Criterion Channel")

    by_genre = admin_client.get(url, {"genres__id__exact": drama.pk})
    by_service = admin_client.get(url, {"availabilities__service__id__exact": criterion.pk})

    assert changelist_films(by_genre) == [cranes]
    assert changelist_films(by_service) == [cranes]


def count_changelist_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_film_changelist_runs_a_constant_number_of_queries(admin_client):
    url = reverse("admin:films_film_changelist")

    def add_films(n, start):
        for i in range(start, start + n):
            make_film(
                f"Film {i}",
                genres=[f"Genre {i % 3}"],
                directors=[f"Director {i}"],
                cast=[(f"Actor {i}", "Lead")],
                availability=[(f"Service {i % 2}", "rent")],
            )

    add_films(5, 0)
    with_5 = count_changelist_queries(admin_client, url)
    add_films(25, 5)
    with_30 = count_changelist_queries(admin_client, url)

    assert with_30 == with_5


def test_film_change_page_has_a_view_on_site_link(admin_client):
    film = make_film("Vertigo")

    response = admin_client.get(reverse("admin:films_film_change", args=[film.pk]))

    assert response.context["has_absolute_url"]
    assert "View on site" in response.content.decode()


def test_credit_inline_lists_credits_in_role_order_then_by_billing_order(admin_client):
    film = make_film(
        "Vertigo",
        directors=["Alfred Hitchcock"],
        cast=[("James Stewart", "Scottie"), ("Kim Novak", "Madeleine")],
    )
    Credit.objects.create(film=film, person=make_person("Bernard Herrmann"), role="composer")

    response = admin_client.get(reverse("admin:films_film_change", args=[film.pk]))

    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "credits"
    )
    people = [form.instance.person.name for form in formset.formset.initial_forms]
    # Credit.Role's order: director first, crew, then the cast in billing order.
    assert people == ["Alfred Hitchcock", "Bernard Herrmann", "James Stewart", "Kim Novak"]


# People, genres, services


def test_person_change_page_shows_a_read_only_filmography(admin_client):
    film = make_film("Vertigo", directors=["Alfred Hitchcock"])
    person = Person.objects.get(name="Alfred Hitchcock")

    response = admin_client.get(reverse("admin:films_person_change", args=[person.pk]))

    html = response.content.decode()
    assert "Filmography" in html
    assert reverse("admin:films_film_change", args=[film.pk]) in html
    assert 'name="credits-0-role"' not in html  # read-only: no editable inputs


def test_person_change_page_runs_a_constant_number_of_queries(admin_client):
    person = make_person("Alfred Hitchcock")

    def count():
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(reverse("admin:films_person_change", args=[person.pk]))
        return len(queries)

    make_film(directors=[person.name])
    with_1 = count()
    for _ in range(10):
        make_film(directors=[person.name])

    assert count() == with_1


def test_person_change_form_saves_and_keeps_the_filmography(admin_client):
    make_film("Vertigo", directors=["Alfred Hitchcock"])
    person = Person.objects.get(name="Alfred Hitchcock")
    url = reverse("admin:films_person_change", args=[person.pk])
    data = {
        "name": "Alfred Hitchcock",
        "slug": person.slug,
        "birth_year": "1899",
        "death_year": "1980",
        **management_form("credits", 1, initial=1),
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.birth_year, person.death_year) == (1899, 1980)
    assert person.credits.count() == 1


def test_person_changelist_search_by_original_name(admin_client):
    kalatozov = make_person("Mikhail Kalatozov", original_name="Михаил Калатозов")
    make_person("Alfred Hitchcock")

    response = admin_client.get(reverse("admin:films_person_changelist"), {"q": "Калатозов"})

    assert list(response.context["cl"].result_list) == [kalatozov]


def test_person_add_form_saves(admin_client):
    response = admin_client.post(
        reverse("admin:films_person_add"),
        {"name": "Sergei Urusevsky", "slug": "sergei-urusevsky", "birth_year": "1908"},
    )

    assert response.status_code == 302
    assert Person.objects.get(slug="sergei-urusevsky").birth_year == 1908


def test_genre_and_service_changelists_count_films(admin_client):
    make_film("Vertigo", genres=["Thriller"], availability=[("Max", "rent"), ("Max", "buy")])
    make_film("Psycho", genres=["Thriller"], availability=[("Max", "rent")])
    make_genre("Western")

    genres = admin_client.get(reverse("admin:films_genre_changelist"))
    services = admin_client.get(reverse("admin:films_streamingservice_changelist"))
    unused = admin_client.get(reverse("admin:films_genre_changelist"), {"in_use": "no"})

    assert {g.name: g.film_count for g in genres.context["cl"].result_list} == {
        "Thriller": 2,
        "Western": 0,
    }
    assert [(s.name, s.film_count) for s in services.context["cl"].result_list] == [("Max", 2)]
    assert [g.name for g in unused.context["cl"].result_list] == ["Western"]


# Concurrent edits


def test_second_editor_cannot_overwrite_a_film_changed_since_they_opened_it():
    film = make_film("Vertigo", year=1958, runtime=128)
    url = reverse("admin:films_film_change", args=[film.pk])
    alice, bob = editor_client("alice"), editor_client("bob")
    alice_version = loaded_version(alice.get(url))
    bob_version = loaded_version(bob.get(url))

    def save(client, runtime, version):
        data = film_form_data(
            title="Vertigo", slug=film.slug, release_date="", year="1958", runtime=runtime
        )
        return client.post(url, {**data, "loaded_version": version})

    assert save(alice, "129", alice_version).status_code == 302
    response = save(bob, "130", bob_version)

    assert response.status_code == 200
    assert "changed by someone else since you opened it" in response.text
    film.refresh_from_db()
    assert (film.runtime, film.version) == (129, 2)


def test_an_import_that_changes_a_film_makes_an_open_change_form_stale(admin_client):
    film = make_film("Stalker", year=1979)
    url = reverse("admin:films_film_change", args=[film.pk])
    version = loaded_version(admin_client.get(url))
    review_import(
        document=parse_document(
            "Stalker (1979)\nTitle: Stalker\nRelease Date: 25 May 1979\n"
            "Synopsis\nThree men.\nReview\nHaunting.\nConclusion\nSee it.\n"
        )
    )
    data = film_form_data(title="Stalker", slug=film.slug, release_date="", year="1979")
    response = admin_client.post(url, {**data, "loaded_version": version})

    assert response.status_code == 200
    assert "changed by someone else" in response.text
    film.refresh_from_db()
    assert str(film.release_date) == "1979-05-25"
