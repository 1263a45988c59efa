"""The public pages are valid HTML, checked by the Nu HTML Checker (vnu-jar from npm)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import make_film, make_review

VNU_JAR = Path(__file__).resolve().parent.parent / "node_modules" / "vnu-jar" / "build" / "dist"
VNU_JAR = VNU_JAR / "vnu.jar"

pytestmark = pytest.mark.django_db


def checker():
    java = shutil.which("java")
    if java and VNU_JAR.exists():
        return [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "gnu"]
    message = "the HTML checker needs Java and node_modules/vnu-jar (run `make node_modules`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_public_pages_are_valid_html(client, tmp_path):
    command = checker()
    film = make_film(
        "The Cranes Are Flying",
        year=1957,
        runtime=97,
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika")],
        availability=[("Criterion Channel", "subscription"), ("iTunes", "rent", "GB")],
    )
    film.tags.add("soviet cinema")
    review = make_review(film, rating=4.5, keywords=["soviet cinema"])
    urls = [
        reverse("reviews:home"),
        reverse("reviews:review_list"),
        review.get_absolute_url(),
        reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}),
        reverse("films:film_list"),
        reverse("films:film_list") + "?genre=war&year_min=abc&page=99",
        film.get_absolute_url(),
        film.credits.first().person.get_absolute_url(),
        reverse("films:genre_detail", kwargs={"slug": "war"}),
        reverse("films:service_detail", kwargs={"slug": "criterion-channel"}),
        "/no-such-page/",
    ]
    files = []
    for n, url in enumerate(urls):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        path = tmp_path / f"page{n}.html"
        path.write_bytes(response.content)
        files.append(path)

    # One JVM for all pages: its start-up dominates the run time.
    result = subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, timeout=300
    )

    names = {str(path): url for path, url in zip(files, urls, strict=True)}
    report = result.stderr + result.stdout
    for path, url in names.items():
        report = report.replace(f'"file:{path}"', url).replace(path, url)
    assert result.returncode == 0, f"invalid HTML:\n{report}"
