import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from filmmag import health
from filmmag.media import serve_media
from films.sitemaps import FilmSitemap, GenreSitemap, PersonSitemap
from reviews.sitemaps import ReviewSitemap

sitemaps = {
    "films": FilmSitemap,
    "reviews": ReviewSitemap,
    "people": PersonSitemap,
    "genres": GenreSitemap,
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
        sitemap,
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
