from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest

from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ensure_editor(*args):
    out = StringIO()
    call_command("ensure_editor", *args, stdout=out)
    return out.getvalue()


def printed_password(output):
    [line] = [line for line in output.splitlines() if line.strip().startswith("password:")]
    return line.split("password:", 1)[1].strip()


def test_without_a_superuser_it_creates_the_editor_and_prints_a_working_login():
    output = ensure_editor()

    editor = get_user_model().objects.get(username="editor")
    assert editor.is_superuser and editor.is_staff and editor.is_active
    assert "http://127.0.0.1:8000/admin/" in output
    assert "username: editor" in output
    assert "make editor" in output
    assert editor.check_password(printed_password(output))


def test_the_password_is_random_not_a_default():
    first = printed_password(ensure_editor())
    second = printed_password(ensure_editor("--reset-password"))

    assert len(first) >= 16
    assert first != second
    assert get_user_model().objects.get(username="editor").check_password(second)


def test_with_a_superuser_it_only_says_who_can_log_in():
    make_user("alice", superuser=True)

    output = ensure_editor()

    assert "log in as alice" in output
    assert "`make editor`" in output
    assert "password:" not in output
    assert not get_user_model().objects.filter(username="editor").exists()


def test_run_twice_it_does_not_change_the_password():
    password = printed_password(ensure_editor())

    output = ensure_editor()

    assert "log in as editor" in output
    assert get_user_model().objects.get(username="editor").check_password(password)


def test_reset_password_creates_the_editor_beside_other_superusers():
    make_user("alice", superuser=True)

    password = printed_password(ensure_editor("--reset-password"))

    editor = get_user_model().objects.get(username="editor")
    assert editor.is_superuser and editor.check_password(password)


def test_reset_password_restores_admin_access_to_a_demoted_editor(client):
    make_user("editor", staff=False, is_active=False)

    password = printed_password(ensure_editor("--reset-password"))

    # django-axes checks every authentication against the request it comes with.
    assert client.login(request=HttpRequest(), username="editor", password=password)
    assert client.get("/admin/").status_code == 200


def test_site_url_sets_the_admin_link():
    output = ensure_editor("--site-url", "http://127.0.0.1:9000/")

    assert "http://127.0.0.1:9000/admin/" in output
