"""Security headers: Permissions-Policy everywhere, HSTS over HTTPS, and `check --deploy` with
the README's production settings says nothing the README does not explain."""

import os
import re
import secrets
import shlex
import subprocess
import sys

import pytest
from django.test import Client

from tests.outages import database_down
from tests.test_settings import ROOT, settings_value

pytestmark = pytest.mark.django_db

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("url", ["/", "/films/", "/admin/login/", "/no-such-page/", "/healthz"])
def test_every_response_switches_off_the_browser_features_the_site_does_not_use(client, url):
    policy = client.get(url)["Permissions-Policy"]

    for feature in ["camera", "microphone", "geolocation", "payment", "usb", "interest-cohort"]:
        assert f"{feature}=()" in policy


def test_the_503_page_has_the_security_headers_too(monkeypatch):
    with database_down(monkeypatch):
        response = Client(raise_request_exception=False).get("/films/", secure=True)

    assert response.status_code == 503
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_https_responses_carry_hsts_for_a_year(client):
    assert client.get("/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"
    # Behind the TLS proxy, which says so in X-Forwarded-Proto.
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_plain_http_responses_carry_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/")


def hsts(**env):
    return settings_value(
        "(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)", **env
    )


def test_hsts_is_configured_by_environment():
    assert hsts() == "(31536000, False, False)"
    assert hsts(
        DJANGO_SECURE_HSTS_SECONDS="600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        DJANGO_SECURE_HSTS_PRELOAD="true",
    ) == ("(600, True, True)")
    # A plain-HTTP site (no secure cookies) sends no HSTS.
    assert hsts(DJANGO_SECURE_COOKIES="false") == "(0, False, False)"


def readme_production_environment() -> dict[str, str]:
    """The variables the README's Production section exports, placeholders filled in."""
    section = README.split("## Production", 1)[1]
    block = re.search(r"```sh\n(export .*?)\n\.venv", section, re.S).group(1)
    words = shlex.split(block.replace("\\\n", " "))
    stand_ins = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": "postgres://filmmag@127.0.0.1:5432/filmmag",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    env = {}
    for word in words[1:]:  # after "export"
        name, _, value = word.partition("=")
        env[name] = stand_ins[name] if "..." in value else value
    return env


def test_check_deploy_with_the_readme_production_settings_reports_only_what_it_explains():
    env = readme_production_environment()
    assert env["DJANGO_DEBUG"] == "false"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    reported = set(re.findall(r"\(([a-z_]+\.[A-Z]\d{3})\)", output))
    section = README.split("## Production", 1)[1].split("\n## ", 1)[0]
    unexplained = {check for check in reported if f"`{check}`" not in section}
    assert not unexplained, output
    other_lines = [
        line
        for line in output.splitlines()
        if line.strip()
        and not re.match(r"\?: \([a-z_]+\.[A-Z]\d{3}\)", line)
        and not line.startswith(("System check identified", "WARNINGS:"))
    ]
    assert not other_lines, output
