"""Requests over the site's size limits (filmmag/limits.py): a clear 413 or 400 page, not a 500."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from films.models import Film
from tests.admin_helpers import loaded_version
from tests.factories import make_film
from tests.films.test_admin import film_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def film():
    return make_film("Vertigo", year=1958)


def change_url(film):
    return reverse("admin:films_film_change", args=[film.pk])


def test_a_body_over_the_request_limit_gets_a_413_page_before_it_is_read(
    admin_client, settings, film
):
    settings.FILMMAG_MAX_REQUEST_BYTES = 200_000
    poster = SimpleUploadedFile("poster.jpg", b"\xff\xd8" + b"\x00" * 300_000)

    response = admin_client.post(change_url(film), film_form_data(runtime="1", poster=poster))

    assert response.status_code == 413
    assert response.templates[0].name == "request_refused.html"
    assert "What you sent is 0.3 MB; the site accepts at most 0.2 MB at once" in response.text
    assert "an image may be at most 10 MB" in response.text
    assert "Nothing was saved." in response.text
    film.refresh_from_db()
    assert film.runtime is None


def test_a_body_within_the_request_limit_reaches_the_form(admin_client, settings, film):
    settings.FILMMAG_MAX_REQUEST_BYTES = 400_000
    poster = SimpleUploadedFile("poster.jpg", b"\xff\xd8" + b"\x00" * 300_000)

    response = admin_client.post(change_url(film), film_form_data(poster=poster))

    assert response.status_code == 200
    assert "is not a JPEG" in response.text


def test_form_text_over_django_s_limit_gets_a_413_page(admin_client, settings, film):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = admin_client.post(change_url(film), film_form_data(logline="x" * 20_000))

    assert response.status_code == 413
    assert "The text of this form is more than the 0.01 MB the site accepts" in response.text
    assert Film.objects.get().logline == ""


def test_too_many_fields_get_a_400_page(admin_client, settings, film):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    data = {**film_form_data(), **{f"extra-{i}": "x" for i in range(60)}}

    response = admin_client.post(change_url(film), data)

    assert response.status_code == 400
    assert "This form has more than 50 fields" in response.text


def test_too_many_files_get_a_400_page(admin_client, settings, film):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = {f"file-{i}": SimpleUploadedFile(f"{i}.jpg", b"x") for i in range(3)}

    response = admin_client.post(change_url(film), {**film_form_data(), **files})

    assert response.status_code == 400
    assert "This form sends more than 2 files" in response.text


def test_a_malformed_upload_gets_a_400_page(admin_client, film):
    response = admin_client.generic(
        "POST",
        change_url(film),
        b"--x\r\nContent-Disposition: form-data; name=",
        content_type="multipart/form-data; boundary=",
    )

    assert response.status_code == 400
    assert "could not be read" in response.text


def test_a_post_within_the_limits_is_saved(admin_client, film):
    version = loaded_version(admin_client.get(change_url(film)))
    data = film_form_data(
        title="Vertigo", slug=film.slug, release_date="", year="1958", runtime="128"
    )

    response = admin_client.post(change_url(film), {**data, "loaded_version": version})

    assert response.status_code == 302
    assert Film.objects.get().runtime == 128


def settings_values(**env):
    code = (
        "from filmmag import settings as s;"
        "print(s.FILMMAG_MAX_IMAGE_BYTES, s.FILMMAG_MAX_IMAGE_PIXELS, s.FILMMAG_MAX_REQUEST_BYTES)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_limits_come_from_the_environment():
    result = settings_values(
        DJANGO_MAX_IMAGE_MB="4", DJANGO_MAX_IMAGE_MEGAPIXELS="25", DJANGO_MAX_REQUEST_MB="20"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["4000000", "25000000", "20000000"]


def test_a_request_limit_too_small_for_the_image_limit_stops_start_up():
    result = settings_values(DJANGO_MAX_IMAGE_MB="4", DJANGO_MAX_REQUEST_MB="6")

    assert result.returncode != 0
    assert "DJANGO_MAX_REQUEST_MB must be at least twice DJANGO_MAX_IMAGE_MB" in result.stderr
