"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Locally, without Chromium the browser tests are skipped with a hint; on CI (CI=true) a missing
browser, or a missing axe-core, fails them instead, so a green CI run always drove a browser.
"""

import os
import shutil
import threading
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from pytest_django.live_server_helper import LiveServer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ON_CI = os.environ.get("CI", "").lower() == "true"
INSTALL_CHROMIUM = "install it with `sudo apt-get install chromium` (Debian's package)"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium")


def missing(what: str, hint: str):
    """Skip locally, fail on CI."""
    message = f"{what} not found: {hint}"
    if ON_CI:
        pytest.fail(f"{message} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test; without Chromium, skip them locally."""
    no_chromium = chromium_path() is None and not ON_CI
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if no_chromium:
            item.add_marker(pytest.mark.skip(reason=f"Chromium not found: {INSTALL_CHROMIUM}"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium: Playwright's own browser builds cannot be downloaded here."""
    executable = chromium_path()
    if executable is None:
        missing("Chromium", INSTALL_CHROMIUM)
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


class OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server's WSGI server, running one request at a time: on SQLite its request
    threads all use the test's one connection (``_server_uses_the_tests_connection``), whose
    transaction and savepoints two requests at once would share. Still a thread per browser
    connection, so keep-alive connections do not wait for one another; only the application
    is serialised.
    """

    _application_lock = threading.Lock()

    def set_app(self, application):
        def one_at_a_time(environ, start_response):
            if not self.connections_override:  # PostgreSQL: a connection per request
                return application(environ, start_response)
            with self._application_lock:
                return application(environ, start_response)

        super().set_app(one_at_a_time)


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, serving one request at a time when it shares the test's
    SQLite connection (``OneRequestAtATimeServer``, ``_server_uses_the_tests_connection``)."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.server_class = OneRequestAtATimeServer
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _server_uses_the_tests_connection(live_server, transactional_db):
    """On SQLite, the live server's requests use the very connection the test uses.

    The test database is in memory, in SQLite's shared-cache mode: each connection to it locks
    whole tables and fails at once when another holds them ("database table is locked"; the
    busy timeout does not apply). pytest-django hands the server the connection that exists
    when the server starts, but the server can start before the test database does
    (Playwright's session fixtures reach it through ``base_url``), and each test gets a
    connection of its own anyway. The server's requests then used other connections than the
    test, and an admin save that overlapped the test's queries or another request failed with
    a 503 (filmmag/errors.py). Sharing the test's connection, as Django's LiveServerTestCase
    means to, one request at a time, leaves nothing to lock against. PostgreSQL needs neither:
    its connections wait for each other's locks.
    """
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    overrides = live_server.thread.connections_override
    if overrides.get("default") is not connection:
        # Shared for good: a request the browser made late may still be finishing after the
        # test, and LiveServer.stop() ends the sharing of the connection left here.
        connection.inc_thread_sharing()
        overrides["default"] = connection
    yield


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs in ``page.goto("/films/")`` go to pytest-django's live server."""
    return live_server.url


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        missing("axe-core", "run `make node_modules` (npm ci) to install it")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe(page, axe_source):
    """Run axe-core on the page as it is now and return its violations (a list of dicts).

    ``axe(impacts={"serious", "critical"})`` keeps only those impacts. The site's CSP blocks
    ``add_script_tag``, so the source goes in through ``evaluate``, which CSP does not govern.
    """

    def run(*, impacts=None, options=None) -> list[dict]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(f"() => {{ {axe_source}\n}}")
        violations = page.evaluate(
            "async (options) => (await window.axe.run(document, options || {})).violations",
            options,
        )
        return [v for v in violations if impacts is None or v["impact"] in impacts]

    return run


@pytest.fixture
def assert_accessible(axe):
    """Fail with a readable list when axe finds serious or critical problems on the page."""

    def check(*, impacts=("serious", "critical"), options=None):
        violations = axe(impacts=set(impacts), options=options)
        assert not violations, "axe found:\n" + "\n".join(
            f"  {v['impact']}: {v['id']} ({v['help']}) at {', '.join(map(str, node['target']))}"
            for v in violations
            for node in v["nodes"]
        )

    return check
