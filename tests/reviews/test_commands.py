import contextlib
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag, TaggedItem

from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from reviews.models import Review
from reviews.workflow import reviews_return_to_draft

pytestmark = pytest.mark.django_db

CRANES = Path(settings.BASE_DIR) / "reviews/demo/reviews/the-cranes-are-flying.txt"
DATA = Path(__file__).parent / "data"
CATALOGUE = DATA / "catalogue.json"
REAL_CATALOGUE = Path(settings.BASE_DIR) / "reviews/demo/catalogue.json"
ALL_MODELS = (Film, Genre, Person, Credit, StreamingService, Availability, Review, Tag, TaggedItem)


def counts():
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# import_review ------------------------------------------------------------------------------


def test_import_review_prints_what_it_created():
    out, err = run("import_review", str(CRANES))

    assert err == ""
    assert "created: film The Cranes Are Flying (1957)" in out
    assert "created: person Mikhail Kalatozov" in out
    assert "created: offer Criterion Channel – subscription (US)" in out
    assert "created: review “A Soviet Cinematic Masterpiece” (draft)" in out
    review = Review.objects.get()
    assert review.status == Review.Status.DRAFT
    assert not review.film.credits.exclude(role=Credit.Role.DIRECTOR).exists()


def test_import_review_twice_reports_unchanged_and_creates_nothing():
    run("import_review", str(CRANES))
    before = counts()

    out, _ = run("import_review", str(CRANES))

    assert counts() == before
    assert "nothing to change" in out
    assert "unchanged: film The Cranes Are Flying (1957)" in out
    assert "created:" not in out


def test_import_review_accept_credits_applies_the_suggestions():
    out, _ = run("import_review", str(CRANES), "--accept-credits")

    film = Film.objects.get()
    assert film.credits.get(person__name="Tatiana Samoilova").character == "Veronika"
    assert film.credits.get(person__name="Sergei Urusevsky").role == Credit.Role.CINEMATOGRAPHER
    assert "created: actor credit Aleksey Batalov as Boris" in out


def test_import_review_region_option_sets_the_offers_region():
    run("import_review", str(CRANES), "--region", "GB")

    assert set(Availability.objects.values_list("region", flat=True)) == {"GB"}


def test_import_review_refuses_an_unknown_region():
    with pytest.raises(CommandError, match="not a country code"):
        run("import_review", str(CRANES), "--region", "Narnia")
    assert Film.objects.count() == 0


def test_dry_run_prints_the_preview_and_writes_nothing():
    out, _ = run("import_review", str(CRANES), "--dry-run")

    assert counts() == dict.fromkeys(counts(), 0)
    assert "dry run: nothing written" in out
    assert "Title: The Cranes Are Flying" in out
    assert "Release date: 1957-10-12" in out
    assert "Directors: Mikhail Kalatozov" in out
    assert "Genres: Drama, War, Romance" in out
    assert "Criterion Channel (subscription)" in out
    assert "Critique: 6 paragraph(s)" in out
    assert "Keywords (10)" in out
    assert "Tatiana Samoilova – actor as Veronika" in out
    assert "would create: film The Cranes Are Flying (1957)" in out


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"", "empty"),
        (
            "Les Quatre Cents Coups (1959) – Truffaut\nSynopsis\nAntoine…".encode(
                "latin-1", "replace"
            )
            + b"\xe9t\xe9",
            "not UTF-8",
        ),
    ],
    ids=["binary", "empty", "latin-1"],
)
def test_a_bad_file_is_named_skipped_and_fails_the_command(tmp_path, content, problem):
    bad = tmp_path / "bad-review.txt"
    bad.write_bytes(content)

    with pytest.raises(CommandError, match="1 of 2 file"):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_review", str(bad), str(CRANES), stdout=out, stderr=err)
        finally:
            assert "bad-review.txt" in err.getvalue()
            assert problem in err.getvalue()
            assert "Nothing was imported from this file" in err.getvalue()

    # The good file in the same run is still imported; nothing from the bad one.
    assert list(Film.objects.values_list("title", flat=True)) == ["The Cranes Are Flying"]


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(CommandError, match="missing.txt"):
        run("import_review", str(tmp_path / "missing.txt"))
    assert Film.objects.count() == 0


def test_a_file_over_the_limit_is_refused_unread(tmp_path):
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"x" * 1_000_001)

    with pytest.raises(CommandError):
        _, err = run("import_review", str(huge))
    assert Film.objects.count() == 0


PIPED = 40 * 65_536  # 2.6 MB: more than the limit, and more than a pipe buffers


class Feeder(threading.Thread):
    """Writes PIPED bytes into a pipe or FIFO until the reader hangs up; counts what went in."""

    def __init__(self, path_or_fd):
        super().__init__(daemon=True)  # a broken test must not keep pytest from exiting
        self.path_or_fd, self.written = path_or_fd, 0
        self.start()

    def run(self):
        with open(self.path_or_fd, "wb") as pipe, contextlib.suppress(BrokenPipeError):
            for _ in range(PIPED // 65_536):
                pipe.write(b"z" * 65_536)
                self.written += 65_536


def refused(*args, **options):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 1 file"):
        call_command("import_review", *args, stdout=out, stderr=err, **options)
    assert Film.objects.count() == 0
    return err.getvalue()


def test_dev_zero_is_refused_after_reading_no_more_than_the_limit():
    err = refused("/dev/zero")

    assert err.startswith(
        "/dev/zero: “zero” is larger than 1 MB, the limit for a review document. "
        "Nothing was imported"
    )


def test_a_pipe_sending_more_than_the_limit_is_refused():
    read_end, write_end = os.pipe()
    writer = Feeder(write_end)
    try:
        err = refused(f"/dev/fd/{read_end}")
    finally:
        os.close(read_end)  # the writer's next write fails, and it stops
        writer.join()

    assert "is larger than 1 MB, the limit for a review document." in err
    assert writer.written < PIPED  # the command stopped reading at the limit


def test_a_fifo_sending_more_than_the_limit_is_refused(tmp_path):
    fifo = tmp_path / "review.fifo"
    os.mkfifo(fifo)
    writer = Feeder(fifo)
    try:
        err = refused(str(fifo))
    finally:
        # Should the command not have opened the FIFO, open it so the writer is released.
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=60)

    assert err.startswith(f"{fifo}: “review.fifo” is larger than 1 MB")
    assert writer.written < PIPED


def test_dash_imports_a_document_from_standard_input():
    out, err = StringIO(), StringIO()
    call_command(
        "import_review", "-", stdin=io.BytesIO(CRANES.read_bytes()), stdout=out, stderr=err
    )

    assert err.getvalue() == ""
    assert out.getvalue().startswith("standard input: “A Soviet Cinematic Masterpiece”: created")
    assert Review.objects.get().film.title == "The Cranes Are Flying"


def test_standard_input_over_the_limit_is_refused():
    read_end, write_end = os.pipe()
    writer = Feeder(write_end)
    try:
        with os.fdopen(read_end, "rb", closefd=False) as stdin:
            err = refused("-", stdin=stdin)
    finally:
        os.close(read_end)
        writer.join()
    assert writer.written < PIPED

    assert err.startswith(
        "standard input: The document is larger than 1 MB, the limit for a review document."
    )


def test_the_real_standard_input_of_the_command_is_bounded_too():
    # A separate process with a real pipe on its standard input; refused before any query.
    result = subprocess.run(
        [sys.executable, "manage.py", "import_review", "-"],
        cwd=settings.BASE_DIR,
        input=b"w" * 3_000_000,
        capture_output=True,
        check=False,
    )

    assert result.returncode == 1
    assert b"standard input: The document is larger than 1 MB" in result.stderr


@pytest.mark.parametrize(
    ("keyword_line", "problem"),
    [
        (", ".join(f"keyword {i}" for i in range(10_000)), "has 10,000 keywords"),
        ("Soviet cinema, <script>alert(1)</script>, war", "has HTML markup (“<script>"),
        ("Soviet cinema, war, " + "k" * 150, "has a keyword of 150 characters"),
    ],
    ids=["10000-keywords", "markup", "150-characters"],
)
def test_a_bad_keyword_line_is_reported_and_nothing_is_imported(tmp_path, keyword_line, problem):
    text = CRANES.read_text(encoding="utf-8").rstrip("\n")
    last_line = text.rsplit("\n", 1)[1]
    assert "," in last_line and "Cranes" in last_line  # the document ends with its keywords
    bad = tmp_path / "bad-keywords.txt"
    bad.write_text(text.removesuffix(last_line) + keyword_line + "\n", encoding="utf-8")

    err = refused(str(bad))

    assert err.startswith(f"{bad}: “bad-keywords.txt” {problem}")
    assert "Nothing was imported from this file." in err
    assert not Review.objects.exists()


# load_demo ----------------------------------------------------------------------------------


def test_load_demo_loads_the_catalogue_and_its_reviews():
    out, _ = run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE))

    vertigo = Film.objects.get(title="Vertigo")
    assert (vertigo.year, vertigo.release_date, vertigo.runtime) == (
        1958,
        datetime.date(1958, 5, 9),
        128,
    )
    assert [c.code for c in vertigo.countries] == ["US"]
    assert set(vertigo.genres.values_list("name", flat=True)) == {"Thriller", "Mystery"}
    assert set(vertigo.tags.names()) == {"obsession", "San Francisco"}
    actors = vertigo.credits.filter(role=Credit.Role.ACTOR).order_by("order")
    assert [(c.person.name, c.character, c.order) for c in actors] == [
        ("James Stewart", "John 'Scottie' Ferguson", 0),
        ("Kim Novak", "Madeleine Elster", 1),
    ]
    assert vertigo.credits.get(role=Credit.Role.COMPOSER).person.name == "Bernard Herrmann"
    assert set(vertigo.availabilities.values_list("service__name", "offer_type", "region")) == {
        ("Apple TV", "rent", "US"),
        ("Apple TV", "buy", "US"),
        ("Criterion Channel", "subscription", "GB"),
    }
    assert Person.objects.get(name="Alfred Hitchcock").birth_year == 1899

    review = Review.objects.get(film=vertigo)
    assert review.headline == "The Dizzy Heights of Obsession"
    assert (review.byline, review.rating, review.status, review.is_demo) == (
        "Ines Marlowe",
        Decimal("4.5"),
        Review.Status.PUBLISHED,
        True,
    )
    assert review.published_at == datetime.datetime(2025, 3, 1, 9, tzinfo=datetime.UTC)
    assert review.is_public()
    assert "Demo magazine: 2 films, 2 reviews (1 published)" in out


def test_load_demo_does_not_count_a_scheduled_review_as_published(tmp_path):
    data = json.loads(CATALOGUE.read_text())
    data["reviews"][0]["published_at"] = "2999-01-01T09:00:00Z"
    scheduled = tmp_path / "catalogue.json"
    scheduled.write_text(json.dumps(data))
    shutil.copytree(DATA / "reviews", tmp_path / "reviews")

    out, _ = run("load_demo", "--no-artwork", "--catalogue", str(scheduled))

    assert Review.objects.get(film__title="Vertigo").status == Review.Status.PUBLISHED
    assert "Demo magazine: 2 films, 2 reviews (0 published)" in out


def test_load_demo_imports_the_seed_review_as_a_draft_of_the_catalogue_film():
    run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE))

    cranes = Film.objects.get(title="The Cranes Are Flying")
    assert cranes.original_title == "Летят журавли"
    seed = Review.objects.get(film=cranes)
    assert seed.status == Review.Status.DRAFT
    assert seed.headline == "A Soviet Cinematic Masterpiece"
    # The catalogue's "drama" and the document's "Drama" are one genre.
    assert Genre.objects.filter(name__iexact="drama").count() == 1
    assert set(cranes.genres.values_list("name", flat=True)) == {"drama", "War", "Romance"}
    assert Person.objects.filter(name="Mikhail Kalatozov").count() == 1


def test_load_demo_twice_creates_and_changes_nothing():
    run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE))
    before = counts()
    stamps = sorted(Film.objects.values_list("pk", "updated_at")) + sorted(
        Review.objects.values_list("pk", "updated_at")
    )

    with CaptureQueriesContext(connection) as queries:
        out, _ = run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE))

    assert counts() == before
    assert (
        sorted(Film.objects.values_list("pk", "updated_at"))
        + sorted(Review.objects.values_list("pk", "updated_at"))
        == stamps
    )
    assert "already up to date" in out
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


def test_load_demo_leaves_an_edited_demo_review_alone():
    run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE))
    vertigo = Review.objects.filter(film__title="Vertigo")
    vertigo.update(critique="The editor's rewrite.")
    reviews_return_to_draft(reviews=vertigo)

    run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE))

    review = Review.objects.get(film__title="Vertigo")
    assert (review.critique, review.status) == ("The editor's rewrite.", Review.Status.DRAFT)


def test_load_demo_brings_changed_catalogue_rows_back_in_line(tmp_path):
    run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE), "--no-reviews")
    data = json.loads(CATALOGUE.read_text())
    data["films"][0]["runtime"] = 129
    data["films"][0]["credits"].reverse()
    changed = tmp_path / "catalogue.json"
    changed.write_text(json.dumps(data))

    out, _ = run("load_demo", "--no-artwork", "--catalogue", str(changed), "--no-reviews")

    vertigo = Film.objects.get(title="Vertigo")
    assert vertigo.runtime == 129
    actors = vertigo.credits.filter(role=Credit.Role.ACTOR).order_by("order")
    assert [c.person.name for c in actors] == ["Kim Novak", "James Stewart"]
    assert "updated 1 film, 2 credits" in out


def test_load_demo_no_reviews_loads_the_catalogue_only():
    run("load_demo", "--no-artwork", "--catalogue", str(CATALOGUE), "--no-reviews")

    assert Film.objects.count() == 2
    assert Review.objects.count() == 0


def test_a_broken_catalogue_fails_and_writes_nothing(tmp_path):
    data = json.loads(CATALOGUE.read_text())
    data["films"][1]["credits"][0]["role"] = "gaffer"
    broken = tmp_path / "catalogue.json"
    broken.write_text(json.dumps(data))

    with pytest.raises(CommandError, match="gaffer"):
        run("load_demo", "--no-artwork", "--catalogue", str(broken))
    assert set(counts().values()) == {0}


def test_a_missing_catalogue_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read the demo catalogue"):
        run("load_demo", "--no-artwork", "--catalogue", str(tmp_path / "nope.json"))


@pytest.mark.skipif(not REAL_CATALOGUE.exists(), reason="the demo catalogue is not written yet")
def test_the_real_demo_magazine_loads_quickly_and_idempotently():
    started = time.monotonic()
    out, _ = run("load_demo", "--no-artwork")
    first_run = time.monotonic() - started
    before = counts()

    started = time.monotonic()
    again, _ = run("load_demo", "--no-artwork")
    second_run = time.monotonic() - started

    assert counts() == before
    assert "already up to date" in again
    assert Review.objects.filter(status=Review.Status.PUBLISHED, is_demo=True).exists()
    assert Review.objects.get(film__title="The Cranes Are Flying").status == Review.Status.DRAFT
    assert first_run < 20 and second_run < 5, (first_run, second_run)
    assert out.startswith("Demo magazine:")
