"""Issue acceptance, end to end: the seed film entered through the admin alone, then found by a
reader through the film list's filters, with facet counts."""

import pytest
from django.urls import reverse
from django.utils.text import slugify

from films.models import Film, Genre, Person, StreamingService
from reviews.models import Review
from tests.films.test_admin import film_form_data

pytestmark = pytest.mark.django_db


def admin_add(client, model_name, data, app="films"):
    response = client.post(reverse(f"admin:{app}_{model_name}_add"), data)
    assert response.status_code == 302, response.context and response.context["errors"]


def test_seed_film_entered_in_the_admin_is_found_by_genre_director_and_service(
    admin_client, client
):
    for name in ["Drama", "War", "Romance", "Comedy"]:
        admin_add(admin_client, "genre", {"name": name, "slug": slugify(name)})
    for name in ["Criterion Channel", "Amazon Prime Video", "iTunes", "Google Play"]:
        admin_add(admin_client, "streamingservice", {"name": name, "slug": slugify(name)})
    people = [
        "Mikhail Kalatozov",
        "Tatiana Samoilova",
        "Aleksey Batalov",
        "Sergei Urusevsky",
        "Moisei Vainberg",
    ]
    for name in people:
        admin_add(admin_client, "person", {"name": name, "slug": slugify(name)})
    person = {p.name: p.pk for p in Person.objects.all()}
    service = {s.name: s.pk for s in StreamingService.objects.all()}
    genre = {g.name: g.pk for g in Genre.objects.all()}

    offers = [("Criterion Channel", "subscription")] + [
        (name, offer)
        for name in ["Amazon Prime Video", "iTunes", "Google Play"]
        for offer in ["rent", "buy"]
    ]
    admin_add(
        admin_client,
        "film",
        film_form_data(
            genres=[genre["Drama"], genre["War"], genre["Romance"]],
            countries=["SU"],
            credits=[
                {"person": person["Mikhail Kalatozov"], "role": "director", "order": "0"},
                {"person": person["Sergei Urusevsky"], "role": "cinematographer", "order": "0"},
                {"person": person["Moisei Vainberg"], "role": "composer", "order": "0"},
                {
                    "person": person["Tatiana Samoilova"],
                    "role": "actor",
                    "character": "Veronika",
                    "order": "1",
                },
                {
                    "person": person["Aleksey Batalov"],
                    "role": "actor",
                    "character": "Boris",
                    "order": "2",
                },
            ],
            availability=[
                {"service": service[name], "offer_type": offer, "region": "US"}
                for name, offer in offers
            ],
        ),
    )
    # A second War film elsewhere, so the counts have something to tell apart.
    admin_add(
        admin_client,
        "film",
        film_form_data(
            title="Dr. Strangelove",
            slug="dr-strangelove",
            original_title="",
            release_date="1964-01-29",
            genres=[genre["War"], genre["Comedy"]],
            availability=[{"service": service["iTunes"], "offer_type": "rent", "region": "US"}],
        ),
    )
    film = Film.objects.get(slug="the-cranes-are-flying")
    assert film.year == 1957 and film.availabilities.count() == 7

    response = client.get(
        reverse("films:film_list"),
        {"genre": "war", "director": "mikhail-kalatozov", "service": "criterion-channel"},
    )

    assert [f.title for f in response.context["films"]] == ["The Cranes Are Flying"]
    html = response.content.decode()
    assert "1 film" in html
    assert 'value="war" checked>\n      War <span class="facet__count">(1)</span>' in html
    assert 'Comedy <span class="facet__count">(0)</span>' in html
    assert 'Criterion Channel <span class="facet__count">(1)</span>' in html
    assert 'iTunes <span class="facet__count">(1)</span>' in html
    assert "Mikhail Kalatozov (1)</option>" in html


def test_review_written_in_the_admin_is_published_on_the_film_page(admin_client, client):
    film = Film.objects.create(title="The Cranes Are Flying", year=1957)
    data = {
        "film": film.pk,
        "headline": "A Soviet Cinematic Masterpiece",
        "slug": "a-soviet-cinematic-masterpiece",
        "byline": "Ines Marlowe",
        "rating": "5.0",
        "synopsis": "Veronika and Boris.",
        "critique": "Paragraph one.\n\nParagraph two.",
        "criticisms": "Melodrama.",
        "conclusion": "A landmark.",
        "keywords": "Soviet war dramas, Mikhail Kalatozov films",
        "status": "published",
        "published_at_0": "2020-01-01",
        "published_at_1": "09:00:00",
        "loaded_version": "",
    }
    admin_add(admin_client, "review", data, app="reviews")
    review = Review.objects.get()

    film_page = client.get(film.get_absolute_url()).content.decode()
    review_page = client.get(review.get_absolute_url()).content.decode()

    assert "A Soviet Cinematic Masterpiece" in film_page
    assert "<p>Paragraph one.</p><p>Paragraph two.</p>" in review_page
    assert "By Ines Marlowe" in review_page
