"""The page cache: whole responses of public pages for anonymous readers, never out of date.

What: the pages in ``PUBLIC_PAGES`` (lists, detail pages, search, feeds, sitemaps, robots.txt),
GET and HEAD, answered 200 to a reader with no session, in the default cache (Redis when
REDIS_URL is set; a cache that is down is no page cache, never an error).

Key: method, scheme, host, path and query string, and the reader's own region (the ``region``
cookie or the site's default; ``?region=`` is in the query string). Each entry holds the
catalogue version (films/cache.py) it was made at, and is served only at that version: any save
an editor makes replaces the version, so no page from before it is served at the next request;
a scheduled publication or expiry replaces it at its time, and no entry is kept past that time
(nor past midnight, when "new on" lists move on a day). The version and the page come in one
read (MGET), rather than two with the version in the key.

Never stored, nor served from the cache: requests with a session or messages cookie (staff,
editors, previews; an authenticated user always has one), other methods, and responses that are
not 200, stream, set a cookie, used a CSRF token or the CSP nonce, say private or no-store, or
vary on more than Cookie and Accept-Encoding.

CSP nonces: Django makes a request's nonce lazily, and ``get_nonce(request)`` is true only once
something (a template's ``{{ csp_nonce }}``) used it; only then does the header carry it. A page
whose body used its nonce is never stored, since every reader must get a fresh one; a stored
page's policy has no nonce, and its body no nonce attribute, so the two always agree.

Compression (BREACH): BREACH guesses a secret in a compressed body from its length, with input
of its own reflected in the same body. Only stored pages are compressed, and a stored page is by
construction the same bytes for every reader who asks for it: no session, no CSRF token, no
nonce, nothing that differs from one reader to another, so there is no secret to guess. Other
responses (the admin, forms, previews) are never compressed here.

Headers: a weak ETag (of the uncompressed body) and Last-Modified (when the page was made) with
304 Not Modified; ``Cache-Control: public`` with a short ``max-age`` for browsers, ``s-maxage``
for a CDN and ``stale-while-revalidate``, none of them reaching past the next scheduled change;
``Vary: Cookie, Accept-Encoding``. Responses to readers with a session say ``private``.
"""

import gzip
import hashlib
import re
from dataclasses import astuple, dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, split_header_value
from django.utils.text import compress_string

from filmmag.cache import cache_is_down
from films.cache import VERSION_KEY, CatalogueVersion, current_version
from films.regions import cookie_region

PUBLIC_PAGES = frozenset(
    {
        "reviews:home",
        "reviews:review_list",
        "reviews:review_detail",
        "reviews:tag_detail",
        "reviews:search",
        "reviews:review_feed",
        "reviews:review_atom_feed",
        "reviews:film_list_feed",
        "reviews:film_list_atom_feed",
        "reviews:genre_feed",
        "reviews:genre_atom_feed",
        "reviews:service_feed",
        "reviews:service_atom_feed",
        "reviews:person_feed",
        "reviews:person_atom_feed",
        "reviews:tag_feed",
        "reviews:tag_atom_feed",
        "films:film_list",
        "films:film_detail",
        "films:person_detail",
        "films:genre_detail",
        "films:service_detail",
        "films:service_new_feed",
        "films:service_new_atom",
        "films:service_left_feed",
        "films:service_left_atom",
        "django.contrib.sitemaps.views.index",
        "django.contrib.sitemaps.views.sitemap",
        "robots_txt",
    }
)
CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
KEY_PREFIX = "page:1"  # the entry format's version: a new format must not read old entries
# Headers made per response here, not stored: the rest (Content-Type, the CSP and frame
# policies, X-Robots-Tag...) are stored as the view and the inner middleware made them.
OWN_HEADERS = frozenset(
    {
        "cache-control",
        "content-encoding",
        "content-length",
        "etag",
        "expires",
        "last-modified",
        "vary",
    }
)
ALLOWED_VARY = frozenset({"cookie", "accept-encoding"})
MIN_COMPRESSED_LENGTH = 200  # as GZipMiddleware: below this, gzip makes it no smaller
accepts_gzip = re.compile(r"\bgzip\b").search


@dataclass(frozen=True)
class Entry:
    """A stored page. Stored as a tuple of plain values, which unpickle whatever this becomes."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    gzipped: bool  # body is gzip's; the uncompressed length is not kept
    etag: str
    made_at: float  # a timestamp: when the page was made, its Last-Modified

    @classmethod
    def of(cls, response: HttpResponse, made_at: datetime) -> "Entry":
        content = response.content
        etag = f'W/"{hashlib.md5(content, usedforsecurity=False).hexdigest()}"'
        headers = tuple(
            (name, value) for name, value in response.items() if name.lower() not in OWN_HEADERS
        )
        gzipped = False
        if len(content) >= MIN_COMPRESSED_LENGTH:
            # No random filler (GZipMiddleware's BREACH mitigation): nothing secret is in here.
            compressed = compress_string(content)
            if len(compressed) < len(content):
                content, gzipped = compressed, True
        return cls(headers, content, gzipped, etag, made_at.timestamp())

    def response(self, request, *, until: int) -> HttpResponse:
        """The page for ``request`` (compressed if it accepts gzip), or 304 Not Modified."""
        if self.gzipped and not accepts_gzip(request.headers.get("Accept-Encoding", "")):
            body, encoding = gzip.decompress(self.body), ""
        else:
            body, encoding = self.body, "gzip" if self.gzipped else ""
        response = HttpResponse(body)
        for name, value in self.headers:
            response[name] = value
        if encoding:
            response["Content-Encoding"] = encoding
        response["Content-Length"] = str(len(body))
        response["ETag"] = self.etag
        response["Last-Modified"] = http_date(self.made_at)
        public_headers(response, until=until)
        return get_conditional_response(
            request, etag=self.etag, last_modified=int(self.made_at), response=response
        )


class PageCacheMiddleware:
    """Placed before the session middleware: a hit costs one cache read (the catalogue
    version and the page together) and no session, no user, no query. The setting
    ``PAGE_CACHE_ENABLED`` is read at every request, so tests and benchmarks can switch it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.PAGE_CACHE_ENABLED or not may_be_cached(request):
            return mark_personal(request, self.get_response(request))
        now = timezone.now()
        key = page_key(request)
        # One round trip: the page, and the version it must have been made at to be served.
        found = cache.get_many([VERSION_KEY, key])
        if VERSION_KEY not in found and cache_is_down(cache):
            # Finding the next scheduled change (a query) would be for a version nobody keeps.
            return mark_personal(request, self.get_response(request))
        try:
            version = current_version(now, stored=found.get(VERSION_KEY))
        except DatabaseError:  # the view will meet it too, and answer with the 503 page
            version = None
        if version is None:  # the cache is unavailable: no page cache
            return mark_personal(request, self.get_response(request))
        match found.get(key):
            case (version.number, *stored):
                return Entry(*stored).response(request, until=seconds_until_change(version, now))
        response = self.get_response(request)
        if not may_store(request, response):
            return mark_personal(request, response)
        # Made from data read after ``version`` was: a change since then has replaced the
        # version, so this entry will never be served rather than be served stale.
        entry = Entry.of(response, made_at=now)
        stored_at = timezone.now()
        timeout = min(settings.PAGE_CACHE_TIMEOUT, seconds_until_change(version, stored_at))
        if timeout > 0:
            cache.set(key, (version.number, *astuple(entry)), timeout)
        return entry.response(request, until=seconds_until_change(version, stored_at))


def may_be_cached(request) -> bool:
    """May ``request`` be answered from the cache? Only for a public page, and not with a
    session (staff, previews: anyone logged in has one) or a message waiting to be shown.
    Other addresses (the admin, health checks, media) never touch the cache here."""
    cookies = request.COOKIES
    return (
        request.method in CACHEABLE_METHODS
        and settings.SESSION_COOKIE_NAME not in cookies
        and CookieStorage.cookie_name not in cookies
        and public_page(request)
    )


def public_page(request) -> bool:
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    return _is_public(request.path_info, urlconf)


@lru_cache(maxsize=4096)  # resolving is a good part of a hit's time; paths repeat
def _is_public(path: str, urlconf: str) -> bool:
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    return match.view_name in PUBLIC_PAGES


def may_store(request, response) -> bool:
    """Is ``response`` the same page for every anonymous reader with this key?"""
    match = request.resolver_match
    if match is None or match.view_name not in PUBLIC_PAGES:
        return False
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if response.has_header("Content-Encoding"):
        return False
    cache_control = {d.split("=")[0].strip().lower() for d in _split(response, "Cache-Control")}
    if cache_control & {"private", "no-store"}:
        return False
    if {v.lower() for v in _split(response, "Vary")} - ALLOWED_VARY:
        return False
    if get_nonce(request):  # the body used this request's nonce: see the module's docstring
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):  # a CSRF token is in the body
        return False
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def _split(response, header: str) -> list[str]:
    return list(split_header_value(response.get(header, "")))


def page_key(request) -> str:
    """The page's key. The catalogue version is not in it but in the entry, so that one read
    brings both; an entry made at another version is a miss, and is replaced."""
    url = request.build_absolute_uri()  # scheme and host: pages carry absolute links
    digest = hashlib.sha256(url.encode()).hexdigest()
    return f"{KEY_PREFIX}:{request.method}:{cookie_region(request)}:{digest}"


def seconds_until_change(version: CatalogueVersion, now: datetime) -> int:
    """Seconds until what the pages show may change by itself: the next scheduled change
    (a review's publication or expiry) or the next local midnight (the "new on" and "recently
    left" lists count days), whichever is first."""
    today = timezone.localdate(now)
    midnight = datetime.combine(today + timedelta(days=1), time(), timezone.get_current_timezone())
    limit = int((midnight - now).total_seconds())
    return version.timeout(limit, now)


def public_headers(response: HttpResponse, *, until: int) -> None:
    """Cache-Control for browsers (``max-age``) and a CDN (``s-maxage``, then
    ``stale-while-revalidate``), none of them reaching past ``until`` seconds from now."""
    s_maxage = min(settings.PAGE_CACHE_S_MAXAGE, until)
    stale = min(settings.PAGE_CACHE_STALE_WHILE_REVALIDATE, until - s_maxage)
    directives = {
        "public": True,
        "max_age": min(settings.PAGE_CACHE_MAX_AGE, until),
        "s_maxage": s_maxage,
    }
    if stale > 0:
        directives["stale_while_revalidate"] = stale
    response.headers.pop("Cache-Control", None)
    patch_cache_control(response, **directives)
    patch_vary_headers(response, ["Cookie", "Accept-Encoding"])


def mark_personal(request, response: HttpResponse) -> HttpResponse:
    """A response made for one reader (a session, a logged-in user, a CSRF token, a cookie
    set) says so: ``private`` (unless it already says ``no-store``), so no shared cache keeps
    it, and ``no-cache``, so editors see their changes at once; and it varies on Cookie."""
    if not is_personal(request, response):
        return response
    cache_control = {d.split("=")[0].strip().lower() for d in _split(response, "Cache-Control")}
    if "no-store" not in cache_control:
        directives = {"private": True}
        if "max-age" not in cache_control:
            directives["no_cache"] = True
        patch_cache_control(response, **directives)
    patch_vary_headers(response, ["Cookie"])
    return response


def is_personal(request, response) -> bool:
    if settings.SESSION_COOKIE_NAME in request.COOKIES or response.cookies:
        return True
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
