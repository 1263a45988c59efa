"""The JSON-LD blocks in a real browser, under the site's Content Security Policy: they are data
blocks (never run, so they need no nonce, and cause no CSP report though the page's
policy allows no inline script at all), each parses as JSON, and a
review whose text closes the block and opens a script of its own runs nothing."""

import json

import pytest

from tests.factories import make_film, make_review

pytestmark = pytest.mark.browser

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""
ATTACK = "</script><script>window.__pwned = 1</script><script>"
BLOCKS = """() => [...document.querySelectorAll('script[type="application/ld+json"]')]
    .map((block) => JSON.parse(block.textContent))"""


def test_json_ld_blocks_parse_and_run_nothing_under_the_csp(page, context):
    errors = []
    context.add_init_script(WATCH)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    context.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    film = make_film(ATTACK[:200], directors=[ATTACK[:200]], cast=[(ATTACK[:150], ATTACK[:200])])
    review = make_review(film, headline=ATTACK[:200], byline=ATTACK[:120], critique=ATTACK)
    person = film.credits.first().person

    for url, kind in [
        ("/", "WebSite"),
        (film.get_absolute_url(), "Movie"),
        (review.get_absolute_url(), "Review"),
        (person.get_absolute_url(), "Person"),
    ]:
        response = page.goto(url)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        blocks = page.evaluate(BLOCKS)
        assert [block["@type"] for block in blocks] == [kind], url
        assert page.evaluate("window.__pwned") is None, url
        assert page.evaluate("window.__cspViolations") == [], url
    assert errors == []
    [movie] = page.goto(film.get_absolute_url()) and page.evaluate(BLOCKS)
    assert movie["name"] == ATTACK[:200]
    assert json.dumps(movie["actor"][0]["characterName"]) == json.dumps(ATTACK[:200])
