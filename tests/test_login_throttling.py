"""Failed admin logins are throttled per username and per address (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import RequestFactory

from filmmag.login_throttling import client_ip
from filmmag.settings import cache_settings
from tests.factories import make_user
from tests.outages import closed_port

pytestmark = pytest.mark.django_db

PASSWORD = "a-test-password-123"  # tests.factories.make_user's
LOGIN_URL = "/admin/login/?next=/admin/"


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


@pytest.fixture
def editor():
    return make_user("editor", superuser=True)


def log_in(client, username, password, ip="203.0.113.7"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def assert_logged_in(response):
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def assert_locked_out(response, minutes=15):
    assert response.status_code == 429
    assert response["Retry-After"] == str(minutes * 60)
    text = response.text
    assert "Log-in paused after too many attempts" in text
    assert f"You can try again in {minutes} minutes" in text
    assert "Contact an editor-in-chief" in text


def test_a_few_wrong_passwords_only_get_the_usual_error(client, editor, limit):
    for _ in range(limit - 1):
        response = log_in(client, "editor", "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.text

    assert_logged_in(log_in(client, "editor", PASSWORD))


def test_too_many_wrong_passwords_lock_the_username_even_for_the_right_password(
    client, editor, limit
):
    for attempt in range(limit):
        response = log_in(client, "editor", "wrong", ip=f"198.51.100.{attempt}")
    assert_locked_out(response)

    # From another address too: the username is locked, not only the address.
    assert_locked_out(log_in(client, "editor", PASSWORD, ip="192.0.2.1"))
    assert client.get("/admin/").status_code == 302  # not logged in


def test_too_many_failures_from_one_address_lock_the_address(client, editor, limit):
    for attempt in range(limit):
        log_in(client, f"guess{attempt}", "wrong", ip="203.0.113.9")

    assert_locked_out(log_in(client, "editor", PASSWORD, ip="203.0.113.9"))
    assert_logged_in(log_in(client, "editor", PASSWORD, ip="192.0.2.1"))


def test_the_lockout_ends_after_the_cool_off_time(client, editor, limit):
    for _ in range(limit):
        log_in(client, "editor", "wrong")

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))

    assert_logged_in(log_in(client, "editor", PASSWORD))


def test_the_limit_and_the_cool_off_come_from_settings(client, editor, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)

    log_in(client, "editor", "wrong")

    assert_locked_out(log_in(client, "editor", "wrong"), minutes=30)


@pytest.mark.parametrize(
    "command, args",
    [
        ("axes_reset_username", ["editor"]),
        ("axes_reset_ip", ["203.0.113.7"]),
        ("axes_reset", []),
    ],
)
def test_the_reset_commands_unlock(client, editor, limit, command, args):
    for _ in range(limit):
        log_in(client, "editor", "wrong")
    assert_locked_out(log_in(client, "editor", PASSWORD))

    call_command(command, *args, stdout=None)

    assert_logged_in(log_in(client, "editor", PASSWORD))


def test_throttling_holds_while_redis_is_down(client, editor, limit, settings):
    settings.CACHES = cache_settings(f"redis://127.0.0.1:{closed_port()}/0")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

    for _ in range(limit):
        log_in(client, "editor", "wrong")
    assert_locked_out(log_in(client, "editor", PASSWORD))

    call_command("axes_reset_username", "editor", stdout=None)
    assert_logged_in(log_in(client, "editor", PASSWORD))


# Where a login comes from, behind the TLS proxy


def request_from(remote_addr, forwarded_for=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().post("/admin/login/", **headers)


@pytest.mark.parametrize(
    "proxies, forwarded_for, expected",
    [
        (0, "198.51.100.1", "127.0.0.1"),  # no proxy: the header is the client's word
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a forged entry on the left
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (1, None, "127.0.0.1"),  # straight to the site, not through the proxy
        (2, "198.51.100.1", "127.0.0.1"),  # fewer entries than proxies
        (1, "not-an-address", "127.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_the_one_the_trusted_proxy_saw(
    settings, proxies, forwarded_for, expected
):
    settings.FILMMAG_PROXY_COUNT = proxies

    assert client_ip(request_from("127.0.0.1", forwarded_for)) == expected


def test_clients_behind_the_proxy_are_throttled_one_by_one(client, editor, limit, settings):
    settings.FILMMAG_PROXY_COUNT = 1

    for _ in range(limit):
        client.post(
            LOGIN_URL,
            {"username": "intruder", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    response = client.post(
        LOGIN_URL,
        {"username": "editor", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.10",
    )

    assert_logged_in(response)
