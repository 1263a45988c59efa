from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext


def count_queries(client, url, params=None):
    """The queries that making the page takes: with the page cache off, which would answer a
    repeat request with none (tests/test_page_cache.py pins that)."""
    with override_settings(PAGE_CACHE_ENABLED=False), CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)
