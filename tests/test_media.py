"""/media/ served by Django (filmmag/media.py) when nothing in front serves it."""

import importlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import clear_url_caches

import filmmag.urls


@pytest.fixture
def media_urls(settings):
    """The URLconf as built with DJANGO_SERVE_MEDIA=true and debug off."""

    def build(serve: bool):
        settings.DEBUG = False
        settings.FILMMAG_SERVE_MEDIA = serve
        importlib.reload(filmmag.urls)
        clear_url_caches()

    yield build
    settings.FILMMAG_SERVE_MEDIA = False
    importlib.reload(filmmag.urls)
    clear_url_caches()


def test_media_is_served_for_a_year_when_asked_to(client, media_urls):
    media_urls(serve=True)
    name = default_storage.save("renditions/ab/abc/poster-160.webp", ContentFile(b"RIFF...."))

    response = client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content) == b"RIFF...."


@pytest.mark.parametrize("path", ["nope.jpg", "../settings.py", "%2e%2e/manage.py", ""])
def test_missing_files_and_paths_outside_the_media_folder_are_404(client, media_urls, path):
    media_urls(serve=True)

    assert client.get(f"/media/{path}").status_code == 404


def test_without_the_setting_django_serves_no_media(client, media_urls):
    media_urls(serve=False)
    name = default_storage.save("posters/x.jpg", ContentFile(b"x"))

    assert client.get(f"/media/{name}").status_code == 404
