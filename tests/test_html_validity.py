"""The public pages are valid HTML, checked by the Nu HTML Checker (vnu-jar from npm): one of
every kind with tidy content, every kind again with pictures (tests/picture_site.py), and the
crawl's representative of every page type, for the demo magazine and for hostile names."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories import make_public_pages
from tests.picture_site import make_picture_site

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


def test_public_pages_are_valid_html(client, crawled_site, tmp_path):
    command = checker()
    pages = {}
    for url in make_public_pages():
        response = client.get(url)
        assert response.status_code in (200, 404), url
        pages[url] = response.content
    for kind, url in make_picture_site().pages.items():
        response = client.get(url)
        assert response.status_code == (404 if kind == "not-found" else 200), url
        pages[f"{url} (with pictures: {kind})"] = response.content
    for (kind, hostile), page in sorted(crawled_site.representatives.items()):
        if page.content_type.startswith("text/html"):
            pages[f"{page.url} (crawl: {kind}{', hostile name' if hostile else ''})"] = page.content
    urls, files = list(pages), []
    for n, content in enumerate(pages.values()):
        path = tmp_path / f"page{n}.html"
        path.write_bytes(content)
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
