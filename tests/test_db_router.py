"""Where reads go, decided per request (filmmag/db_router.py), without a real replica.

tests/test_replicas.py plays the same rules against a real streaming replica; here a
replica is always "usable", so each rule is checked on its own and on every database.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory

from filmmag import db_router
from filmmag.db_router import STICKY_COOKIE, STICKY_SALT, ReplicaReadsMiddleware, ReplicaRouter
from films.models import Film
from reviews.models import Review

router = ReplicaRouter()


@pytest.fixture(autouse=True)
def _a_usable_replica(monkeypatch):
    monkeypatch.setattr(db_router, "choose_replica", lambda: "replica_1")


def serve(request, view=None):
    """The request through the middleware; returns the response and where reads went."""
    reads = {}

    def view_reading(request):
        if view:
            view(request)
        for model in (Film, Review, get_user_model(), Session):
            reads[model.__name__] = router.db_for_read(model)
        return HttpResponse("ok")

    return ReplicaReadsMiddleware(view_reading)(request), reads


def sticky_cookie(*, salt=STICKY_SALT) -> str:
    response = HttpResponse()
    response.set_signed_cookie(STICKY_COOKIE, "1", salt=salt)
    return response.cookies[STICKY_COOKIE].value


def test_outside_a_request_every_read_goes_to_the_primary():
    assert router.db_for_read(Film) == "default"
    assert router.db_for_read(Review) == "default"


def test_a_readers_page_reads_the_catalogue_from_a_replica_and_accounts_from_the_primary():
    response, reads = serve(RequestFactory().get("/films/"))

    assert reads == {
        "Film": "replica_1",
        "Review": "replica_1",
        "User": "default",
        "Session": "default",
    }
    assert STICKY_COOKIE not in response.cookies


def test_a_post_reads_the_primary_and_keeps_the_browser_on_it(settings):
    settings.FILMMAG_REPLICA_STICKY_SECONDS = 20
    response, reads = serve(RequestFactory().post("/admin/login/"))

    assert reads["Film"] == "default"
    cookie = response.cookies[STICKY_COOKIE]
    assert cookie["max-age"] == 20
    assert cookie["httponly"]

    request = RequestFactory().get("/films/")
    request.COOKIES[STICKY_COOKIE] = cookie.value
    assert serve(request)[1]["Film"] == "default"


def test_a_get_that_writes_reads_the_primary_from_then_on_and_keeps_the_browser_on_it():
    before = {}

    def writing_view(request):
        before["Film"] = router.db_for_read(Film)
        assert router.db_for_write(Session) == "default"

    response, after = serve(RequestFactory().get("/films/"), writing_view)

    assert before["Film"] == "replica_1"
    assert after["Film"] == "default"
    assert STICKY_COOKIE in response.cookies


def test_a_browser_with_a_session_reads_the_primary():
    request = RequestFactory().get("/films/")
    request.COOKIES["sessionid"] = "an-editors-session"

    assert serve(request)[1]["Film"] == "default"


def test_a_forged_or_expired_primary_cookie_is_ignored(settings, monkeypatch):
    forged = RequestFactory().get("/films/")
    forged.COOKIES[STICKY_COOKIE] = sticky_cookie(salt="something else")
    assert serve(forged)[1]["Film"] == "replica_1"

    settings.FILMMAG_REPLICA_STICKY_SECONDS = 30
    monkeypatch.setattr(signing.time, "time", lambda: 1_000_000_000.0)
    old = sticky_cookie()
    monkeypatch.setattr(signing.time, "time", lambda: 1_000_000_031.0)
    expired = RequestFactory().get("/films/")
    expired.COOKIES[STICKY_COOKIE] = old
    assert serve(expired)[1]["Film"] == "replica_1"

    monkeypatch.setattr(signing.time, "time", lambda: 1_000_000_029.0)
    fresh = RequestFactory().get("/films/")
    fresh.COOKIES[STICKY_COOKIE] = old
    assert serve(fresh)[1]["Film"] == "default"


@pytest.mark.django_db
def test_inside_a_transaction_reads_go_to_the_primary():
    """pytest-django runs this test in a transaction, as a view in atomic() would."""
    assert serve(RequestFactory().get("/films/"))[1]["Film"] == "default"


def test_only_the_primary_is_migrated():
    assert router.allow_migrate("default", "films")
    assert not router.allow_migrate("replica_1", "films")
    assert not router.allow_migrate("replica_1", "sessions")
