"""The site's URLs plus a bare view, the yardstick of bench/scale.py: the same middleware and
server, and almost nothing else. Only the benchmark settings (bench/settings.py) mount it."""

from django.http import HttpResponse
from django.urls import path

from filmmag.urls import handler500  # noqa: F401
from filmmag.urls import urlpatterns as site_urlpatterns

BARE_PATH = "bench-bare/"


def bare(request):
    return HttpResponse("bare", content_type="text/plain")


urlpatterns = [path(BARE_PATH, bare, name="bench_bare"), *site_urlpatterns]
