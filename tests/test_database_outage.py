"""The database down: readers get a 503 with Retry-After and the site's own page."""

import subprocess

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from filmmag.errors import RETRY_AFTER_SECONDS
from films.views import FilmListView
from tests.factories import make_film, make_review, make_user
from tests.outages import database_down
from tests.test_html_validity import checker

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return Client(raise_request_exception=False)


def assert_service_unavailable(response):
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    assert "<h1>filmmag will be back in a minute</h1>" in response.text


@pytest.mark.parametrize("url", ["/", "/films/", "/reviews/", "/films/vertigo/", "/sitemap.xml"])
def test_readers_get_the_503_page_while_the_database_is_down(reader, monkeypatch, url):
    make_review(make_film("Vertigo", slug="vertigo"))

    with database_down(monkeypatch):
        response = reader.get(url)

    assert_service_unavailable(response)


def test_an_editor_whose_session_and_user_cannot_load_gets_the_503_page(reader, monkeypatch):
    reader.force_login(make_user("editor", superuser=True))

    with database_down(monkeypatch):
        response = reader.get("/admin/")

    assert_service_unavailable(response)


def test_a_database_error_raised_in_a_middleware_gets_the_503_page(reader, monkeypatch, settings):
    """The session is saved by SessionMiddleware after the view has answered."""
    settings.SESSION_SAVE_EVERY_REQUEST = True
    reader.force_login(make_user("editor", superuser=True))

    def lost_connection(self, must_create=False):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "save", lost_connection)
    response = reader.get(reverse("films:film_list"))

    assert_service_unavailable(response)


def test_other_errors_are_still_a_500(reader, monkeypatch):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(FilmListView, "get", broken)
    response = reader.get(reverse("films:film_list"))

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong on our side" in response.text


def test_the_failure_pages_are_valid_html(reader, monkeypatch, settings, tmp_path):
    """The 503 page and the login lockout page are written by hand, outside base.html."""
    command = checker()
    make_user("editor", superuser=True)
    settings.AXES_FAILURE_LIMIT = 1
    locked = reader.post("/admin/login/", {"username": "editor", "password": "wrong"})
    assert locked.status_code == 429
    with database_down(monkeypatch):
        unavailable = reader.get("/films/")
    assert unavailable.status_code == 503

    files = []
    for name, response in [("locked", locked), ("unavailable", unavailable)]:
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(response.content)
    result = subprocess.run([*command, *map(str, files)], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr + result.stdout
