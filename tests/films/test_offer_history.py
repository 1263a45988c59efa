"""Where to watch, over time: offers are closed, not deleted; they come back as new rows; the
service pages list what is new and what left, with feeds; the admin lists offers to check."""

from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from films.cache import current_version
from films.models import Availability, Film
from reviews.parser import parse_document
from reviews.services import review_import
from tests.factories import make_film, make_offer, make_service, make_user
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
HOSTILE = "<b>Летят</b> 羅生門 & “🎬” الرسالة"
FIXTURE = Path(settings.BASE_DIR) / "reviews/demo/reviews/the-cranes-are-flying.txt"


def day(days_ago):
    return TODAY() - timedelta(days=days_ago)


def long_date(value):
    return f"{value.day} {value:%B %Y}"


def film_change_data(film, offers, changes=None):
    """The film change form as posted, with ``offers`` (current ones) in the inline; ``changes``:
    {offer pk: {field: value}} (``DELETE``: "on" to tick Delete)."""
    data = {
        "title": film.title,
        "slug": film.slug,
        "release_date": "",
        "year": str(film.year),
        "loaded_version": str(film.version),
        "credits-TOTAL_FORMS": "0",
        "credits-INITIAL_FORMS": "0",
        "stills-TOTAL_FORMS": "0",
        "stills-INITIAL_FORMS": "0",
        "availabilities-TOTAL_FORMS": str(len(offers)),
        "availabilities-INITIAL_FORMS": str(sum(1 for o in offers if o.pk)),
    }
    for i, offer in enumerate(offers):
        row = {
            "id": offer.pk or "",
            "film": film.pk,
            "service": offer.service_id,
            "offer_type": offer.offer_type,
            "region": offer.region.code if offer.region else "US",
            "url": offer.url,
            **(changes or {}).get(offer.pk, {}),
        }
        data.update({f"availabilities-{i}-{key}": value for key, value in row.items()})
        # As a browser posts it: the region's default is callable, so its form sends it twice.
        data[f"initial-availabilities-{i}-region"] = row["region"]
    return data


def change_film(client, film, offers, changes=None):
    response = client.post(
        reverse("admin:films_film_change", args=[film.pk]),
        film_change_data(film, offers, changes),
    )
    assert response.status_code == 302, response.context and response.context["errors"]


# --- Removing, correcting and reopening in the admin -----------------------------------------


def test_deleting_an_offer_in_the_film_admin_closes_it_and_the_film_page_says_when(admin_client):
    film = make_film(HOSTILE)
    offer = make_offer(film, "Netflix", days_ago=100, url="https://netflix.example/cranes")

    change_film(admin_client, film, [offer], {offer.pk: {"DELETE": "on"}})

    offer.refresh_from_db()
    assert (offer.ended, offer.last_checked, offer.first_seen) == (TODAY(), TODAY(), day(100))
    page = admin_client.get(film.get_absolute_url())
    assertContains(
        page,
        '<p class="watch__none">Not streaming in United States that we know of.</p>',
        html=True,
    )
    assertContains(
        page,
        f'<li>Left <a href="/services/netflix/">Netflix</a> (US) on '
        f'<time datetime="{TODAY():%Y-%m-%d}">{long_date(TODAY())}</time></li>',
        html=True,
    )


def test_an_offer_entered_today_and_deleted_is_removed_as_a_correction(admin_client):
    film = make_film("Vertigo")
    offer = make_offer(film, "Netflix")

    change_film(admin_client, film, [offer], {offer.pk: {"DELETE": "on"}})

    assert not Availability.objects.exists()
    assertNotContains(admin_client.get(film.get_absolute_url()), "Left ")


def test_a_changed_offer_in_the_film_admin_counts_as_checked(admin_client):
    film = make_film("Vertigo")
    changed = make_offer(film, "Netflix", days_ago=200)
    untouched = make_offer(film, "Mubi", days_ago=200)

    change_film(
        admin_client, film, [changed, untouched], {changed.pk: {"url": "https://n.example/v"}}
    )

    changed.refresh_from_db()
    untouched.refresh_from_db()
    assert (changed.url, changed.last_checked) == ("https://n.example/v", TODAY())
    assert untouched.last_checked == day(200)  # saving the film says nothing about its links


def test_the_film_admin_lists_only_current_offers_and_shows_past_ones_read_only(admin_client):
    film = make_film("Vertigo")
    make_offer(film, "Netflix", days_ago=50)
    gone = make_offer(film, HOSTILE, "rent", days_ago=90, left_days_ago=20)

    response = admin_client.get(reverse("admin:films_film_change", args=[film.pk]))

    inline = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "availabilities"
    )
    assert [o.service.name for o in inline.formset.get_queryset()] == ["Netflix"]
    change_url = reverse("admin:films_availability_change", args=[gone.pk])
    assertContains(response, f'<a href="{change_url}">')
    assertContains(response, "&lt;b&gt;Летят&lt;/b&gt;")  # the hostile service name, escaped


def test_an_offer_that_comes_back_is_a_new_row_and_the_old_one_stays(admin_client):
    film = make_film("Vertigo")
    service = make_service("Netflix")
    old = make_offer(film, service, days_ago=300, left_days_ago=100)
    back = Availability(film=film, service=service, offer_type="subscription", region="US")

    change_film(admin_client, film, [back])

    rows = list(film.availabilities.order_by("first_seen"))
    assert [(r.pk == old.pk, r.first_seen, r.ended) for r in rows] == [
        (True, day(300), day(100)),
        (False, TODAY(), None),
    ]
    page = admin_client.get(film.get_absolute_url())
    assertContains(page, '<span class="service-chip__name">Netflix</span>', html=True)
    assertNotContains(page, "Left ")


def test_the_same_offer_twice_in_the_inline_is_a_form_error(admin_client):
    film = make_film("Vertigo")
    service = make_service("Netflix")
    new = [Availability(film=film, service=service, offer_type="rent") for _ in range(2)]

    response = admin_client.post(
        reverse("admin:films_film_change", args=[film.pk]), film_change_data(film, new)
    )

    assert response.status_code == 200
    assertContains(response, "Please correct the duplicate data")
    assert not Availability.objects.exists()


def test_only_one_open_offer_per_key_but_any_number_of_closed_ones():
    film = make_film("Vertigo")
    make_offer(film, "Netflix", days_ago=30, left_days_ago=20)
    make_offer(film, "Netflix", days_ago=10, left_days_ago=5)
    make_offer(film, "Netflix")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_offer(film, "Netflix", days_ago=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_offer(film, "Netflix", days_ago=1, left_days_ago=3)  # left before first seen


def offer_admin(*, superuser):
    user = make_user(staff=True, superuser=superuser)
    if not superuser:
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="films",
                codename__in=["view_availability", "change_availability", "delete_availability"],
            )
        )
    client = admin_client_for(user)
    return client


def admin_client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_only_superusers_truly_delete_an_offer_and_editors_correct_it_instead():
    offer = make_offer(make_film("Vertigo"), "Netflix", days_ago=40, left_days_ago=10)
    delete_url = reverse("admin:films_availability_delete", args=[offer.pk])
    change_url = reverse("admin:films_availability_change", args=[offer.pk])
    editor = offer_admin(superuser=False)

    assert editor.post(delete_url, {"post": "yes"}).status_code == 403
    # A closure made by mistake is undone by emptying "left on".
    response = editor.post(
        change_url,
        {
            "film": offer.film_id,
            "service": offer.service_id,
            "offer_type": "subscription",
            "region": "US",
            "url": "",
            "first_seen": str(day(40)),
            "last_checked": str(day(10)),
            "ended": "",
        },
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.ended, offer.last_checked) == (None, TODAY())  # saved: checked today

    assert offer_admin(superuser=True).post(delete_url, {"post": "yes"}).status_code == 302
    assert not Availability.objects.exists()


# --- The import ------------------------------------------------------------------------------


def document_saying(streaming):
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines = [f"Streaming Services: {streaming}" if line.startswith("Streaming") else line
             for line in lines]  # fmt: skip
    return parse_document("\n".join(lines).encode(), filename="cranes.txt")


def test_an_import_saying_not_currently_streaming_closes_the_films_offers_in_its_region():
    film = make_film("The Cranes Are Flying", release_date=timezone.datetime(1957, 10, 12).date())
    us = make_offer(film, "Criterion Channel", days_ago=100)
    gb = make_offer(film, "Mubi", region="GB", days_ago=100)

    report = review_import(document=document_saying("Not currently streaming."), region="US")

    us.refresh_from_db()
    gb.refresh_from_db()
    assert (us.ended, gb.ended) == (TODAY(), None)
    assert any("closed" in line and "Criterion Channel" in line for line in report.updated)
    assert Availability.objects.count() == 2


def test_an_import_listing_an_open_offer_counts_as_a_check_and_changes_nothing_else():
    film = make_film("The Cranes Are Flying", release_date=timezone.datetime(1957, 10, 12).date())
    offer = make_offer(film, "Criterion Channel", days_ago=100)

    report = review_import(document=document_saying("Available on Criterion Channel."))

    offer.refresh_from_db()
    assert (offer.first_seen, offer.last_checked, offer.ended) == (day(100), TODAY(), None)
    assert "offer Criterion Channel – subscription (US)" in report.unchanged
    assert not [line for line in report.created + report.updated if "offer" in line]


def test_an_import_listing_an_offer_that_had_left_opens_it_again_as_a_new_row():
    film = make_film("The Cranes Are Flying", release_date=timezone.datetime(1957, 10, 12).date())
    old = make_offer(film, "Criterion Channel", days_ago=100, left_days_ago=50)

    report = review_import(document=document_saying("Available on Criterion Channel."))

    back = film.availabilities.current().get()
    assert back.pk != old.pk and back.first_seen == TODAY()
    assert "offer Criterion Channel – subscription (US) (back after leaving)" in report.created


# --- Public pages: only current offers -------------------------------------------------------


def test_closed_offers_are_not_counted_or_listed_anywhere_public(client):
    gone = make_film("Gone")
    make_offer(gone, "Netflix", days_ago=100, left_days_ago=10)
    make_offer(make_film("Here"), "Mubi", days_ago=100)

    listing = client.get(reverse("films:film_list"), {"service": "netflix"})
    assertContains(listing, "0 films")
    assertNotContains(listing, "Gone")
    home = client.get(reverse("reviews:home"))
    assertNotContains(home, "/services/netflix/")
    assertContains(home, "/services/mubi/")


# --- Service pages: new on, recently left, feeds ---------------------------------------------


@pytest.fixture
def netflix_history():
    netflix = make_service(HOSTILE)
    arrived = make_film("Arrived " + HOSTILE)
    make_offer(arrived, netflix, days_ago=2)
    make_offer(arrived, netflix, "rent", "GB", days_ago=2)
    make_offer(make_film("Long there"), netflix, days_ago=400)
    make_offer(make_film("Left lately"), netflix, "buy", days_ago=300, left_days_ago=4)
    make_offer(make_film("Left long ago"), netflix, days_ago=300, left_days_ago=200)
    returned = make_film("Came back")
    make_offer(returned, netflix, days_ago=300, left_days_ago=20)
    make_offer(returned, netflix, days_ago=3)
    return netflix


def section_titles(response, heading_id):
    html = response.content.decode()
    section = html[html.index(f'id="{heading_id}"') :]
    section = section[: section.index("</section>")]
    return [
        chunk.split("</a>")[0].split(">")[-1] for chunk in section.split('<a href="/films/')[1:]
    ]


def test_service_page_lists_what_is_new_and_what_recently_left(client, netflix_history):
    response = client.get(netflix_history.get_absolute_url())

    new = section_titles(response, "new-on-heading")
    assert new == ["Arrived &lt;b&gt;Летят&lt;/b&gt; 羅生門 &amp; “🎬” الرسالة", "Came back"]
    assert section_titles(response, "left-heading") == ["Left lately"]
    assertContains(response, "Subscription US, Rent GB")  # one film, its offers of the day
    assertContains(
        response,
        '<h2 id="new-on-heading">New on &lt;b&gt;Летят&lt;/b&gt; 羅生門 &amp; “🎬” الرسالة</h2>',
        html=True,
    )


def test_service_page_says_when_nothing_changed_lately(client):
    service = make_service("Mubi")
    make_offer(make_film("Old"), service, days_ago=400)
    response = client.get(service.get_absolute_url())
    assertContains(response, '<p class="empty">Nothing new in the last 30 days.</p>', html=True)
    assertContains(
        response, '<p class="empty">Nothing has left in the last 30 days.</p>', html=True
    )


def test_service_page_has_autodiscovery_links_for_both_feeds(client, netflix_history):
    response = client.get(netflix_history.get_absolute_url())
    slug = netflix_history.slug
    for kind, mime in [
        ("new_feed", "rss"),
        ("new_atom", "atom"),
        ("left_feed", "rss"),
        ("left_atom", "atom"),
    ]:
        url = reverse(f"films:service_{kind}", kwargs={"slug": slug})
        assertContains(response, f'type="application/{mime}+xml"')
        assertContains(response, f'href="{url}"')


def parsed_feed(client, name, service):
    response = client.get(reverse(f"films:{name}", kwargs={"slug": service.slug}))
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return feed


@pytest.mark.parametrize("name", ["service_new_feed", "service_new_atom"])
def test_new_on_feed_has_the_current_arrivals_newest_first(client, netflix_history, name):
    feed = parsed_feed(client, name, netflix_history)

    assert feed.feed.title == f"filmmag: new on {HOSTILE}"
    titles = [entry.title for entry in feed.entries]
    assert titles[:3] == [
        f"Arrived {HOSTILE} (1957): Rent, United Kingdom",
        f"Arrived {HOSTILE} (1957): Subscription, United States",
        "Came back (1957): Subscription, United States",
    ]
    assert "Left lately (1957): Buy, United States" not in titles
    assert len({entry.id for entry in feed.entries}) == len(feed.entries)
    assert feed.entries[0].link.startswith("http://testserver/films/arrived-")


@pytest.mark.parametrize("name", ["service_left_feed", "service_left_atom"])
def test_recently_left_feed_has_departures_not_the_ones_that_came_back(
    client, netflix_history, name
):
    feed = parsed_feed(client, name, netflix_history)

    assert [entry.title for entry in feed.entries] == [
        "Left lately (1957): Buy, United States",
        "Left long ago (1957): Subscription, United States",
    ]
    assert feed.entries[0].published_parsed[:3] == day(4).timetuple()[:3]
    assert long_date(day(4)) in feed.entries[0].summary


def test_feeds_of_an_unknown_service_are_not_found(client):
    for kind in ("new_feed", "left_atom"):
        url = reverse(f"films:service_{kind}", kwargs={"slug": "no-such-service"})
        assert client.get(url).status_code == 404


def add_history(service, n, start=0):
    for i in range(start, start + n):
        film = make_film(f"Film {i}", genres=["Drama"], directors=[f"Director {i}"])
        make_offer(film, service, days_ago=i % 20)
        make_offer(film, service, "rent", days_ago=60, left_days_ago=i % 25)


def test_service_page_and_feed_query_counts_are_constant(client):
    service = make_service("Mubi")
    pages = [
        (service.get_absolute_url(), 8),
        *[
            (reverse(f"films:service_{kind}", kwargs={"slug": "mubi"}), 2)
            for kind in ("new_feed", "new_atom", "left_feed", "left_atom")
        ],
    ]
    add_history(service, 2)
    current_version()  # as on a live site: the next scheduled change is known already
    assert [count_queries(client, url) for url, _ in pages] == [n for _, n in pages]
    add_history(service, 40, start=2)
    assert [count_queries(client, url) for url, _ in pages] == [n for _, n in pages]


# --- Stale offers in the admin ---------------------------------------------------------------


def test_the_admin_lists_offers_not_checked_for_the_configured_days(admin_client, settings):
    settings.FILMMAG_OFFER_STALE_DAYS = 10
    film = make_film("Vertigo")
    stale = make_offer(film, "Netflix", days_ago=30, url="https://netflix.example/vertigo?a=1&b=2")
    make_offer(film, "Mubi", days_ago=30, last_checked=day(5))
    make_offer(film, "Max", "rent", days_ago=60, left_days_ago=40)  # closed: nothing to check

    response = admin_client.get(reverse("admin:films_availability_changelist"), {"state": "stale"})

    assert list(response.context["cl"].result_list) == [stale]
    assertContains(response, "Not checked for 10 days")
    assertContains(
        response,
        '<a href="https://netflix.example/vertigo?a=1&amp;b=2" rel="noopener noreferrer" '
        'target="_blank">https://netflix.example/vertigo?a=1&amp;b=2</a>',
        html=True,
    )


def test_mark_checked_action_takes_offers_off_the_stale_list(admin_client):
    film = make_film("Vertigo")
    offers = [make_offer(film, name, days_ago=365) for name in ("Netflix", "Mubi")]
    url = reverse("admin:films_availability_changelist")

    response = admin_client.post(
        url,
        {"action": "mark_checked", "_selected_action": [o.pk for o in offers]},
        follow=True,
    )

    assertContains(response, "2 offers marked as checked today.")
    assert set(Availability.objects.values_list("last_checked", flat=True)) == {TODAY()}
    assert list(admin_client.get(url, {"state": "stale"}).context["cl"].result_list) == []


def test_close_action_closes_and_keeps_the_offers(admin_client):
    offer = make_offer(make_film("Vertigo"), "Netflix", days_ago=365)

    admin_client.post(
        reverse("admin:films_availability_changelist"),
        {"action": "close_offers", "_selected_action": [offer.pk]},
    )

    offer.refresh_from_db()
    assert offer.ended == TODAY()


# --- The migration's dates for existing rows -------------------------------------------------


def test_existing_offers_get_their_films_entry_date_or_an_earlier_check():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("films.migrations.0008_offer_history")
    film = make_film("Vertigo")
    Film.objects.filter(pk=film.pk).update(created_at=timezone.now() - timedelta(days=50))
    checked = make_offer(film, "Netflix", last_checked=day(80), first_seen=day(90))
    unchecked = make_offer(film, "Mubi", first_seen=day(1))

    migration.date_existing_offers(apps, None)

    checked.refresh_from_db()
    unchecked.refresh_from_db()
    assert (checked.first_seen, checked.last_checked) == (day(80), day(80))
    assert (unchecked.first_seen, unchecked.last_checked) == (day(50), day(1))
