"""The live server the browser tests use answers concurrent requests as a real server would:
on SQLite's shared in-memory test database, two requests writing at once must not get the 503
page ("database table is locked"), as an admin save beside an autocomplete once did on CI."""

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.error import HTTPError
from urllib.parse import urlencode

from tests.factories import make_user


class SecureCookiesOverHttp(DefaultCookiePolicy):
    """The site's cookies are Secure; a browser sends them to http://localhost anyway."""

    def return_ok_secure(self, cookie, request):
        return True


def editor_session(url: str) -> list[int]:
    """Log in (a session and the login throttling are written) and open a list, three times."""
    jar = CookieJar(policy=SecureCookiesOverHttp())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    statuses = []
    for _ in range(3):
        form = opener.open(f"{url}/admin/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        fields = {"csrfmiddlewaretoken": token, "username": "editor", "next": "/admin/"}
        fields["password"] = "a-test-password-123"
        login = urllib.request.Request(
            f"{url}/admin/login/",
            data=urlencode(fields).encode(),
            headers={"Referer": f"{url}/admin/login/"},
        )
        for request in (login, f"{url}/admin/films/film/"):
            try:
                statuses.append(opener.open(request).status)
            except HTTPError as error:
                statuses.append(error.code)
    return statuses


def test_concurrent_writes_get_answers_not_the_busy_database_page(live_server):
    make_user("editor", superuser=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(editor_session, [live_server.url] * 16))
    statuses = [status for run in runs for status in run]
    assert set(statuses) == {200}, statuses
