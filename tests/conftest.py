import os

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property-based tests (tests/test_fuzz.py) try the same bounded set of examples on every run,
# in CI and locally; HYPOTHESIS_PROFILE=explore searches further, with fresh random inputs.
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile("dev", hypothesis_settings.get_profile("ci"))
hypothesis_settings.register_profile(
    "explore", hypothesis_settings.get_profile("ci"), derandomize=False, max_examples=1000
)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)


def pytest_collection_modifyitems(config, items):
    """With DATABASE_REPLICA_URLS set, a test that uses the database may use the replicas too
    (in tests they are the primary: settings sets TEST MIRROR). Tests in a transaction never
    reach them (filmmag/db_router.py reads the primary then); tests that commit, such as the
    browser tests with their live server, do."""
    from django.conf import settings

    if len(settings.DATABASES) == 1:
        return
    database_fixtures = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None and not database_fixtures & set(getattr(item, "fixturenames", ())):
            continue
        args, kwargs = (marker.args, marker.kwargs) if marker else ((), {})
        item.add_marker(
            pytest.mark.django_db(*args, **{**kwargs, "databases": "__all__"}), append=False
        )


@pytest.fixture(scope="session", autouse=True)
def _replica_connections_closed(request):
    """With replicas configured, their connections (to the test database, kept open for
    DJANGO_CONN_MAX_AGE) are closed before pytest-django drops that database."""
    from django.conf import settings

    if len(settings.DATABASES) == 1:
        yield
        return
    request.getfixturevalue("django_db_setup")
    yield
    from django.db import connections

    connections.close_all()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded posters go to a throw-away folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Tests don't run collectstatic, so skip the hashed-manifest storage production uses."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The crawl of the demo magazine, shared by the crawl test and the HTML validity check.
from tests.crawler import crawled_site  # noqa: E402, F401
