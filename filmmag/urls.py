import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from filmmag import health
from filmmag.media import serve_media
from filmmag.sitemaps import index as sitemap_index
from filmmag.sitemaps import sitemap as sitemap_section
from films.sitemaps import FilmSitemap, GenreSitemap, PersonSitemap, ServiceSitemap
from reviews.sitemaps import ReviewSitemap, TagSitemap

# /sitemap.xml is an index of these sections, each at /sitemap-<section>.xml, split into pages
# (?p=2…) of CountedSitemap.limit (10,000) addresses.
sitemaps = {
    "films": FilmSitemap,
    "people": PersonSitemap,
    "reviews": ReviewSitemap,
    "genres": GenreSitemap,
    "services": ServiceSitemap,
    "tags": TagSitemap,
}

admin.site.site_header = "filmmag editorial"
admin.site.site_title = "filmmag admin"
admin.site.index_title = "Catalogue and reviews"

handler500 = "filmmag.errors.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("reviews.urls")),
    path("", include("films.urls")),
    path(
        "sitemap.xml",
        sitemap_index,
        {"sitemaps": sitemaps},
        name="django.contrib.sitemaps.views.index",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_section,
        {"sitemaps": sitemaps},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots_txt",
    ),
]

# Not django.conf.urls.static.static(), which adds nothing with debug off.
if settings.FILMMAG_SERVE_MEDIA and not urlsplit(settings.MEDIA_URL).netloc:
    urlpatterns.append(
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$",
            serve_media,
            {"document_root": settings.MEDIA_ROOT},
        )
    )
