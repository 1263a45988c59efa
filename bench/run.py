"""Queries per request and response times of the public pages as the catalogue grows.

    make bench                      # 100, 1,000 and 5,000 films in a throw-away SQLite database
    .venv/bin/python bench/run.py --sizes 100 1000 --requests 10
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/filmmag_bench .venv/bin/python bench/run.py

With DATABASE_URL the script migrates that database and ADDS its generated films to it: give
it an empty one. Pages are rendered by Django's test client with DEBUG off, in one process,
so the times are Django's own (views, ORM, templates), without a web server in front.
"Cold" empties the cache before every request (the first visit after a catalogue change);
"warm" repeats the same page with the cached film-list counts in place. The cache is the
process's local memory unless REDIS_URL is set.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENRES = [
    "Drama", "War", "Romance", "Comedy", "Thriller", "Horror", "Documentary", "Western",
    "Animation", "Science Fiction", "Crime", "Musical", "Mystery", "Adventure",
]  # fmt: skip
SERVICES = [
    "Criterion Channel", "Mubi", "Max", "Netflix", "Apple TV", "Prime Video", "Kanopy", "Tubi",
]  # fmt: skip
OFFERS = ["subscription", "rent", "buy", "free", "ads"]
RATINGS = [Decimal(n) / 2 for n in range(1, 11)]


def configure(database_url: str | None) -> str | None:
    """Environment for a production-like run; returns the temp folder to clean up, if any."""
    tmp = None
    if not database_url:
        tmp = tempfile.mkdtemp(prefix="filmmag-bench-")
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "filmmag.settings"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_SECRET_KEY"] = "bench-only-" + os.urandom(16).hex()
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")  # 404s would otherwise flood the table
    sys.path.insert(0, str(ROOT))
    return tmp


def build(start: int, stop: int, rng: random.Random) -> None:
    """Add films number ``start`` to ``stop - 1`` with their genres, credits, offers and reviews."""
    from django.db import transaction
    from django.utils import timezone

    from films.models import Availability, Credit, Film, Genre, Person, StreamingService
    from reviews.models import Review
    from reviews.workflow import reviews_create

    with transaction.atomic():
        genres = [
            Genre.objects.get_or_create(name=n, defaults={"slug": slug(n)})[0] for n in GENRES
        ]
        services = [
            StreamingService.objects.get_or_create(name=n, defaults={"slug": slug(n)})[0]
            for n in SERVICES
        ]
        # A director per five films and an actor per film: some people have many credits.
        people = list(Person.objects.order_by("pk"))
        wanted = max(40, stop * 6 // 5)
        people += Person.objects.bulk_create(
            Person(name=f"Person {i}", slug=f"person-{i}") for i in range(len(people), wanted)
        )
        directors, actors = people[: max(20, stop // 5)], people[max(20, stop // 5) :]

        films = Film.objects.bulk_create(
            Film(
                title=f"Film {i}",
                slug=f"film-{i}",
                year=rng.randint(1920, 2025),
                runtime=rng.randint(70, 200),
                logline=f"The story of film number {i}, told in one sentence.",
            )
            for i in range(start, stop)
        )
        Film.genres.through.objects.bulk_create(
            Film.genres.through(film_id=film.pk, genre_id=genre.pk)
            for film in films
            for genre in rng.sample(genres, rng.randint(1, 3))
        )
        credits = []
        for film in films:
            credits.append(Credit(film=film, person=rng.choice(directors), role="director"))
            for n, actor in enumerate(rng.sample(actors, min(4, len(actors)))):
                credits.append(
                    Credit(film=film, person=actor, role="actor", character=f"Role {n}", order=n)
                )
        Credit.objects.bulk_create(credits)
        Availability.objects.bulk_create(
            Availability(film=film, service=service, offer_type=offer, region=region)
            for film in films
            for service in rng.sample(services, rng.randint(0, 3))
            for offer in rng.sample(OFFERS, rng.randint(1, 2))
            for region in rng.sample(["US", "GB"], rng.randint(1, 2))
        )
        now = timezone.now()
        reviews_create(
            reviews=(
                Review(
                    film=film,
                    headline=f"On film {film.title}",
                    slug=f"review-{film.slug}",
                    rating=rng.choice(RATINGS),
                    synopsis="What happens. " * 40,
                    critique="What we think of it. " * 120,
                    criticisms="What did not work. " * 30,
                    conclusion="Whether to watch it. " * 20,
                    status=Review.Status.PUBLISHED,
                    published_at=now - timedelta(hours=rng.randint(1, 24 * 365 * 5)),
                )
                for film in films
                if film.pk == films[0].pk or rng.random() < 0.6
            )
        )


def slug(name: str) -> str:
    from films.slugs import slug_base

    return slug_base(name, kind="item")


def pages() -> list[tuple[str, str]]:
    """(label, URL) of each public page, picked from the data like a reader would."""
    from django.db.models import Count
    from django.urls import reverse

    from films.models import Credit, Film, Genre, Person, StreamingService
    from reviews.models import Review

    genre = Genre.objects.annotate(n=Count("films")).order_by("-n").first()
    service = StreamingService.objects.annotate(n=Count("availabilities")).order_by("-n").first()
    review = Review.objects.published().select_related("film").order_by("pk").first()
    director = (
        Person.objects.filter(credits__role=Credit.Role.DIRECTOR)
        .annotate(n=Count("credits"))
        .order_by("-n", "pk")
        .first()
    )
    film = Film.objects.get(pk=review.film_id)
    films = reverse("films:film_list")
    return [
        ("home", reverse("reviews:home")),
        ("film list", films),
        ("film list, filtered", f"{films}?genre={genre.slug}&service={service.slug}&offer=rent"),
        ("film list, by rating", f"{films}?sort=rating"),
        ("film list, page 3", f"{films}?page=3"),
        ("film", film.get_absolute_url()),
        ("review", review.get_absolute_url()),
        ("person (director)", director.get_absolute_url()),
        ("genre", genre.get_absolute_url()),
        ("service", service.get_absolute_url()),
    ]


def measure(client, url: str, requests: int) -> dict:
    """Cold: the cache emptied before each request (the cost after a catalogue change);
    warm: what repeat visitors of the same filters get."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def timed(clear: bool) -> list[float]:
        times = []
        for _ in range(requests):
            if clear:
                cache.clear()
            began = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        return sorted(times)

    cache.clear()
    with CaptureQueriesContext(connection) as cold_queries:
        response = client.get(url)
    with CaptureQueriesContext(connection) as warm_queries:
        client.get(url)
    row = {"status": response.status_code, "queries": len(cold_queries)}
    row["warm_queries"] = len(warm_queries)
    if response.status_code != 200:
        return {**row, "median": 0, "p95": 0, "warm_median": 0}
    cold, warm = timed(clear=True), timed(clear=False)
    return {
        **row,
        "median": statistics.median(cold),
        "p95": cold[max(0, round(0.95 * len(cold)) - 1)],
        "warm_median": statistics.median(warm),
        "bytes": len(response.content),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=1957)
    args = parser.parse_args()

    tmp = configure(os.environ.get("DATABASE_URL"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from films.models import Film

    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"filmmag bench: {connection.vendor} database, DEBUG={settings.DEBUG}, "
        f"{args.requests} timed requests per page, cold (cache emptied first) and warm"
    )
    rng = random.Random(args.seed)
    client = Client()
    failures = 0
    # Nothing is collected here: serve static URLs unhashed instead of from a manifest.
    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    static_root = tempfile.mkdtemp(prefix="filmmag-bench-static-")
    with override_settings(STORAGES=plain_static, STATIC_ROOT=static_root):
        for size in sorted(args.sizes):
            began = time.perf_counter()
            have = Film.objects.count()
            if have < size:
                build(have, size, rng)
            built = time.perf_counter() - began
            print(f"\n{size:,} films (data built in {built:.1f}s)")
            print(
                f"  {'page':<22} {'status':>6} {'queries':>7} {'median ms':>10} {'p95 ms':>8}"
                f"   {'warm: queries':>13} {'median ms':>10}"
            )
            for label, url in pages():
                row = measure(client, url, args.requests)
                failures += row["status"] != 200
                print(
                    f"  {label:<22} {row['status']:>6} {row['queries']:>7} "
                    f"{row['median']:>10.1f} {row['p95']:>8.1f}"
                    f"   {row['warm_queries']:>13} {row['warm_median']:>10.1f}"
                )
    connection.close()
    for folder in (tmp, static_root):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    if failures:
        print(f"\n{failures} page(s) did not answer 200: see the status column.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
