"""The whole public site, crawled: the demo magazine plus a catalogue of hostile names.

The crawl (``tests/crawler.py``, run once per session by the ``crawled_site`` fixture) starts at
the home page, ``/sitemap.xml`` and ``/robots.txt``, follows every same-site link and submits
every GET form: once as it stands, and once per option (select option, checkbox, radio
button) with that option chosen. It must find no server error, no broken link and no page
over its query budget.
"""

import pytest
from django.urls import reverse

from tests.factories import make_film
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

# SQL queries a page may run, by page type (URL name), with cold caches. The ceiling
# is 10 anywhere; each budget is what the page needs today (pinned exactly, for the pages'
# own fixtures, by tests/*/test_query_counts.py).
QUERY_BUDGET = {
    "reviews:home": 3,
    "reviews:review_list": 2,
    "reviews:review_detail": 4,
    "reviews:review_feed": 1,
    "reviews:tag_detail": 4,
    "films:film_list": 10,
    "films:film_detail": 6,
    "films:person_detail": 2,
    "films:genre_detail": 10,
    "films:service_detail": 10,
    "django.contrib.sitemaps.views.sitemap": 8,
    "robots_txt": 0,
}
CEILING = 10

# TODO(lead): over the ceiling. The film list runs one validation query per model filter
# (genre, director, service): with all three set, e.g. /films/?genre=war&service=mubi&
# director=stanley-kubrick, it runs 12 queries cold. The crawl never sets two at once, so it
# stays within 10; the fuzz test does, and allows this until it is fixed. Fixing it turns
# test_film_list_with_every_filter_is_within_the_ceiling into an XPASS: then delete this.
OVER_CEILING_TODO = {"films:film_list": 12}

# The page types the crawl must reach, and those it must reach for a hostile name.
PAGE_TYPES = set(QUERY_BUDGET)
HOSTILE_PAGE_TYPES = {
    "films:film_list",
    "films:film_detail",
    "films:person_detail",
    "films:genre_detail",
    "films:service_detail",
    "reviews:review_detail",
    "reviews:tag_detail",
}


def budget(page_type):
    return max(QUERY_BUDGET[page_type], OVER_CEILING_TODO.get(page_type, 0))


def listing(pages, describe):
    return "\n".join(f"  {describe(page)}" for page in pages)


def test_crawl_reaches_every_page_type_and_every_hostile_name(crawled_site):
    assert crawled_site.finished, f"the crawl stopped at its cap of {len(crawled_site.pages)}"
    seen = {page.page_type for page in crawled_site.pages.values()}
    assert seen == PAGE_TYPES, "page types without a budget, or never reached"
    hostile = {kind for kind, shows_hostile in crawled_site.representatives if shows_hostile}
    assert hostile >= HOSTILE_PAGE_TYPES, "page types never reached for a hostile name"


def test_no_page_answers_with_a_server_error(crawled_site):
    failed = [page for page in crawled_site.pages.values() if page.status >= 500]
    assert not failed, f"{len(failed)} pages answered 5xx:\n" + listing(
        failed, lambda p: f"{p.status} {p.url} (from {p.referrer}) {p.error[:200]}"
    )


def test_no_link_the_site_emits_is_broken(crawled_site):
    broken = [page for page in crawled_site.pages.values() if 400 <= page.status < 500]
    assert not broken, f"{len(broken)} internal links are broken:\n" + listing(
        broken, lambda p: f"{p.status} {p.url} (from {p.referrer})"
    )


def test_every_page_stays_within_its_query_budget(crawled_site):
    over = [
        page
        for page in crawled_site.pages.values()
        if page.page_type in QUERY_BUDGET and page.queries > budget(page.page_type)
    ]
    assert not over, f"{len(over)} pages over their query budget:\n" + listing(
        over, lambda p: f"{p.queries} > {budget(p.page_type)}: {p.url} ({p.page_type})"
    )


def test_query_budgets_stay_within_the_ceiling():
    assert max(QUERY_BUDGET.values()) <= CEILING


@pytest.mark.xfail(
    strict=True, reason="TODO(lead): the film list with three model filters runs 12 queries"
)
def test_film_list_with_every_filter_is_within_the_ceiling(client):
    make_film(
        "Paths of Glory",
        genres=["War"],
        directors=["Stanley Kubrick"],
        availability=[("Mubi", "subscription")],
    )
    url = reverse("films:film_list")
    params = {"genre": "war", "service": "mubi", "director": "stanley-kubrick"}
    assert count_queries(client, url, params) <= CEILING
