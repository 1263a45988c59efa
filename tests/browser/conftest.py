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
from django.db import connection
from django.test.testcases import LiveServerThread

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


class OneRequestAtATimeWSGIServer(ThreadedWSGIServer):
    """The live server, running one request at a time on SQLite.

    The SQLite test database lives in memory with a shared cache, where a write meets another
    connection's open transaction with "database table is locked" at once (a busy timeout does
    not apply), and the site answers with its 503 page: an autocomplete still loading as the
    form is saved was enough on CI. A real server's database has no such shared-cache locks.
    """

    def set_app(self, application):
        if connection.vendor != "sqlite":
            return super().set_app(application)
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                return application(environ, start_response)

        return super().set_app(one_at_a_time)


LiveServerThread.server_class = OneRequestAtATimeWSGIServer


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
