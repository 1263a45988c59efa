import pytest
from django.urls import reverse

from tests.factories import make_film, make_person, make_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def cranes():
    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        runtime=97,
        genres=["Drama", "War", "Romance"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika"), ("Aleksey Batalov", "Boris")],
        availability=[
            ("Criterion Channel", "subscription"),
            ("iTunes", "rent"),
            ("iTunes", "buy"),
            ("Google Play", "rent", "GB"),
            ("Google Play", "rent", "US"),
        ],
    )
    film.credits.create(person=make_person("Sergei Urusevsky"), role="cinematographer")
    return film


def test_film_page_shows_facts_cast_crew_and_where_to_watch(client, cranes):
    response = client.get(cranes.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>The Cranes Are Flying" in html
    assert "Летят журавли" in html
    assert "97 minutes" in html
    assert "Mikhail Kalatozov" in html
    assert html.index("Tatiana Samoilova") < html.index("Aleksey Batalov")
    assert "Veronika" in html
    assert "Cinematographer" in html and "Sergei Urusevsky" in html
    assert "Subscription" in html and "Criterion Channel" in html
    assert "United Kingdom:" in html and "United States:" in html
    rent = html[html.index("<h3>Rent</h3>") :]
    assert rent.index("United States:") < rent.index("United Kingdom:")  # the site's region first


def test_film_page_lists_only_published_reviews(client, cranes):
    make_review(cranes, headline="A masterpiece of motion")
    make_review(cranes, headline="Draft thoughts", published=False)

    response = client.get(cranes.get_absolute_url())

    assert "A masterpiece of motion" in response.content.decode()
    assert "Draft thoughts" not in response.content.decode()


def test_unknown_film_slug_is_404(client):
    response = client.get(reverse("films:film_detail", kwargs={"slug": "no-such-film"}))

    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_person_page_groups_filmography_by_role_newest_first(client):
    person = make_person("Orson Welles")
    make_film("Citizen Kane", year=1941, directors=["Orson Welles"])
    make_film("Touch of Evil", year=1958, directors=["Orson Welles"])
    make_film("The Third Man", year=1949, cast=[("Orson Welles", "Harry Lime")])

    html = client.get(person.get_absolute_url()).content.decode()

    assert html.index("Director") < html.index("Actor")
    assert html.index("Touch of Evil") < html.index("Citizen Kane")
    assert "as Harry Lime" in html
