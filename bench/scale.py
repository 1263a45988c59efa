"""`make bench`: every kind of public page on a large synthetic catalogue (bench/catalogue.py).

    .venv/bin/python bench/scale.py                          # 100,000 films on PostgreSQL
    .venv/bin/python bench/scale.py --engine both            # and 10,000 on SQLite
    .venv/bin/python bench/scale.py --engine sqlite --scale 0.01 --requests 5 --skip-wrk
    .venv/bin/python bench/scale.py --only "film list" home  # pages whose label has one of these

For each page (home; the film list unfiltered, with three filters, sorted by rating and with a
title query; a film; the person with the longest filmography; a review; search; a feed; a
sitemap section), in-process through Django's test client with DEBUG off, in four modes:

- recomputed: every cache emptied before each request (the facet counts are computed again);
- counts cached: the same page again, made again, with the facet counts (and the film list's
  cards) cached; shared pages (SHARED_PAGES_ENABLED) and the page cache are off;
- shared: the same, with the shared pages on (a page's content made once per catalogue version
  and given to every reader, with a session or not: films/fragments.py);
- page cache: the same with PAGE_CACHE_ENABLED on too (whole responses, for readers with no
  session).

Each gives the median and p95 time of --requests requests (fewer for a page slower than
--budget seconds a mode, at least 5; the table says how many), the SQL queries of one request
and the HTML bytes. Then, unless --skip-wrk, each page's requests/s next to a bare Django view
(bench/urls.py: same settings, middleware and server) under gunicorn (2 sync workers,
--no-control-socket, 127.0.0.1) and `wrk -t2 -c8`, in interleaved rounds (bare, page, bare,
page...), as a ratio page / bare; in each mode but "recomputed".

One table is printed and written as JSON to artifacts/bench/scale-<engine>-<films>.json, with
the core count and the versions. The cache is the process's local memory, or Redis when
REDIS_URL is set (then emptied by the "recomputed" mode: give it a database of its own).
"""

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))  # catalogue.py, load.py

import catalogue  # noqa: E402
from catalogue import say  # noqa: E402

MODES = ("recomputed", "counts cached", "shared", "page cache")
WRK_MODES = MODES[1:]  # under load a cache cannot be emptied per request
PAGE_CACHE_SETTING = "PAGE_CACHE_ENABLED"
SHARED_PAGES_SETTING = "SHARED_PAGES_ENABLED"
MIN_REQUESTS = 5


def main() -> int:
    args = parse_args()
    if args.engine == "both":
        return run_both(args)
    return run_engine(args)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["postgresql", "sqlite", "both"], default="postgresql")
    parser.add_argument("--scale", type=float, help="1.0 = 100,000 films (PostgreSQL default)")
    parser.add_argument(
        "--sqlite-scale", type=float, default=0.1, help="SQLite's scale with --engine both (0.1)"
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page/mode")
    parser.add_argument(
        "--budget", type=float, default=20, help="seconds per page and mode before stopping early"
    )
    parser.add_argument("--skip-wrk", action="store_true", help="no requests/s under gunicorn")
    parser.add_argument("--wrk-duration", type=float, default=2, help="seconds of each wrk round")
    parser.add_argument("--wrk-rounds", type=int, default=3, help="rounds of bare + page")
    parser.add_argument("--only", nargs="+", default=[], help="pages whose label has one of these")
    parser.add_argument(
        "--statement-timeout",
        type=float,
        default=60,
        help="PostgreSQL: seconds a query may take before the page fails (60; 0: no limit)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the catalogue again")
    parser.add_argument("--name", default="", help="the catalogue's database name")
    parser.add_argument("--data-dir", type=Path, default=catalogue.BENCH_DIR, help="SQLite files")
    parser.add_argument("--output", type=Path, default=ROOT / "artifacts" / "bench")
    return parser.parse_args()


def run_both(args) -> int:
    """PostgreSQL at --scale (if a server answers), then SQLite at --sqlite-scale, each in a
    process of its own (Django is configured once per process)."""
    codes = []
    for engine, scale in (
        ("postgresql", args.scale or catalogue.DEFAULT_SCALE["postgresql"]),
        ("sqlite", args.sqlite_scale),
    ):
        if engine == "postgresql" and not catalogue.postgresql_reachable():
            say("PostgreSQL does not answer (DATABASE_URL's server or 127.0.0.1:5432): skipped")
            continue
        command = [sys.executable, __file__, "--engine", engine, "--scale", str(scale)]
        for flag in (
            "requests",
            "budget",
            "wrk_duration",
            "wrk_rounds",
            "statement_timeout",
            "name",
            "data_dir",
        ):
            value = getattr(args, flag)
            if value not in ("", None):
                command += [f"--{flag.replace('_', '-')}", str(value)]
        command += ["--output", str(args.output)]
        command += ["--skip-wrk"] * args.skip_wrk + ["--rebuild"] * args.rebuild
        if args.only:
            command += ["--only", *args.only]
        codes.append(subprocess.run(command, cwd=ROOT).returncode)
    return max(codes, default=0)


def run_engine(args) -> int:
    scale = args.scale if args.scale is not None else catalogue.DEFAULT_SCALE[args.engine]
    url = catalogue.database_url(args.engine, scale, name=args.name, folder=args.data_dir)
    files = Path(tempfile.mkdtemp(prefix="filmmag-bench-"))
    catalogue.configure(url)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    for name in ("static", "media"):
        (files / name).mkdir()
        os.environ[f"DJANGO_{name.upper()}_ROOT"] = str(files / name)
    import django

    django.setup()
    try:
        found = catalogue.ensure(scale, rebuild=args.rebuild)
        pages = [p for p in public_pages() if not args.only or any(w in p[0] for w in args.only)]
        limit_statements(args.statement_timeout)
        say(
            f"\nMeasuring {len(pages)} pages in-process, {args.requests} requests per mode "
            f"(at most ~{args.budget:.0f} s a mode); cache: {cache_name()}"
        )
        rows = [measure(label, url_, args) for label, url_ in pages]
        if not args.skip_wrk:
            wrk_ratios(rows, url, args)
        report = {
            "engine": args.engine,
            "scale": scale,
            "films": found["films"],
            "counts": found,
            "requests": args.requests,
            "cache": cache_name(),
            "environment": environment(),
            "pages": rows,
        }
        print_table(report)
        args.output.mkdir(parents=True, exist_ok=True)
        path = args.output / f"scale-{args.engine}-{found['films']}.json"
        path.write_text(json.dumps(report, indent=1, default=str) + "\n")
        say(f"\nWritten: {path.relative_to(ROOT, walk_up=True)}")
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(files, ignore_errors=True)
    failed = [
        row["label"]
        for row in rows
        if any(m["status"] != 200 for m in row["modes"].values())
        or any(w.get("errors") for w in row.get("wrk", {}).values())
    ]
    if failed:
        say(f"Not 200 (or errors under load): {', '.join(failed)}")
    return 1 if failed else 0


def limit_statements(seconds: float) -> None:
    """On PostgreSQL, from now on (not while building), a query longer than ``seconds`` fails,
    so that a page whose queries do not scale answers 500 instead of holding up the run."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    milliseconds = round(seconds * 1000)
    if connection.vendor != "postgresql" or not milliseconds:
        return

    def limit(connection, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")

    connection_created.connect(limit, weak=False)
    connection.close()  # the next query connects again, with the limit
    os.environ["BENCH_STATEMENT_TIMEOUT_MS"] = str(milliseconds)  # gunicorn's: bench/settings.py


def public_pages() -> list[tuple[str, str]]:
    """(label, URL) of each kind of public page, picked from the catalogue."""
    from urllib.parse import urlencode

    from django.db.models import Count
    from django.urls import reverse

    from films.models import Genre, Person, StreamingService
    from reviews.models import Review

    genre = Genre.objects.annotate(n=Count("films")).order_by("-n", "pk").first()
    service = StreamingService.objects.annotate(n=Count("availabilities")).order_by("-n", "pk")[0]
    person = Person.objects.annotate(n=Count("credits")).order_by("-n", "pk").first()
    review = Review.objects.published().select_related("film").order_by("-published_at").first()
    films = reverse("films:film_list")
    filters = {"genre": genre.slug, "service": service.slug, "offer": "subscription"}
    return [
        ("home", reverse("reviews:home")),
        ("film list", films),
        ("film list, 3 filters", f"{films}?{urlencode(filters)}"),
        ("film list, ?sort=rating", f"{films}?sort=rating"),
        ("film list, ?q=the", f"{films}?q=the"),
        ("film", review.film.get_absolute_url()),
        (f"person, {person.n:,} credits", person.get_absolute_url()),
        ("review", review.get_absolute_url()),
        ("search", f"{reverse('reviews:search')}?{urlencode({'q': 'silent river'})}"),
        ("feed", reverse("reviews:review_feed")),
        ("sitemap, films", "/sitemap-films.xml"),
    ]


def clear_caches() -> None:
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


def measure(label: str, url: str, args) -> dict:
    """The page in each mode: times, queries of one request, bytes, status."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(raise_request_exception=False)

    def get():
        client.cookies.clear()  # an anonymous reader, as wrk is
        return client.get(url)

    row = {"label": label, "url": url, "modes": {}}
    for mode in MODES:
        switches = {
            PAGE_CACHE_SETTING: mode == "page cache",
            SHARED_PAGES_SETTING: mode in ("shared", "page cache"),
        }
        with override_settings(**switches):
            clear_caches()
            if mode != "recomputed":
                get()  # fills the caches
            reset_queries()  # what earlier captures logged would skew this one
            with CaptureQueriesContext(connection) as captured:
                response = get()
            queries = len(captured)  # now: later requests empty the log
            times, began = [], time.perf_counter()
            for n in range(args.requests):
                if mode == "recomputed":
                    clear_caches()
                start = time.perf_counter()
                answer = get()
                times.append((time.perf_counter() - start) * 1000)
                if answer.status_code != response.status_code:
                    response = answer
                if n + 1 >= MIN_REQUESTS and time.perf_counter() - began > args.budget:
                    break
        times.sort()
        row["modes"][mode] = {
            "status": response.status_code,
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 2),
            "n": len(times),
            "queries": queries,
            "bytes": len(response.content),
        }
    say("  " + progress_line(row))
    return row


def progress_line(row: dict) -> str:
    parts = [
        f"{mode} {m['median_ms']:.1f} ms ({m['queries']} q, n={m['n']})"
        + ("" if m["status"] == 200 else f" status {m['status']}")
        for mode, m in row["modes"].items()
    ]
    return f"{row['label']:<26} " + "; ".join(parts)


# Requests/s under gunicorn and wrk, as a ratio to the bare view ----------------------------
def wrk_ratios(rows: list[dict], database_url: str, args) -> None:
    from load import HOST, start_gunicorn, stop, tail, wait_until_ready

    wrk = shutil.which("wrk")
    if wrk is None:
        say("\nwrk not found (apt-get install wrk; `make bench` installs it): no req/s ratios")
        return
    from django.urls import reverse

    bare_url = reverse("bench_bare")
    tmp = Path(tempfile.mkdtemp(prefix="filmmag-bench-wrk-"))
    say(
        f"\nRequests/s under gunicorn (2 sync workers) and wrk -t2 -c8, {args.wrk_rounds} "
        f"interleaved rounds of bare view and page, {args.wrk_duration:g} s each or more"
    )
    try:
        for mode in WRK_MODES:
            env = dict(os.environ)
            env.update(
                DATABASE_URL=database_url,
                DJANGO_SETTINGS_MODULE="bench.settings",
                DJANGO_PAGE_CACHE="true" if mode == "page cache" else "false",
                DJANGO_SHARED_PAGES="false" if mode == "counts cached" else "true",
                DJANGO_ALLOWED_HOSTS=HOST,
                PYTHONPATH=str(ROOT),
            )
            listener = socket.socket()
            listener.bind((HOST, 0))
            listener.listen(1024)
            base = f"http://{HOST}:{listener.getsockname()[1]}"
            log = tmp / f"gunicorn-{mode.replace(' ', '-')}.log"
            server = start_gunicorn(listener, env=env, workers=2, log=log, timeout=120)
            listener.close()
            try:
                wait_until_ready(server, base, log)
                for row in rows:
                    row.setdefault("wrk", {})[mode] = wrk_page(wrk, base, row, mode, bare_url, args)
                    result = row["wrk"][mode]
                    say(
                        f"  {mode:<13} {row['label']:<26} {result['page_rps']:>8.1f} req/s, "
                        f"bare {result['bare_rps']:>7.1f}: 1/{1 / result['ratio']:.1f}"
                        if result["ratio"]
                        else f"  {mode:<13} {row['label']:<26} no request completed"
                    )
            finally:
                stop(server)
                if any(r["wrk"][mode].get("errors") for r in rows if mode in r.get("wrk", {})):
                    say(tail(log))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def wrk_page(wrk: str, base: str, row: dict, mode: str, bare_url: str, args) -> dict:
    # Long enough for a slow page to finish a few requests on 2 workers (at most 30 s); the
    # bare view's rounds take --wrk-duration.
    median_s = row["modes"][mode]["median_ms"] / 1000
    duration = max(args.wrk_duration, min(30.0, math.ceil(median_s * 8)))
    for path in (bare_url, row["url"], row["url"]):  # warm: imports, caches, connections
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(base + path, timeout=120) as answer:
                answer.read()
    bare, page, errors = [], [], 0
    # A page slower than a second gets one round: its ratio is small enough as it is.
    for _ in range(args.wrk_rounds if median_s < 1 else 1):
        rps, failed = run_wrk(wrk, base + bare_url, args.wrk_duration)
        bare.append(rps)
        rps, failed_page = run_wrk(wrk, base + row["url"], duration)
        page.append(rps)
        errors += failed + failed_page
        wait_until_idle(base + bare_url)
    bare_rps, page_rps = statistics.median(bare), statistics.median(page)
    return {
        "bare_rps": round(bare_rps, 1),
        "page_rps": round(page_rps, 1),
        "ratio": round(page_rps / bare_rps, 4) if bare_rps and page_rps else 0,
        "rounds": {"bare": bare, "page": page},
        "seconds": duration,
        "errors": errors,
    }


def wait_until_idle(url: str, timeout: float = 300) -> None:
    """Until both workers are free: wrk stops with up to 8 requests still queued, and a slow
    page's would hold up the next bare round. Free when 4 bare requests at once are quick."""
    from concurrent.futures import ThreadPoolExecutor

    def quick(_) -> bool:
        began = time.perf_counter()
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read()
        return time.perf_counter() - began < 0.1

    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=4) as pool:
        while time.monotonic() < deadline and not all(pool.map(quick, range(4))):
            time.sleep(0.2)


def run_wrk(wrk: str, url: str, duration: float) -> tuple[float, int]:
    """Requests/s, and the count of non-2xx answers and socket errors."""
    output = subprocess.run(
        [wrk, "-t2", "-c8", f"-d{duration:g}s", "--timeout=60s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    errors = sum(
        int(n)
        for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output)
        + re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
    )
    return rps, errors


# Output -------------------------------------------------------------------------------------
def cache_name() -> str:
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"{backend} ({settings.REDIS_URL.rsplit('@', 1)[-1]})" if settings.REDIS_URL else backend


def environment() -> dict:
    import django
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    one, five, _ = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "load_average": [round(one, 2), round(five, 2)],
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def print_table(report: dict) -> None:
    env = report["environment"]
    counts = report["counts"]
    say(
        f"\n== {report['engine']}, {counts['films']:,} films, {counts['people']:,} people, "
        f"{counts['credits']:,} credits, {counts['offers']:,} offers, "
        f"{counts['published reviews']:,} published reviews"
    )
    say(
        f"   {env['database']}, Python {env['python']}, Django {env['django']}, "
        f"{env['cores']} cores (load {env['load_average'][0]}), cache {report['cache']}, "
        f"commit {env['commit']}"
    )
    wrk = any("wrk" in row for row in report["pages"])
    head = (
        f"{'page':<26} {'recomputed ms':>19} {'counts cached ms':>19} {'shared ms':>19}"
        f" {'page cache ms':>19} {'queries':>11} {'KB':>7}"
    )
    sub = f"{'':<26}" + f" {'median':>8} {'p95':>7} {'n':>3}" * 4 + f" {'r/c/s/p':>11} {'':>7}"
    if wrk:
        head += f"  {'req/s ratio to bare':>32}"
        sub += f"  {'cached':>10} {'shared':>10} {'page c.':>10}"
    say(head)
    say(sub)
    for row in report["pages"]:
        modes = [row["modes"][m] for m in MODES]
        line = f"{row['label']:<26}"
        for m in modes:
            mark = "" if m["status"] == 200 else "!"
            line += f" {m['median_ms']:>7.1f}{mark or ' '} {m['p95_ms']:>6.1f} {m['n']:>3}"
        line += f" {'/'.join(str(m['queries']) for m in modes):>11}"
        line += f" {modes[1]['bytes'] / 1000:>7.1f}"
        if wrk:
            for mode in WRK_MODES:
                ratio = row.get("wrk", {}).get(mode, {}).get("ratio")
                shown = "-" if ratio is None else f"1/{1 / ratio:.1f}" if ratio else "0"
                line += f" {shown:>10}"
        say(line)
    say(
        "(! = not 200; n = timed requests; queries: recomputed / counts cached / shared / page "
        "cache; ratio 0: no request finished)"
    )


if __name__ == "__main__":
    sys.exit(main())
