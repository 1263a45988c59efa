"""Helpers for tests that drive the admin through Django's test client."""

import re

from django.test import Client

from tests.factories import make_user


def loaded_version(response):
    """The version a change form carries, read from the rendered hidden input."""
    match = re.search(r'<input type="hidden" name="loaded_version" value="(\d+)"', response.text)
    assert match, "the change form does not render the loaded_version field"
    return match.group(1)


def editor_client(username):
    client = Client()
    client.force_login(make_user(username, superuser=True))
    return client
