import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

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
    assertContains(
        response,
        '<h1>The Cranes Are Flying <span class="film-hero__year">(1957)</span></h1>',
        html=True,
    )
    assertContains(response, "Летят журавли")
    assertContains(
        response,
        '<p class="film-hero__directors">Directed by '
        '<a href="/people/mikhail-kalatozov/">Mikhail Kalatozov</a></p>',
        html=True,
    )
    assertContains(
        response,
        '<ul class="film-hero__facts" aria-label="At a glance">'
        "<li>1957</li><li>97 minutes</li></ul>",
        html=True,
    )
    html = response.content.decode()
    assert html.index("Tatiana Samoilova") < html.index("Aleksey Batalov")
    assertContains(
        response,
        '<div class="person-card"><span class="monogram person-card__portrait" aria-hidden="true">'
        'TS</span><a class="person-card__name" href="/people/tatiana-samoilova/">'
        'Tatiana Samoilova</a><span class="person-card__note">Veronika</span></div>',
        html=True,
    )
    assertContains(
        response,
        '<div class="crew__role"><dt>Cinematographer</dt>'
        '<dd><a href="/people/sergei-urusevsky/">Sergei Urusevsky</a></dd></div>',
        html=True,
    )


def chip(slug, name):
    return (
        f'<li><a class="service-chip" href="/services/{slug}/">'
        f'<span class="service-chip__name">{name}</span></a></li>'
    )


def test_where_to_watch_shows_the_readers_region_by_offer_type_then_the_others(client, cranes):
    response = client.get(cranes.get_absolute_url())

    assertContains(
        response,
        '<h2 id="watch-heading">Where to watch '
        '<span class="watch__in">in United States</span></h2>',
        html=True,
    )
    assertContains(
        response,
        '<div class="watch__group"><h3 class="watch__offer">Subscription</h3>'
        f'<ul class="watch__services">{chip("criterion-channel", "Criterion Channel")}</ul></div>',
        html=True,
    )
    assertContains(
        response,
        '<div class="watch__group"><h3 class="watch__offer">Rent</h3>'
        f'<ul class="watch__services">{chip("google-play", "Google Play")}'
        f"{chip('itunes', 'iTunes')}</ul></div>",
        html=True,
    )
    assertContains(
        response,
        '<div class="watch__group"><h3 class="watch__offer">Buy</h3>'
        f'<ul class="watch__services">{chip("itunes", "iTunes")}</ul></div>',
        html=True,
    )
    assertContains(
        response,
        '<div class="watch__group"><h4 class="watch__region">United Kingdom</h4>'
        '<p class="watch__offer-type">Rent</p>'
        f'<ul class="watch__services">{chip("google-play", "Google Play")}</ul></div>',
        html=True,
    )
    html = response.content.decode()
    assert html.index("Buy") < html.index("In other regions") < html.index("United Kingdom</h4>")


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


def test_a_long_career_shows_the_latest_films_of_each_role_and_a_page_of_all(client):
    """An actor with 130 films: the page lists the latest 24 and links to the rest, which come a
    page at a time; a role the person never had shows the whole filmography."""
    person = make_person("Busy Actor")
    for n in range(130):
        make_film(f"Picture {n:03}", year=1900 + n, cast=[("Busy Actor", f"Part {n}")])
    make_film("Only Directed", year=1950, directors=["Busy Actor"])
    url = person.get_absolute_url()

    page = client.get(url).content.decode()
    assert "Picture 129" in page and "Picture 106" in page and "Picture 105" not in page
    assert "Only Directed" in page
    assertContains(
        client.get(url),
        '<a href="?role=actor">All 130 films: actor</a>',
        html=True,
    )

    first = client.get(url, {"role": "actor"})
    assert first.status_code == 200
    html = first.content.decode()
    assert "Picture 129" in html and "Picture 034" in html and "Picture 033" not in html
    assert "Only Directed" not in html
    assert "Page 1 of 2" in html

    last = client.get(url, {"role": "actor", "page": "2"}).content.decode()
    assert "Picture 033" in last and "Picture 000" in last and "Picture 034" not in last

    for odd in ({"role": "composer"}, {"role": "x" * 500}, {"role": "actor", "page": "999"}):
        assert client.get(url, odd).status_code == 200
    assert "Only Directed" in client.get(url, {"role": "composer"}).content.decode()
