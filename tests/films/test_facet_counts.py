"""The whole catalogue's counts (FacetCount): current at the next request after any edit, on the
film list and the home page alike, and always what counting from scratch gives."""

import itertools
import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from films.counts import facet_counts_rebuild
from films.models import Availability, Credit, FacetCount, Film, Genre, StreamingService
from tests.factories import make_film, make_genre, make_offer, make_person, make_service

pytestmark = pytest.mark.django_db

FILMS = reverse("films:film_list")
HOME = reverse("reviews:home")


@pytest.fixture(autouse=True)
def pages_made_afresh(settings):
    # These tests read the counts from each made page's context, which a cached page lacks.
    settings.PAGE_CACHE_ENABLED = False


@pytest.fixture
def catalogue():
    return {
        "cranes": make_film(
            "The Cranes Are Flying",
            year=1957,
            genres=["Drama", "War"],
            directors=["Mikhail Kalatozov"],
            availability=[("Mubi", "subscription"), ("iTunes", "rent"), ("iTunes", "buy")],
        ),
        "cuba": make_film(
            "I Am Cuba",
            year=1964,
            genres=["Drama"],
            directors=["Mikhail Kalatozov"],
            availability=[("Mubi", "subscription"), ("Mubi", "rent", "GB")],
        ),
        "paths": make_film(
            "Paths of Glory",
            year=1957,
            genres=["War"],
            directors=["Stanley Kubrick"],
            availability=[("iTunes", "buy")],
        ),
    }


def stored():
    return sorted(FacetCount.objects.values_list("facet", "region", "option", "n"))


def assert_counts_as_rebuilt():
    kept = stored()
    facet_counts_rebuild()
    assert kept == stored()


def film_list_counts(client, facet, **params):
    """{option: count} of a facet as the page shows it (a shared page has no context)."""
    page = client.get(FILMS, params).text
    if facet in ("decade", "director"):
        select = re.search(rf'<select id="filter-{facet}".*?</select>', page, re.S).group()
        options = re.findall(r'<option value="([^"]+)"[^>]*>[^<]*\((\d+)\)</option>', select)
    else:
        options = re.findall(
            rf'name="{facet}" value="([^"]+)"[^>]*>[^<]*<span class="facet__count">\((\d+)\)',
            page,
        )
    return {value: int(n) for value, n in options}


def count_shown(client, params):
    """The number of films the list says it has."""
    page = client.get(FILMS, params).text
    return int(re.search(r'<p class="result-count" role="status">(\d+) films?</p>', page).group(1))


def home_counts(client, region=None):
    if region:
        client.cookies["region"] = region
    context = client.get(HOME).context
    client.cookies.pop("region", None)
    return {
        "genre": {g.slug: g.film_count for g in context["genres"]},
        "service": {s.slug: s.film_count for s in context["services"]},
        "decade": {str(decade): n for decade, _, n in context["decades"]},
    }


def test_every_kind_of_edit_keeps_the_counts_as_counting_from_scratch_gives(catalogue):
    assert_counts_as_rebuilt()
    cranes, cuba, paths = catalogue["cranes"], catalogue["cuba"], catalogue["paths"]
    comedy = make_genre("Comedy")
    edits = [
        lambda: setattr(cranes, "year", 1962) or cranes.save(),
        lambda: cranes.genres.add(comedy),
        lambda: cuba.genres.remove(Genre.objects.get(slug="drama")),
        lambda: comedy.films.add(paths, cuba),  # from the genre's side
        lambda: paths.genres.clear(),
        lambda: comedy.films.clear(),
        lambda: _bulk_write_then_rebuild(cuba),
        lambda: _move_credit(paths, make_person("Alain Resnais")),
        lambda: Credit.objects.filter(film=cranes).first().delete(),
        lambda: _move_offer(cranes, service=make_service("Criterion Channel")),
        lambda: _move_offer(cuba, region="GB"),
        lambda: Availability.objects.filter(film=paths).first().close(),
        lambda: make_offer(paths, "Mubi", "free", days_ago=3).close(),
        lambda: Availability.objects.filter(film=cranes, offer_type="rent").delete(),
        lambda: StreamingService.objects.get(slug="itunes").delete(),
        lambda: Genre.objects.get(slug="war").delete(),
        lambda: make_film("Night and Fog", year=1956, genres=["Documentary"]),
        lambda: cuba.delete(),
    ]
    for edit in edits:
        edit()
        assert_counts_as_rebuilt()


def _bulk_write_then_rebuild(film):
    Credit.objects.filter(film=film).update(role="writer")  # sends no signal
    facet_counts_rebuild()


def _move_credit(film, person):
    credit = Credit.objects.get(film=film, role="director")
    credit.person = person
    credit.save()


def _move_offer(film, **changes):
    offer = Availability.objects.filter(film=film).order_by("pk").first()
    for name, value in changes.items():
        setattr(offer, name, value)
    offer.save()


def test_a_new_genre_shows_on_the_film_list_and_the_home_page_at_once(client, catalogue):
    assert film_list_counts(client, "genre")["drama"] == 2
    assert home_counts(client)["genre"]["drama"] == 2

    catalogue["paths"].genres.add(make_genre("Drama"))

    assert film_list_counts(client, "genre")["drama"] == 3
    assert home_counts(client)["genre"]["drama"] == 3


def test_a_film_moved_to_another_decade_moves_on_both_pages(client, catalogue):
    cuba = catalogue["cuba"]
    cuba.year = 1958
    cuba.save()

    decades = film_list_counts(client, "decade")
    assert (decades.get("1950"), decades.get("1960")) == (3, None)
    assert home_counts(client)["decade"] == {"1950": 3}


def test_offers_are_counted_in_the_readers_region_on_both_pages(client, catalogue):
    assert film_list_counts(client, "service")["mubi"] == 2
    assert film_list_counts(client, "service", region="GB")["mubi"] == 1
    assert home_counts(client)["service"]["mubi"] == 2
    assert home_counts(client, region="GB")["service"] == {"mubi": 1}

    make_offer(catalogue["paths"], "Mubi", "rent", region="GB")
    Availability.objects.get(film=catalogue["cuba"], region="US").close()

    assert film_list_counts(client, "service")["mubi"] == 1
    assert film_list_counts(client, "service", region="GB")["mubi"] == 2
    assert home_counts(client, region="US")["service"]["mubi"] == 1
    assert home_counts(client, region="GB")["service"] == {"mubi": 2}


def test_an_offer_that_leaves_changes_the_offer_type_counts_and_the_single_filter_lists(
    client, catalogue
):
    assert film_list_counts(client, "offer")["buy"] == 2
    assert film_list_counts(client, "offer", service="itunes")["buy"] == 2
    assert film_list_counts(client, "service", genre="war")["itunes"] == 2

    Availability.objects.get(film=catalogue["paths"]).close()

    assert film_list_counts(client, "offer")["buy"] == 1
    assert film_list_counts(client, "offer", service="itunes")["buy"] == 1
    assert film_list_counts(client, "service", genre="war")["itunes"] == 1


def test_a_director_credit_changes_the_director_counts_at_once(client, catalogue):
    assert film_list_counts(client, "director")["mikhail-kalatozov"] == 2

    credit = Credit.objects.get(film=catalogue["cuba"], role="director")
    credit.person = make_person("Stanley Kubrick")
    credit.save()

    directors = film_list_counts(client, "director")
    assert (directors.get("mikhail-kalatozov"), directors["stanley-kubrick"]) == (1, 2)
    assert film_list_counts(client, "director", genre="drama")["stanley-kubrick"] == 1


def test_a_deleted_film_leaves_every_count(client, catalogue):
    catalogue["cranes"].delete()

    response = client.get(FILMS)
    assert "2 films" in response.content.decode()
    counts = home_counts(client)
    assert counts["genre"] == {"drama": 1, "war": 1}
    assert counts["service"] == {"itunes": 1, "mubi": 1}


def test_the_whole_list_counts_with_no_subquery_over_every_film(client, catalogue):
    with CaptureQueriesContext(connection) as queries:
        client.get(FILMS)

    # Every film, unfiltered and unsliced: always true. (The page's own ids, ordered and
    # sliced, are a subquery too: films.pagination.)
    every_film = re.compile(r'IN \(SELECT [^()]*? FROM "films_film"(?: "\w+")?\)')
    assert [q["sql"] for q in queries if "IN (SELECT" in q["sql"]]  # the page's ids
    assert not [q["sql"] for q in queries if every_film.search(q["sql"])]


def test_the_whole_list_and_the_home_page_agree(client, catalogue):
    make_film("Spirited Away", year=2001, genres=["Animation", "Drama"])
    home = home_counts(client)
    for facet in ("genre", "service", "decade"):
        shown = {k: n for k, n in film_list_counts(client, facet).items() if n}
        assert shown == home[facet], facet
    assert "4 films" in client.get(FILMS).content.decode()
    assert Film.objects.count() == 4


def test_the_command_finds_and_mends_counts_that_bulk_writes_left_behind(catalogue):
    call_command("facet_counts", "--check")  # current: no error
    Film.genres.through.objects.filter(film=catalogue["paths"]).delete()  # no signal

    # War's count and its three COMBO cells with the film's one offer, each stored and counted.
    with pytest.raises(CommandError, match="8 counts differ"):
        call_command("facet_counts", "--check")
    call_command("facet_counts")
    call_command("facet_counts", "--check")
    assert FacetCount.objects.get(facet="genre", genre__slug="war").n == 1


def by_hand(films, chosen, region):
    """{facet: {option: n}}: the counts as the list defines them, counted in Python: each facet
    counts the films that every other chosen filter lets through (service and offer type are
    one offer: each applies to the other's counts)."""

    def passes(film, skip):
        offers = [(s, o) for s, o, r in film["offers"] if r == region]
        services = chosen["service"] if "service" not in skip else set()
        kinds = chosen["offer"] if "offer" not in skip else set()
        return (
            ("genre" in skip or not chosen["genre"] or film["genres"] & chosen["genre"])
            and (
                "director" in skip
                or not chosen["director"]
                or chosen["director"] in film["directors"]
            )
            and (
                not (services or kinds)
                or any(
                    (not services or s in services) and (not kinds or o in kinds) for s, o in offers
                )
            )
        )

    counts = {"genre": Counter(), "director": Counter(), "service": Counter(), "offer": Counter()}
    for film in films:
        if passes(film, {"genre"}):
            counts["genre"].update(film["genres"])
        if passes(film, {"director"}):
            counts["director"].update(film["directors"])
        current = [(s, o) for s, o, r in film["offers"] if r == region]
        if passes(film, {"service", "offer"}):
            kinds = chosen["offer"]
            counts["service"].update({s for s, o in current if not kinds or o in kinds})
            services = chosen["service"]
            counts["offer"].update({o for s, o in current if not services or s in services})
    total = sum(bool(passes(film, set())) for film in films)
    return {name: {k: n for k, n in c.items() if n} for name, c in counts.items()}, total


def test_every_combination_of_filters_counts_as_counting_by_hand(client, settings):
    """One genre, service, offer type or director, and two of a kind, in every combination: each
    facet's counts and the total are what counting the films one by one gives (the counts take
    different paths by combination: link tables, index look-ups, one offer type's plain count)."""
    settings.SHARED_PAGES_ENABLED = False
    rows = [
        ("A", {"drama", "war"}, {"ann"}, [("mubi", "subscription", "US"), ("tubi", "free", "US")]),
        ("B", {"drama"}, {"ann", "bo"}, [("mubi", "subscription", "US"), ("mubi", "rent", "US")]),
        ("C", {"war"}, {"bo"}, [("tubi", "free", "US"), ("mubi", "rent", "GB")]),
        ("D", {"comedy", "drama"}, set(), [("itunes", "rent", "US"), ("itunes", "buy", "US")]),
        ("E", set(), {"cy"}, [("mubi", "subscription", "GB")]),
        ("F", {"comedy"}, {"ann"}, []),
    ]
    films = []
    for title, genres, directors, offers in rows:
        make_film(
            title,
            genres=sorted(genres),
            directors=sorted(directors),
            availability=[(s.capitalize(), o, r) for s, o, r in offers],
        )
        films.append({"genres": genres, "directors": directors, "offers": offers})
    choices = {
        "genre": [(), ("drama",), ("war",), ("drama", "comedy")],
        "director": [(), ("ann",)],
        "service": [(), ("mubi",), ("mubi", "tubi")],
        "offer": [(), ("subscription",), ("rent", "free")],
    }
    for region in ("US", "GB"):
        for genre, director, service, offer in itertools.product(*choices.values()):
            chosen = {"genre": set(genre), "director": director[0] if director else None}
            chosen |= {"service": set(service), "offer": set(offer)}
            params = {"genre": genre, "director": director, "service": service, "offer": offer}
            params = {k: list(v) for k, v in params.items() if v} | {"region": region}
            expected, total = by_hand(films, chosen, region)
            shown = {
                facet: {k: n for k, n in film_list_counts(client, facet, **params).items() if n}
                for facet in expected
            }
            assert (shown, total) == (expected, count_shown(client, params)), params
