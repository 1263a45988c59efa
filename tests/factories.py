"""Small builders for test data: ``make_film(title="Vertigo", genres=["Thriller"])``."""

import itertools
from datetime import timedelta

import reversion
from django.contrib.auth import get_user_model
from django.utils import timezone

from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from reviews.models import Review
from reviews.roles import EDITORS, WRITERS, sync_groups
from reviews.workflow import (
    review_create,
    review_send_back,
    review_submit,
    review_unpublish,
)

_counter = itertools.count(1)


def make_genre(name=None, **overrides):
    name = name or f"Genre {next(_counter)}"
    genre, _ = Genre.objects.get_or_create(name=name, defaults=overrides)
    return genre


def make_person(name=None, **overrides):
    name = name or f"Person {next(_counter)}"
    existing = Person.objects.filter(name=name).first()
    return existing or Person.objects.create(name=name, **overrides)


def make_service(name=None, **overrides):
    name = name or f"Service {next(_counter)}"
    existing = StreamingService.objects.filter(name=name).first()
    return existing or StreamingService.objects.create(name=name, **overrides)


def make_film(title=None, *, genres=(), directors=(), cast=(), availability=(), **overrides):
    """A film. ``cast``: [(person, character)]; ``availability``: [(service, offer[, region])]."""
    title = title or f"Film {next(_counter)}"
    overrides.setdefault("year", 1957)
    film = Film.objects.create(title=title, **overrides)
    film.genres.set([make_genre(name) for name in genres])
    for order, name in enumerate(directors):
        Credit.objects.create(film=film, person=make_person(name), role="director", order=order)
    for order, (name, character) in enumerate(cast):
        Credit.objects.create(
            film=film, person=make_person(name), role="actor", character=character, order=order
        )
    for service, offer, *region in availability:
        Availability.objects.create(
            film=film,
            service=make_service(service),
            offer_type=offer,
            region=region[0] if region else "US",
        )
    return film


def make_offer(film, service, offer_type="subscription", region="US", *, days_ago=0, **fields):
    """An offer of ``film`` on ``service`` (a name), first seen ``days_ago`` days ago.
    ``left_days_ago`` closes it that many days ago; other ``fields`` go to the row."""
    today = timezone.localdate()
    left = fields.pop("left_days_ago", None)
    fields.setdefault("first_seen", today - timedelta(days=days_ago))
    ended = None if left is None else today - timedelta(days=left)
    fields.setdefault("last_checked", ended or fields["first_seen"])
    return Availability.objects.create(
        film=film,
        service=make_service(service) if isinstance(service, str) else service,
        offer_type=offer_type,
        region=region,
        ended=ended,
        **fields,
    )


def make_user(username=None, *, staff=False, superuser=False, **overrides):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(
        username=username,
        password="a-test-password-123",
        is_staff=staff or superuser,
        is_superuser=superuser,
        **overrides,
    )


def make_writer(username=None, **overrides):
    """A staff member in the Writers group (reviews/migrations/0007_roles.py)."""
    return _in_group(make_user(username, staff=True, **overrides), WRITERS)


def make_editor(username=None, **overrides):
    """A staff member in the Editors group."""
    return _in_group(make_user(username, staff=True, **overrides), EDITORS)


def _in_group(user, name):
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name=name).exists():
        # A transactional test (the browser tests) flushed what the migration made.
        from importlib import import_module
        from types import SimpleNamespace

        from django.apps import apps
        from django.db import connection

        roles = import_module("reviews.migrations.0007_roles").ROLES
        sync_groups(apps, SimpleNamespace(connection=connection), roles)
    user.groups.add(Group.objects.get(name=name))
    return user


def make_review_in(state, film=None, **overrides):
    """A review in ``state`` (a ``Review.State`` value), brought there through the workflow:
    scheduled three days ahead, published a day ago, expired an hour ago."""
    State = Review.State
    state = State(state)
    if state in (State.SCHEDULED, State.PUBLISHED, State.EXPIRED, State.UNPUBLISHED):
        days = 3 if state == State.SCHEDULED else -1
        overrides.setdefault("published_at", timezone.now() + timedelta(days=days))
        if state == State.EXPIRED:
            overrides.setdefault("expires_at", timezone.now() - timedelta(hours=1))
        review = make_review(film, **overrides)
    else:
        review = make_review(film, published=False, **overrides)
    if state in (State.IN_REVIEW, State.SENT_BACK):
        review_submit(review=review)
    if state == State.SENT_BACK:
        review_send_back(review=review, note="Tighten the second half.")
    if state == State.UNPUBLISHED:
        review_unpublish(review=review)
    return review


def make_review(film=None, *, published=True, keywords=(), **overrides):
    film = film or make_film()
    if published:
        overrides.setdefault("status", Review.Status.PUBLISHED)
        overrides.setdefault("published_at", timezone.now() - timedelta(days=1))
    overrides.setdefault("headline", f"Review {next(_counter)}")
    overrides.setdefault("synopsis", "What happens.")
    overrides.setdefault("critique", "What we think.")
    with reversion.create_revision():  # one first revision, keywords included, as the admin's
        review = review_create(review=Review(film=film, **overrides))
        if keywords:
            review.keywords.add(*keywords)
    return review


def make_public_pages():
    """One of every kind of public page, with content on it: the URLs that page-wide checks
    (accessibility, HTML validity) visit."""
    from django.urls import reverse

    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        runtime=97,
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika")],
        availability=[("Criterion Channel", "subscription"), ("iTunes", "rent", "GB")],
    )
    film.tags.add("soviet cinema")
    review = make_review(film, rating=4.5, keywords=["soviet cinema"])
    films = reverse("films:film_list")
    return [
        reverse("reviews:home"),
        reverse("reviews:review_list"),
        review.get_absolute_url(),
        reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}),
        films,
        f"{films}?genre=war&year_min=abc&page=99",
        film.get_absolute_url(),
        film.credits.first().person.get_absolute_url(),
        reverse("films:genre_detail", kwargs={"slug": "war"}),
        reverse("films:service_detail", kwargs={"slug": "criterion-channel"}),
        "/no-such-page/",
    ]
