"""The one settings module, driven by environment variables."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_settings(code=None, **env):
    """Import the settings in a fresh interpreter with exactly these DJANGO_/URL variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    clean.pop("DATABASE_REPLICA_URLS", None)
    code = code or (
        "from filmmag import settings as s;"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_development_is_the_default_with_sqlite_and_a_local_cache():
    result = load_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_django_static_root_says_where_collectstatic_puts_the_files(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    code = "from filmmag import settings as s; print(s.STATIC_ROOT)"
    run = lambda **extra: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True
    )

    assert run().stdout.strip() == str(ROOT / "staticfiles")
    assert run(DJANGO_STATIC_ROOT=str(tmp_path)).stdout.strip() == str(tmp_path)


def test_production_without_a_secret_key_refuses_to_start():
    result = load_settings(DJANGO_DEBUG="false")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set" in result.stderr


def test_database_url_and_redis_url_switch_to_postgresql_and_redis():
    result = load_settings(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://u@db.example:5432/filmmag",
        REDIS_URL="redis://cache.example:6379/0",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "django.db.backends.postgresql",
        "filmmag.cache.ResilientRedisCache",
    ]


def settings_value(expression, **env):
    """The repr of ``expression`` over the settings module ``s``, loaded with these variables."""
    result = load_settings(
        code=f"from filmmag import settings as s; print(repr({expression}))",
        **{"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50, **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_cache_timeout_is_set_in_milliseconds():
    options = settings_value(
        "s.CACHES['default']['OPTIONS']",
        REDIS_URL="redis://cache.example:6379/0",
        DJANGO_CACHE_TIMEOUT_MS="400",
    )

    assert options == "{'socket_connect_timeout': 0.4, 'socket_timeout': 0.4}"


def test_postgresql_connections_give_up_after_a_few_seconds():
    url = "postgres://u@db.example:5432/filmmag"

    timeout = "s.DATABASES['default']['OPTIONS']['connect_timeout']"
    assert settings_value(timeout, DATABASE_URL=url) == "5"
    assert settings_value(timeout, DATABASE_URL=url + "?connect_timeout=2") == "2"


def test_login_throttling_is_configured_by_environment():
    value = settings_value(
        "(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.FILMMAG_PROXY_COUNT)",
        DJANGO_AXES_FAILURE_LIMIT="3",
        DJANGO_AXES_COOLOFF_MINUTES="30",
        DJANGO_PROXY_COUNT="2",
    )

    assert value == "(3, 1800.0, 2)"


def test_without_replica_urls_there_is_one_database_and_no_router():
    value = settings_value(
        "(list(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []), "
        "[m for m in s.MIDDLEWARE if 'db_router' in m])",
        DATABASE_URL="postgres://u@db.example:5432/filmmag",
    )

    assert value == "(['default'], [], [])"


def test_replica_urls_add_read_replicas_that_mirror_the_primary_in_tests():
    value = settings_value(
        "([(a, d['HOST'], d['NAME'], d['TEST'], d['OPTIONS']) for a, d in s.DATABASES.items()"
        " if a != 'default'], s.DATABASE_ROUTERS,"
        " s.MIDDLEWARE[s.MIDDLEWARE.index('filmmag.limits.RequestLimitsMiddleware') + 1])",
        DATABASE_URL="postgres://u@db.example:5432/filmmag",
        DATABASE_REPLICA_URLS=(
            "postgres://u@replica1.example/filmmag, postgres://u@replica2.example/filmmag"
        ),
    )

    assert value == (
        "([('replica_1', 'replica1.example', 'filmmag', {'MIRROR': 'default'}, "
        "{'connect_timeout': 5}), "
        "('replica_2', 'replica2.example', 'filmmag', {'MIRROR': 'default'}, "
        "{'connect_timeout': 5})], "
        "['filmmag.db_router.ReplicaRouter'], 'filmmag.db_router.ReplicaReadsMiddleware')"
    )


def test_replicas_need_postgresql():
    result = load_settings(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_REPLICA_URLS="postgres://u@replica.example/filmmag",
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_REPLICA_URLS are replicas of a PostgreSQL" in (
        result.stderr
    )


def test_the_sticky_time_must_cover_the_lag_a_replica_may_have():
    result = load_settings(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_REPLICA_MAX_LAG_SECONDS="20",
        DJANGO_REPLICA_CHECK_SECONDS="5",
        DJANGO_REPLICA_STICKY_SECONDS="24",
    )

    assert result.returncode != 0
    assert "DJANGO_REPLICA_STICKY_SECONDS must be at least" in result.stderr


def test_with_redis_and_a_bucket_nothing_is_kept_in_the_app_server():
    """Past one machine: sessions in the database (cached in Redis), the cache in Redis, login
    attempts in the database, pictures in the bucket, CSRF tokens in a cookie."""
    value = settings_value(
        "(s.SESSION_ENGINE, s.CACHES['default']['BACKEND'], s.AXES_HANDLER,"
        " s.STORAGES['default']['BACKEND'], getattr(s, 'CSRF_USE_SESSIONS', False))",
        DATABASE_URL="postgres://u@db.example:5432/filmmag",
        REDIS_URL="redis://cache.example:6379/0",
        DJANGO_S3_BUCKET="filmmag-pictures",
    )

    assert value == (
        "('django.contrib.sessions.backends.cached_db', 'filmmag.cache.ResilientRedisCache', "
        "'axes.handlers.database.AxesDatabaseHandler', 'filmmag.storage.PublicS3Storage', False)"
    )
