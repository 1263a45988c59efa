"""Queries per request and response times of the public pages as the catalogue grows; the
time a large poster's renditions take; the picture bytes a reader's browser fetches.

    .venv/bin/python bench/run.py   # 100, 1,000 and 5,000 films in a throw-away SQLite database
    .venv/bin/python bench/run.py --sizes 100 1000 --requests 10
    .venv/bin/python bench/run.py --only pictures
    .venv/bin/python bench/run.py --only search     # the search page and the film list's box
    .venv/bin/python bench/run.py --catalogue       # searches on make bench's catalogue
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/filmmag_bench .venv/bin/python bench/run.py

`make bench` runs bench/scale.py (every kind of page on bench/catalogue.py's catalogue), then
the searches on that catalogue (--catalogue) and the pictures (--only pictures).

With DATABASE_URL the script migrates that database and ADDS its generated films to it: give
it an empty one. Pages are rendered by Django's test client with DEBUG off, in one process,
so the times are Django's own (views, ORM, templates), without a web server in front.
"Cold" empties the cache before every request (the first visit after a catalogue change);
"warm" repeats the same page with the cached film-list counts in place. The cache is the
process's local memory unless REDIS_URL is set.

Pictures: the renditions of a 4000x6000 poster (the largest a phone camera or a studio sends),
made as a save makes them, median wall and CPU time of a few runs, with the formats of
DJANGO_IMAGE_FORMATS (and with AVIF added, where Pillow has it). Then the image bytes that the
home page and the film list make Chromium download at 375 and 1440 px wide, at device pixel
ratios 1 and 2, after scrolling to the bottom: the demo magazine with its pictures, served by
gunicorn on 127.0.0.1 (bench/demo_server.py).
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
sys.path.insert(0, str(ROOT / "bench"))  # artwork.py, demo_server.py, load.py
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


# The searches, for films built here ("Film 42", "Person 17") and for bench/catalogue.py's.
SEARCHES = {
    "built": ["Film 42", "Person 17", "Persn 17", "what did not work", "film"],
    "catalogue": ["The Silent River", "Anna Ozu", "Ana Ozu", "camera lingers on faces", "the"],
}


def search_pages(data: str = "built") -> list[tuple[str, str]]:
    """(label, URL) of searches: the search page (films, people and reviews) and the film
    list's title box, which uses the same engine (films.search)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    search, films = reverse("reviews:search"), reverse("films:film_list")
    title, name, typo, words, common = SEARCHES[data]
    return [
        ("search, a title", f"{search}?{urlencode({'q': title})}"),
        ("search, a name", f"{search}?{urlencode({'q': name})}"),
        ("search, a typo", f"{search}?{urlencode({'q': typo})}"),
        ("search, review words", f"{search}?{urlencode({'q': words})}"),
        ("search, common word", f"{search}?{urlencode({'q': common})}"),
        ("search, no match", f"{search}?{urlencode({'q': 'zzyzx'})}"),
        ("film list, title box", f"{films}?{urlencode({'q': name})}"),
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


def rendition_times(runs: int) -> None:
    """Wall and CPU time of making every rendition of a 4000x6000 poster, as a save does."""
    from artwork import encoded, photo
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage
    from django.test.utils import override_settings
    from load import load_average
    from PIL import features

    from films.pictures import generate, modern_formats, rendition_names

    size = (4000, 6000)
    source = encoded(photo(size, seed=1957))
    print(
        f"\nRenditions of one {size[0]}x{size[1]} JPEG poster ({len(source) / 1e6:.1f} MB): "
        f"median of {runs} runs; load average {load_average()}"
    )
    print(f"  {'formats':<26} {'files':>5} {'bytes':>10} {'wall s':>8} {'CPU s':>8}   runs (wall)")
    choices = [modern_formats()]
    if features.check("avif") and "avif" not in modern_formats():
        choices.append(("avif", *modern_formats()))
    for formats in choices:
        walls, cpus = [], []
        for _ in range(runs):
            folder = tempfile.mkdtemp(prefix="filmmag-bench-renditions-")
            storage = FileSystemStorage(location=folder)
            name = storage.save("posters/big.jpg", ContentFile(source))
            with override_settings(FILMMAG_IMAGE_FORMATS=formats):
                wall, cpu = time.perf_counter(), time.process_time()
                made = generate(storage, name, "poster", (50, 50))
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            files = rendition_names(made)
            written = sum(storage.size(f) for f in files)
            shutil.rmtree(folder, ignore_errors=True)
        label = f"{'+'.join(formats)} + JPEG fallback"
        print(
            f"  {label:<26} {len(files):>5} {written:>10,} {statistics.median(walls):>8.2f} "
            f"{statistics.median(cpus):>8.2f}   {' '.join(f'{w:.2f}' for w in walls)}"
        )


# Scroll down a screen at a time, waiting at each stop for the pictures on screen to load.
SCROLL_JS = """
async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const onScreen = (img) => {
    const r = img.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight;
  };
  const step = Math.floor(innerHeight * 0.8);
  for (let y = 0; ; y += step) {
    scrollTo(0, y);
    const deadline = performance.now() + 5000;
    do { await sleep(50); } while ([...document.images].some((i) => onScreen(i) && !i.complete)
                                   && performance.now() < deadline);
    if (y + innerHeight >= document.documentElement.scrollHeight) break;
  }
}
"""


def picture_bytes() -> int:
    """Image bytes per page load, by width and device pixel ratio; returns the failures."""
    from demo_server import demo_server
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        print("\nImage bytes per page: skipped, Chromium not found (apt-get install chromium)")
        return 0
    print("\nImage bytes per page load (Chromium, empty cache, scrolled to the bottom):")
    failures = 0
    with demo_server() as (base, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        print(f"  {'page':<10} {'width':>5} {'DPR':>3} {'images':>6} {'KiB':>8}   largest")
        for label, path in (("home", "/"), ("film list", "/films/")):
            for width in (375, 1440):
                for dpr in (1, 2):
                    context = browser.new_context(
                        viewport={"width": width, "height": 800},
                        device_scale_factor=dpr,
                        is_mobile=width < 600,
                    )
                    page = context.new_page()
                    finished = []
                    page.on("requestfinished", lambda r, found=finished: found.append(r))
                    response = page.goto(base + path, wait_until="load")
                    failures += response.status != 200
                    page.evaluate(SCROLL_JS)
                    page.wait_for_load_state("networkidle")
                    sizes = [
                        (r.sizes()["responseBodySize"], r.url)
                        for r in finished
                        if r.resource_type == "image"
                    ]
                    total = sum(n for n, _ in sizes)
                    largest = max(sizes, default=(0, ""))
                    print(
                        f"  {label:<10} {width:>5} {dpr:>3} {len(sizes):>6} {total / 1024:>8.1f}"
                        f"   {largest[0] / 1024:.1f} KiB {largest[1].rsplit('/', 1)[-1]}"
                    )
                    context.close()
        browser.close()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=1957)
    parser.add_argument(
        "--only", choices=["pages", "search", "pictures"], help="one part of the bench"
    )
    parser.add_argument("--rendition-runs", type=int, default=3, help="timed runs per format")
    parser.add_argument(
        "--catalogue",
        type=float,
        nargs="?",
        const=0,
        metavar="SCALE",
        help="the searches on bench/catalogue.py's catalogue of SCALE (1 = 100,000 films; "
        "default that of make bench: 1 on PostgreSQL, 0.1 on SQLite), on PostgreSQL if its "
        "server answers, else SQLite, instead of building --sizes",
    )
    args = parser.parse_args()

    if args.catalogue is not None:
        import catalogue

        engine = "postgresql" if catalogue.postgresql_reachable() else "sqlite"
        args.catalogue = args.catalogue or catalogue.DEFAULT_SCALE[engine]
        tmp = configure(catalogue.database_url(engine, args.catalogue))
    else:
        tmp = configure(os.environ.get("DATABASE_URL"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from films.models import Film

    if args.catalogue is not None:
        import catalogue

        args.sizes = [catalogue.ensure(args.catalogue)["films"]]
        args.only = "search"
    call_command("migrate", verbosity=0, interactive=False)
    if args.only == "pictures":
        args.sizes = []
    else:
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
            source = "bench/catalogue.py" if args.catalogue else f"data built in {built:.1f}s"
            print(f"\n{size:,} films ({source})")
            print(
                f"  {'page':<22} {'status':>6} {'queries':>7} {'median ms':>10} {'p95 ms':>8}"
                f"   {'warm: queries':>13} {'median ms':>10}"
            )
            data = "built" if args.catalogue is None else "catalogue"
            measured = search_pages(data)
            if args.only != "search":
                measured = pages() + measured
            for label, url in measured:
                row = measure(client, url, args.requests)
                failures += row["status"] != 200
                print(
                    f"  {label:<22} {row['status']:>6} {row['queries']:>7} "
                    f"{row['median']:>10.1f} {row['p95']:>8.1f}"
                    f"   {row['warm_queries']:>13} {row['warm_median']:>10.1f}"
                )
        if args.only in (None, "pictures"):
            rendition_times(args.rendition_runs)
    connection.close()
    for folder in (tmp, static_root):
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    if args.only in (None, "pictures"):
        failures += picture_bytes()
    if failures:
        print(f"\n{failures} page(s) did not answer 200: see the status column.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
