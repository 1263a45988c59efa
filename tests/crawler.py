"""A crawler for the test client: every link, sitemap entry and GET form the site offers.

``crawl(client, start)`` walks breadth first from ``start``, following same-site links
(``a[href]``, ``link[href]``, sitemap ``<loc>``, feed ``<link>``, ``Sitemap:`` lines in
robots.txt, redirects) and submitting each GET form with its default values and, once per
form field and option anywhere on the site, with that option chosen. Each page is fetched
once, its status and SQL query count recorded with the page that led to it. The pictures the
pages show (``img`` ``src``/``srcset``, ``source`` ``srcset``) are fetched once each at the end.
"""

import importlib
import re
import xml.etree.ElementTree as ElementTree
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, clear_url_caches, resolve

SKIPPED_PREFIXES = ("/admin/", "/static/", "/media/")
SAME_SITE_HOSTS = {"", "testserver"}
TEXT_INPUTS = {"text", "search", "number", "hidden", "email", "url", "tel", "date", ""}


@dataclass
class Page:
    url: str
    referrer: str
    status: int
    queries: int
    page_type: str
    content_type: str
    content: bytes = b""
    location: str = ""
    error: str = ""


@dataclass
class Form:
    action: str
    fields: list[dict] = field(default_factory=list)

    def default_query(self, change=None):
        """What a browser sends when the form is submitted untouched, or with the option
        ``change`` (a field and one of its options' index) chosen as well."""
        pairs = []
        for f in self.fields:
            chosen = [checked for _, checked in f["options"]]
            if change is not None and change[0] is f:
                if f["kind"] != "checkbox":  # a radio button or a select holds one value
                    chosen = [False] * len(chosen)
                chosen[change[1]] = True
            if f["kind"] == "text":
                pairs.append((f["name"], f["value"]))
            elif f["kind"] == "select" and not any(chosen) and chosen:
                pairs.append((f["name"], f["options"][0][0]))
            else:
                pairs += [
                    (f["name"], value)
                    for (value, _), on in zip(f["options"], chosen, strict=True)
                    if on
                ]
        return pairs

    def variants(self):
        """(name, value, query): the default submission with one more option chosen."""
        for f in self.fields:
            for n, (value, checked) in enumerate(f["options"]):
                if not checked:
                    yield f["name"], value, self.default_query(change=(f, n))


class _HTMLLinks(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.forms, self.images = [], [], []
        self._form = self._select = None
        self._radios = {}

    def handle_starttag(self, tag, attrs):
        attrs = {name: value if value is not None else "" for name, value in attrs}
        if tag in ("a", "link") and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag in ("img", "source"):
            self.images += [attrs[name] for name in ("src",) if attrs.get(name)]
            self.images += [
                candidate.split()[0]
                for candidate in attrs.get("srcset", "").split(",")
                if candidate.strip()
            ]
        elif tag == "option" and self._select is not None:
            self._select["options"].append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "form":
            method = attrs.get("method", "get").lower()
            self._form = Form(attrs.get("action", "")) if method == "get" else None
            self._radios = {}
        elif self._form is None or "name" not in attrs or "disabled" in attrs:
            return
        elif tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in TEXT_INPUTS:
                self._form.fields.append(
                    {
                        "kind": "text",
                        "name": attrs["name"],
                        "value": attrs.get("value", ""),
                        "options": [],
                    }
                )
            elif kind in ("checkbox", "radio"):
                option = (attrs.get("value", "on"), "checked" in attrs)
                if kind == "radio" and attrs["name"] in self._radios:
                    self._radios[attrs["name"]]["options"].append(option)
                    return
                group = {"kind": kind, "name": attrs["name"], "value": "", "options": [option]}
                if kind == "radio":
                    self._radios[attrs["name"]] = group
                self._form.fields.append(group)
        elif tag == "select":
            self._select = {"kind": "select", "name": attrs["name"], "value": "", "options": []}
            self._form.fields.append(self._select)
        elif tag == "textarea":
            self._form.fields.append(
                {"kind": "text", "name": attrs["name"], "value": "", "options": []}
            )

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def _links_and_forms(html):
    parser = _HTMLLinks()
    parser.feed(html)
    parser.close()
    return parser.links, parser.forms, parser.images


def _xml_links(content):
    """<loc> of a sitemap, <link> of a feed."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError:
        return []
    links = []
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ("loc", "link") and element.text and element.text.strip():
            links.append(element.text.strip())
        if name == "link" and element.get("href"):
            links.append(element.get("href"))
    return links


def same_site(url, base):
    """The path and query of ``url`` (relative to ``base``) if it is a page of this site."""
    parts = urlsplit(urljoin(base, url))
    if parts.scheme not in ("http", "https", "") or parts.netloc not in SAME_SITE_HOSTS:
        return None
    if parts.path.startswith(SKIPPED_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page_type(path):
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return "(no URL pattern)"


@dataclass
class CrawlResult:
    pages: dict[str, Page]
    finished: bool
    # {(page type, whether it shows a hostile name): the first such page that answered 200},
    # with its content: what the HTML validity check reads.
    representatives: dict[tuple[str, bool], Page]
    # {picture URL: (its status, the first page that showed it)}.
    images: dict[str, tuple[int, str]] = field(default_factory=dict)


def crawl(client, start, *, hostile_slugs=frozenset(), limit=6000):
    """Breadth first from ``start``; stops after ``limit`` pages (``finished`` is then False).
    Pages of rows whose slug is in ``hostile_slugs`` get representatives of their own."""
    queue = deque((url, "(start)") for url in start)
    seen = set(start)
    pages, representatives = {}, {}
    images = {}  # {picture URL: the first page that showed it}
    submitted = set()  # (action, field, value): each option once, site-wide

    def enqueue(url, referrer):
        if url is not None and url not in seen:
            seen.add(url)
            queue.append((url, referrer))

    while queue:
        if len(pages) >= limit:
            return CrawlResult(pages, finished=False, representatives=representatives)
        url, referrer = queue.popleft()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        error = ""
        if getattr(response, "exc_info", None):
            error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
        content_type = response.get("Content-Type", "")
        page = pages[url] = Page(
            url=url,
            referrer=referrer,
            status=response.status_code,
            queries=len(queries),
            page_type=page_type(url),
            content_type=content_type,
            location=response.get("Location", ""),
            error=error,
        )
        if page.location:
            enqueue(same_site(page.location, url), url)
        if response.status_code != 200:
            continue
        key = (page.page_type, _shows(url, hostile_slugs))
        if key not in representatives:
            page.content = response.content
            representatives[key] = page
        if content_type.startswith("text/html"):
            html = response.content.decode(response.charset or "utf-8")
            links, forms, pictures = _links_and_forms(html)
            for src in pictures:
                images.setdefault(urljoin(url, src), url)
            for href in links:
                enqueue(same_site(href, url), url)
            for form in forms:
                action = same_site(form.action or url, url)
                if action is None:
                    continue
                action_path = urlsplit(action).path
                enqueue(_with_query(action_path, form.default_query()), f"{url} (form)")
                for name, value, query in form.variants():
                    if (action_path, name, value) not in submitted:
                        submitted.add((action_path, name, value))
                        enqueue(_with_query(action_path, query), f"{url} (form: {name}={value})")
        elif "xml" in content_type:
            for href in _xml_links(response.content):
                enqueue(same_site(href, url), url)
        elif content_type.startswith("text/plain"):  # robots.txt
            text = response.content.decode(response.charset or "utf-8")
            for match in re.finditer(r"^Sitemap:\s*(\S+)", text, re.MULTILINE | re.IGNORECASE):
                enqueue(same_site(match[1], url), url)
    return CrawlResult(
        pages,
        finished=True,
        representatives=representatives,
        images={src: (_status(client, src), page) for src, page in images.items()},
    )


def _status(client, url):
    """The status of a picture's URL: a same-site one fetched (and its file closed), others 0."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "") or parts.netloc not in SAME_SITE_HOSTS:
        return 0
    response = client.get(parts.path)
    response.close()
    return response.status_code


def _shows(url, slugs):
    """Whether the page belongs to, or filters by, a row whose slug is in ``slugs``."""
    parts = urlsplit(url)
    try:
        values = {v for v in resolve(parts.path).kwargs.values() if isinstance(v, str)}
    except Resolver404:
        values = set()
    values |= {value for _, value in parse_qsl(parts.query)}
    return bool(values & slugs)


def _with_query(path, pairs):
    return f"{path}?{urlencode(pairs)}" if pairs else path


# The pages readers and crawlers start from, and the load balancer's health checks.
START = [
    "/",
    "/sitemap.xml",
    "/robots.txt",
    "/healthz",
    "/readyz",
    # The header's search box is crawled empty: searches that find films, people and reviews.
    "/search/?q=kalatozof",
    "/search/?q=%D0%9B%D0%B5%D1%82%D1%8F%D1%82+%D0%B6%D1%83%D1%80%D0%B0%D0%B2%D0%BB%D0%B8",
    "/search/?q=cranes+flying",
    "/search/?q=%3Cscript%3E%21%21%21",
]


@contextmanager
def _media_served(root):
    """Uploaded pictures stored under ``root`` and served at /media/ by Django (filmmag/media.py),
    as with DJANGO_SERVE_MEDIA=true: the URLconf is built again with it, and afterwards without."""
    import filmmag.urls

    try:
        with override_settings(MEDIA_ROOT=root, FILMMAG_SERVE_MEDIA=True):
            importlib.reload(filmmag.urls)
            clear_url_caches()
            yield
    finally:
        importlib.reload(filmmag.urls)
        clear_url_caches()


@pytest.fixture(scope="session")
def crawled_site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo magazine, with its generated pictures, plus the hostile catalogue, crawled once
    for all the session's checks (the crawl test and the HTML validity check); the data is
    rolled back afterwards."""
    from django.core.management import call_command

    from tests.hostile import make_hostile_catalogue

    plain_static = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with (
        django_db_blocker.unblock(),
        override_settings(STORAGES=plain_static),
        _media_served(tmp_path_factory.mktemp("crawl-media")),
        transaction.atomic(),
    ):
        cache.clear()
        call_command("load_demo", stdout=StringIO())
        hostile = {row.slug for row in make_hostile_catalogue()}
        result = crawl(Client(raise_request_exception=False), START, hostile_slugs=hostile)
        transaction.set_rollback(True)
    cache.clear()
    return result
