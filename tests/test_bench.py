"""`make bench` (bench/scale.py on bench/catalogue.py's synthetic catalogue), as a smoke test:
a tiny catalogue, one request per page and mode, no wrk, never timed. On the PostgreSQL pass the
catalogue gets a database of its own on the same server, dropped afterwards."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import catalogue  # noqa: E402

SCALE = 0.002
PAGES = {
    "home",
    "film list",
    "film list, 3 filters",
    "film list, ?sort=rating",
    "film list, ?q=the",
    "film",
    "person",
    "review",
    "search",
    "feed",
    "sitemap, films",
}


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """bench/scale.py at SCALE on this pass's engine: (engine, its output, the JSON report)."""
    folder = tmp_path_factory.mktemp("bench")
    database_url = os.environ.get("DATABASE_URL", "")
    engine = "postgresql" if database_url.startswith(("postgres:", "postgresql:")) else "sqlite"
    name = "bench"
    if engine == "postgresql":
        name = f"{urlsplit(database_url).path.lstrip('/')}_bench"
    command = [
        *(sys.executable, str(ROOT / "bench" / "scale.py")),
        *("--engine", engine, "--scale", str(SCALE), "--name", name),
        *("--requests", "1", "--skip-wrk"),
        *("--data-dir", str(folder), "--output", str(folder / "out")),
    ]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        films = catalogue.Size.at(SCALE).films
        report = json.loads((folder / "out" / f"scale-{engine}-{films}.json").read_text())
        yield engine, done.stdout, report
    finally:
        if engine == "postgresql":
            catalogue.drop_database(catalogue.database_url(engine, SCALE, name=name))


def test_every_page_answers_in_every_mode(bench_run):
    _, _, report = bench_run
    # The person's label gives their number of credits: "person, 12 credits".
    labels = {re.sub(r", [\d,]+ credits$", "", row["label"]) for row in report["pages"]}
    assert labels == PAGES
    for row in report["pages"]:
        for mode, measured in row["modes"].items():
            assert measured["status"] == 200, (row["label"], mode, measured)
            assert measured["n"] == 1
            assert measured["bytes"] > 0
        # Emptying the caches makes the page ask the database again; with the counts cached it
        # asks no more, and a page shared from an earlier rendering (films.fragments) no more
        # than that.
        queries = {mode: measured["queries"] for mode, measured in row["modes"].items()}
        assert queries["recomputed"] > 0
        assert queries["recomputed"] >= queries["counts cached"] >= queries["shared"], row
        assert list(queries) == ["recomputed", "counts cached", "shared", "page cache"]


def test_the_table_is_printed_with_the_versions(bench_run):
    engine, output, report = bench_run
    assert "recomputed ms" in output and "counts cached ms" in output and "shared ms" in output
    for row in report["pages"]:
        assert row["label"] in output
    environment = report["environment"]
    assert environment["cores"] == os.cpu_count()
    assert environment["database"].lower().startswith(engine)
    assert environment["python"] and environment["django"]


def test_the_catalogue_has_the_scales_rows(bench_run):
    _, _, report = bench_run
    size, counts = catalogue.Size.at(SCALE), report["counts"]
    assert counts["films"] == size.films == 200
    assert counts["people"] == size.people
    assert counts["services"] == 30
    assert counts["genres"] == 25
    assert counts["published reviews"] == size.reviews
    # Drafts, scheduled, expired... beside the published ones.
    assert counts["reviews"] > counts["published reviews"]
    assert 5 * size.films <= counts["credits"] <= 7 * size.films
    assert 2 * size.films <= counts["offers"] <= 4 * size.films
    assert 0 < counts["current offers"] < counts["offers"]
