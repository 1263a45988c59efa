"""What readers see on the catalogue's pages: poster grids, the filter panel, the film page's
where-to-watch panel, stills and cast portraits, filmographies by role, and a service's logo;
with hostile names, and a query count that pictures do not change."""

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from films.cache import bump
from films.models import Person, Still, StreamingService
from tests.factories import make_film, make_person, make_review
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

GRID_SIZES = 'sizes="(min-width: 56rem) 10rem, (min-width: 36rem) 30vw, 46vw"'
# A filmography is three posters across on a phone too.
FILMOGRAPHY_SIZES = 'sizes="(min-width: 56rem) 10rem, 30vw"'


def image(size, colour="navy"):
    """A small PNG made in memory: smaller than every rendition width, so quick to process."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return ContentFile(out.getvalue())


def add_poster(film, colour="navy"):
    film.poster_alt = f"Poster for {film}"
    film.poster.save("poster.png", image((120, 180), colour), save=True)
    return film


def add_portrait(person):
    person.portrait_alt = f"Portrait of {person.name}"
    person.portrait.save("portrait.png", image((96, 120), "sienna"), save=True)
    return person


def add_logo(service):
    service.logo_alt = f"{service.name} logo"
    service.logo.save("logo.png", image((64, 32), "black"), save=True)
    return service


def add_still(film, n, **fields):
    fields.setdefault("alt_text", f"A still from {film}, number {n}")
    still = Still(film=film, order=n, **fields)
    still.image.save("still.png", image((320, 180), "teal"), save=True)
    return still


def imgs(html, css_class):
    return re.findall(rf'<img [^>]*class="{css_class}"[^>]*>', html)


@pytest.fixture
def cranes():
    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        runtime=97,
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika"), ("Aleksey Batalov", "Boris")],
        availability=[("Criterion Channel", "subscription"), ("Mubi", "subscription", "GB")],
    )
    return film


# --- the film list -------------------------------------------------------------------------


def test_the_film_list_is_a_grid_of_poster_cards(client, cranes):
    make_film("Paths of Glory", year=1957, directors=["Stanley Kubrick"])
    add_poster(cranes)

    response = client.get(reverse("films:film_list"))

    # A film without a poster gets its designed placeholder, hidden from screen readers, since
    # the card's title says the same.
    assertContains(
        response,
        '<li><article class="film-card">'
        '<div class="poster-placeholder film-card__poster" aria-hidden="true">'
        '<span class="poster-placeholder__title">Paths of Glory</span>'
        '<span class="poster-placeholder__year">1957</span></div>'
        '<h2 class="film-card__title"><a href="/films/paths-of-glory/">Paths of Glory</a> '
        '<span class="film-card__year">1957</span></h2>'
        '<p class="film-card__directors"><span class="visually-hidden">Directed by </span>'
        "Stanley Kubrick</p></article></li>",
        html=True,
    )
    [poster] = imgs(response.text, "film-card__poster")
    assert GRID_SIZES in poster and 'alt=""' in poster
    assert response.text.count('<ul class="poster-grid">') == 1


def test_the_first_row_of_posters_loads_at_once_and_the_rest_lazily(client):
    for n in range(8):
        add_poster(make_film(f"Film {n}", year=1950 + n))

    posters = imgs(client.get(reverse("films:film_list")).text, "film-card__poster")

    assert len(posters) == 8
    assert ['loading="lazy"' in img for img in posters] == [False] * 5 + [True] * 3


def test_the_filters_are_a_panel_that_says_how_many_are_active(client, cranes):
    url = reverse("films:film_list")

    assertContains(
        client.get(url), '<summary class="browse__filters-toggle">Filters</summary>', html=True
    )
    response = client.get(url, {"genre": ["war", "drama"], "service": "mubi", "sort": "-year"})
    assertContains(
        response,
        '<summary class="browse__filters-toggle">Filters (3 active)</summary>',
        html=True,
    )
    html = response.text
    # The panel comes before the results (the reading order of the sidebar) but stays closed,
    # so on a phone the results follow its one line.
    assert '<details class="browse__filters">' in html
    assert html.index("browse__filters") < html.index('aria-label="Films"')
    assertContains(response, 'value="war" checked', count=1)


def test_a_service_page_shows_the_services_logo(client, cranes):
    service = add_logo(StreamingService.objects.get(name="Mubi"))

    response = client.get(service.get_absolute_url())

    [logo] = imgs(response.text, "browse__logo")
    assert 'alt="Mubi logo"' in logo
    assertContains(response, "<h1>Films on Mubi</h1>", html=True)


def test_a_service_page_costs_no_query_for_its_logo(client, cranes):
    """The service, logo included, comes from the filter's one lookup of what the address names:
    its page costs what the film list filtered by it does, with a logo or without, plus one
    query for its "New on" and "Recently left" lists."""
    add_logo(StreamingService.objects.get(name="Mubi"))
    cache.clear()  # every count with cold caches (the tests never commit, so saves clear none)
    listing = count_queries(client, reverse("films:film_list"), {"service": "mubi"})
    cache.clear()
    page = count_queries(client, reverse("films:service_detail", kwargs={"slug": "mubi"}))

    assert page == listing + 1
    assert imgs(
        client.get(reverse("films:service_detail", kwargs={"slug": "mubi"})).text, "browse__logo"
    )


def test_a_genre_page_is_a_poster_grid_of_its_films(client, cranes):
    add_poster(cranes)
    make_film("Vertigo", year=1958, genres=["Thriller"])

    response = client.get(reverse("films:genre_detail", kwargs={"slug": "war"}))

    assertContains(response, "<h1>War films</h1>", html=True)
    assert len(imgs(response.text, "film-card__poster")) == 1
    assertNotContains(response, "Vertigo")


# --- the film page -------------------------------------------------------------------------


def test_the_film_page_leads_with_poster_title_directors_runtime_and_our_rating(client, cranes):
    add_poster(cranes)
    review = make_review(cranes, rating=4.5, headline="Love and war in one breathless take")
    make_review(cranes, rating=None, headline="A second look")

    response = client.get(cranes.get_absolute_url())

    [poster] = imgs(response.text, "film-hero__poster")
    assert 'fetchpriority="high"' in poster and "loading=" not in poster
    assert 'alt="Poster for The Cranes Are Flying (1957)"' in poster
    assertContains(
        response,
        '<p class="film-hero__rating"><span class="stars" aria-hidden="true">★★★★½</span>'
        f'<a href="{review.get_absolute_url()}">filmmag rates it 4.5 out of 5</a></p>',
        html=True,
    )


def test_the_film_pages_review_cards_carry_the_standfirst_and_a_byline(client, cranes):
    make_review(
        cranes,
        headline="Love and war in one breathless take",
        standfirst="Kalatozov's camera never stops running, and neither does Veronika.",
    )

    response = client.get(cranes.get_absolute_url())

    assertContains(
        response,
        '<p class="review-card__standfirst">'
        "Kalatozov&#x27;s camera never stops running, and neither does Veronika.</p>",
        html=True,
    )
    assert re.search(r'<p class="byline review-card__meta">\s*By ', response.text)


def test_an_odd_number_of_stills_leads_with_a_full_width_one(client, cranes):
    for n in (1, 2, 3):
        add_still(cranes, n)

    html = client.get(cranes.get_absolute_url()).text

    assert html.count('class="stills__lead"') == 1
    lead = html.split('class="stills__lead"')[1].split("</li>")[0]
    assert "number 1" in lead and 'sizes="(min-width: 72rem) 48rem' in lead

    add_still(cranes, 4)
    assert "stills__lead" not in client.get(cranes.get_absolute_url()).text


def test_an_unrated_film_shows_no_rating(client, cranes):
    make_review(cranes, rating=None)

    assertNotContains(client.get(cranes.get_absolute_url()), "film-hero__rating")


def test_stills_are_figures_with_caption_and_credit_loaded_lazily(client, cranes):
    add_still(cranes, 1, caption="Veronika runs up the stairs", credit="© Mosfilm")
    add_still(cranes, 2, alt_text="Boris in the birch wood")  # no caption, no credit

    response = client.get(cranes.get_absolute_url())

    assertContains(
        response,
        '<figcaption>Veronika runs up the stairs <span class="still__credit">© Mosfilm</span>'
        "</figcaption>",
        html=True,
    )
    stills = imgs(response.text, "still__image")
    assert len(stills) == 2
    assert all('loading="lazy"' in img for img in stills)
    assert 'alt="Boris in the birch wood"' in stills[1]
    assert response.text.count("<figcaption>") == 1


def test_cast_have_portraits_or_their_initials(client, cranes):
    add_portrait(Person.objects.get(name="Tatiana Samoilova"))

    response = client.get(cranes.get_absolute_url())

    [portrait] = imgs(response.text, "person-card__portrait")
    assert 'alt=""' in portrait  # the name is right below it
    assertContains(
        response,
        '<div class="person-card"><span class="monogram person-card__portrait" '
        'aria-hidden="true">AB</span>'
        '<a class="person-card__name" href="/people/aleksey-batalov/">Aleksey Batalov</a>'
        '<span class="person-card__note">Boris</span></div>',
        html=True,
    )


def test_where_to_watch_shows_service_logos_beside_their_names(client, cranes):
    add_logo(StreamingService.objects.get(name="Criterion Channel"))

    response = client.get(cranes.get_absolute_url())

    [logo] = imgs(response.text, "service-chip__logo")
    assert 'alt=""' in logo  # the service's name follows it
    assertContains(
        response, '<span class="service-chip__name">Criterion Channel</span>', html=False
    )


def test_a_film_nowhere_to_watch_says_so(client):
    film = make_film("Lost Reels", year=1925)

    assertContains(
        client.get(film.get_absolute_url()),
        '<p class="watch__none">Not streaming in United States that we know of.</p>',
        html=True,
    )


def test_the_film_pages_queries_do_not_grow_with_its_pictures(client, cranes):
    add_poster(cranes)
    add_still(cranes, 0, caption="The first")
    add_portrait(Person.objects.get(name="Tatiana Samoilova"))
    add_logo(StreamingService.objects.get(name="Mubi"))
    url = cranes.get_absolute_url()
    client.get(url)  # the catalogue version made (which finds the next scheduled change)
    bump()  # and replaced: the page is made again, not shared from films.fragments' cache
    one = count_queries(client, url)

    for n in range(1, 24):
        add_still(cranes, n, caption=f"Still {n}", credit="© Mosfilm")
        actor = add_portrait(make_person(f"Extra {n}"))
        cranes.credits.create(person=actor, role="actor", character=f"Passer-by {n}", order=n + 2)
        service = add_logo(StreamingService.objects.create(name=f"Service {n}"))
        cranes.availabilities.create(service=service, offer_type="rent")

    # One more than when warm: the regions with offers, for the chooser, after an offer change.
    assert count_queries(client, url) == one == 8
    html = client.get(url).text
    assert len(imgs(html, "still__image")) == 24
    assert len(imgs(html, "person-card__portrait")) == 24
    assert len(imgs(html, "service-chip__logo")) == 24


# --- the person page -----------------------------------------------------------------------


@pytest.fixture
def welles():
    person = make_person(
        "Orson Welles", birth_year=1915, death_year=1985, bio="Actor.\n\nDirector."
    )
    kane = make_film("Citizen Kane", year=1941, directors=["Orson Welles"])
    make_film("Touch of Evil", year=1958, directors=["Orson Welles"])
    make_film("The Third Man", year=1949, cast=[("Orson Welles", "Harry Lime")])
    add_poster(kane)
    return person


def test_the_person_page_shows_portrait_dates_and_bio(client, welles):
    add_portrait(welles)

    response = client.get(welles.get_absolute_url())

    [portrait] = imgs(response.text, "person__portrait")
    assert 'alt="Portrait of Orson Welles"' in portrait and 'fetchpriority="high"' in portrait
    assertContains(response, '<p class="person__years">1915–1985</p>', html=True)
    assertContains(response, '<p class="person__roles">Director · Actor</p>', html=True)
    assertContains(
        response, '<div class="person__bio"><p>Actor.</p><p>Director.</p></div>', html=True
    )


def test_a_person_without_a_portrait_gets_their_initials(client, welles):
    assertContains(
        client.get(welles.get_absolute_url()),
        '<span class="monogram person__portrait" aria-hidden="true">OW</span>',
        html=True,
    )


def test_the_filmography_is_a_poster_grid_by_role_with_characters(client, welles):
    response = client.get(welles.get_absolute_url())

    assertContains(
        response,
        '<h3 id="role-1">Director <span class="filmography__count">(2)</span></h3>',
        html=True,
    )
    assertContains(
        response,
        '<section class="filmography" aria-labelledby="role-2">'
        '<h3 id="role-2">Actor <span class="filmography__count">(1)</span></h3>'
        '<ul class="poster-grid"><li><div class="film-card">'
        '<div class="poster-placeholder film-card__poster" aria-hidden="true">'
        '<span class="poster-placeholder__title">The Third Man</span>'
        '<span class="poster-placeholder__year">1949</span></div>'
        '<p class="film-card__title"><a href="/films/the-third-man/">The Third Man</a> '
        '<span class="film-card__year">1949</span></p>'
        '<p class="film-card__character">as Harry Lime</p>'
        "</div></li></ul></section>",
        html=True,
    )
    [poster] = imgs(response.text, "film-card__poster")
    assert 'alt=""' in poster and FILMOGRAPHY_SIZES in poster
    html = response.text
    assert html.index("Touch of Evil") < html.index("Citizen Kane") < html.index("The Third Man")


def test_the_person_pages_queries_do_not_grow_with_posters(client, welles):
    url = welles.get_absolute_url()
    client.get(url)  # as above
    bump()
    one = count_queries(client, url)

    for n in range(23):
        film = add_poster(make_film(f"Role {n}", year=1950 + n))
        film.credits.create(person=welles, role="actor", character=f"Part {n}")
    add_portrait(welles)

    assert count_queries(client, url) == one == 3
    assert len(imgs(client.get(url).text, "film-card__poster")) == 24


# --- hostile names -------------------------------------------------------------------------

LONG_TITLE = "The Incredibly Long and Winding Title of a Film " * 4


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Tatiana Samoilova", "TS"),
        ("Agnès Varda", "AV"),
        ("Ærøskøbing Øst", "ÆØ"),
        ("羅生門", "羅"),
        ("Михаил Калатозов", "МК"),
        ("Jean-Luc Godard", "JG"),
        ("\"Quoted\" 'and' `ticked`", "QT"),  # the first letter, past the punctuation
        ("!!!", "!"),
        ("Prince", "P"),
    ],
)
def test_initials_of_any_name(name, initials):
    assert Person(name=name).monogram == initials


def test_hostile_names_render_on_every_catalogue_page(client):
    title = '"Quoted" <b>Rashōmon</b> & 羅生門'
    film = make_film(
        title,
        year=1950,
        original_title="羅生門",
        genres=["Crime & «Mystery»"],
        directors=["Akira Kurosawa 黒澤明"],
        cast=[("Toshirō Mifune 三船敏郎", 'The "bandit" Tajōmaru'), (LONG_TITLE[:200], "")],
        availability=[("Crème <Cinéma>", "subscription"), ("Кинопоиск", "rent", "GB")],
    )
    add_still(film, 0, caption="Le «bandit» & <the> woman", credit="© 大映")
    long_film = make_film(LONG_TITLE[:200].strip(), year=1951, genres=["Crime & «Mystery»"])

    page = client.get(film.get_absolute_url())
    assertContains(
        page,
        '<h1>"Quoted" &lt;b&gt;Rashōmon&lt;/b&gt; &amp; 羅生門 '
        '<span class="film-hero__year">(1950)</span></h1>',
        html=True,
    )
    assertContains(page, '<span class="person-card__note">The "bandit" Tajōmaru</span>', html=True)
    assertContains(page, '<span class="service-chip__name">Crème &lt;Cinéma&gt;</span>', html=True)
    assertContains(page, '<h4 class="watch__region">United Kingdom</h4>', html=True)
    assertContains(
        page,
        '<figcaption>Le «bandit» &amp; &lt;the&gt; woman <span class="still__credit">© 大映</span>'
        "</figcaption>",
        html=True,
    )
    assertContains(page, 'aria-hidden="true">T三</span>')  # Toshirō Mifune 三船敏郎
    assertNotContains(page, "<b>Rashōmon</b>")

    listing = client.get(reverse("films:film_list"))
    assertContains(
        listing,
        f'<a href="{long_film.get_absolute_url()}">{long_film.title}</a>',
        html=True,
    )
    assertContains(listing, "&quot;Quoted&quot; &lt;b&gt;Rashōmon&lt;/b&gt; &amp; 羅生門")

    genre = film.genres.get()
    assertContains(client.get(genre.get_absolute_url()), "<h1>Crime &amp; «Mystery» films</h1>")
    person = Person.objects.get(name="Toshirō Mifune 三船敏郎")
    assertContains(
        client.get(person.get_absolute_url()),
        '<p class="film-card__character">as The "bandit" Tajōmaru</p>',
        html=True,
    )
