"""The sitemap sections, written without the template engine.

Django's sitemap view renders ``sitemap.xml`` through a template: about 8 s for a section of
50,000 films (the limit sitemaps allow, and ours). The view still chooses the section, the page
and the addresses, and sets its headers; only the writing of its ``urlset`` is done here, with
the same escaping, in a fraction of a second.
"""

from datetime import date, datetime
from html import escape

from django.contrib.sitemaps import views as sitemaps_views
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from films.fragments import shared_response

OPENING = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:xhtml="http://www.w3.org/1999/xhtml">'
)
CLOSING = "</urlset>\n"
KEPT_HEADERS = ("Last-Modified", "X-Robots-Tag")


def index(request, sitemaps, **kwargs):
    """The index of sections, made once per catalogue version and shared, as they are."""
    return shared_response(
        "sitemap-index",
        request,
        lambda: sitemaps_views.index(request, sitemaps, **kwargs).render(),
    )


def sitemap(request, sitemaps, section=None, **kwargs):
    """A section, made once per catalogue version and shared (films.fragments)."""
    return shared_response(
        "sitemap", request, lambda: _section(request, sitemaps, section, **kwargs)
    )


def _section(request, sitemaps, section, **kwargs):
    response = sitemaps_views.sitemap(request, sitemaps, section, **kwargs)
    if not isinstance(response, TemplateResponse) or response.context_data is None:
        return response
    body = "".join(map(_url, response.context_data["urlset"]))
    written = HttpResponse(
        OPENING + body + CLOSING,
        content_type=response["Content-Type"],
        status=response.status_code,
    )
    for header in KEPT_HEADERS:
        if header in response:
            written[header] = response[header]
    return written


def _url(url: dict) -> str:
    parts = [f"<url><loc>{escape(url['location'])}</loc>"]
    if lastmod := url.get("lastmod"):
        if isinstance(lastmod, datetime):
            if timezone.is_aware(lastmod):
                lastmod = timezone.localtime(lastmod)  # as the template's date filter does
            lastmod = lastmod.date()
        if isinstance(lastmod, date):
            parts.append(f"<lastmod>{lastmod.isoformat()}</lastmod>")
    if changefreq := url.get("changefreq"):
        parts.append(f"<changefreq>{escape(str(changefreq))}</changefreq>")
    if priority := url.get("priority"):
        parts.append(f"<priority>{escape(str(priority))}</priority>")
    for alternate in url.get("alternates") or ():
        parts.append(
            f'<xhtml:link rel="alternate" hreflang="{escape(str(alternate["lang_code"]))}" '
            f'href="{escape(alternate["location"])}"/>'
        )
    parts.append("</url>")
    return "".join(parts)
