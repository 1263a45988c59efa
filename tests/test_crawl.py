"""The whole public site, crawled: the demo magazine plus a catalogue of hostile names.

The crawl (``tests/crawler.py``, run once per session by the ``crawled_site`` fixture) starts
at the home page, ``/sitemap.xml``, ``/robots.txt`` and the health checks, follows every
same-site link and submits every GET form: once as it stands, and once per option (select
option, checkbox, radio button) with that option chosen. It must find no server error, no
broken link and no page over its query budget. The demo's generated pictures are loaded too,
and every picture a page shows (every URL of an ``img`` or ``source``) must answer.
"""

import pytest

pytestmark = pytest.mark.django_db

# SQL queries a page may run, by page type (URL name), with cold caches. The ceiling
# is 10 anywhere; each budget is what the page needs today (pinned exactly, for the pages'
# own fixtures, by tests/*/test_query_counts.py). The film lists' 10: with the cache empty, one
# query finds the next scheduled publication or expiry (films/cache.py).
QUERY_BUDGET = {
    "reviews:home": 5,
    "reviews:review_list": 3,
    "reviews:review_detail": 5,
    "reviews:review_feed": 1,
    "reviews:review_atom_feed": 1,
    "reviews:film_list_feed": 2,
    "reviews:film_list_atom_feed": 2,
    "reviews:genre_feed": 2,
    "reviews:genre_atom_feed": 2,
    "reviews:service_feed": 2,
    "reviews:service_atom_feed": 2,
    "reviews:person_feed": 2,
    "reviews:person_atom_feed": 2,
    "reviews:tag_feed": 2,
    "reviews:tag_atom_feed": 2,
    "reviews:tag_detail": 5,
    "reviews:search": 4,
    "films:film_list": 10,
    "films:film_detail": 8,  # 7, and the regions with offers when not cached
    "films:region_choose": 1,
    "films:person_detail": 3,
    "films:genre_detail": 10,
    "films:service_detail": 10,
    # The service, then its offers (film and service joined).
    "films:service_new_feed": 2,
    "films:service_new_atom": 2,
    "films:service_left_feed": 2,
    "films:service_left_atom": 2,
    "django.contrib.sitemaps.views.index": 6,
    "django.contrib.sitemaps.views.sitemap": 2,
    "robots_txt": 0,
    "healthz": 0,
    "readyz": 1,
}
CEILING = 10

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
    "reviews:genre_feed",
    "reviews:service_feed",
    "reviews:person_feed",
    "reviews:tag_feed",
}


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


def test_every_picture_the_pages_show_answers(crawled_site):
    images = crawled_site.images
    broken = {url: found for url, found in images.items() if found[0] != 200}
    assert not broken, f"{len(broken)} pictures do not answer 200:\n" + "\n".join(
        f"  {status} {url} (on {page})" for url, (status, page) in sorted(broken.items())
    )
    # The demo's posters, stills and cards are shown, in the modern format and the fallback.
    media = [url for url in images if url.startswith("/media/renditions/")]
    assert {url.rsplit(".", 1)[-1] for url in media} >= {"webp", "jpg"}
    assert len(media) >= 51 * 5, "fewer pictures than the demo films' posters alone"


def test_every_page_stays_within_its_query_budget(crawled_site):
    over = [
        page
        for page in crawled_site.pages.values()
        if page.page_type in QUERY_BUDGET and page.queries > QUERY_BUDGET[page.page_type]
    ]
    assert not over, f"{len(over)} pages over their query budget:\n" + listing(
        over, lambda p: f"{p.queries} > {QUERY_BUDGET[p.page_type]}: {p.url} ({p.page_type})"
    )


def test_query_budgets_stay_within_the_ceiling():
    assert max(QUERY_BUDGET.values()) <= CEILING
