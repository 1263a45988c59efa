"""Settings for the benchmarks (bench/scale.py): the site's own, with the bare view's URL added
and static files addressed without a manifest (nothing is collected for a benchmark)."""

from filmmag.settings import *  # noqa: F403
from filmmag.settings import STORAGES

ROOT_URLCONF = "bench.urls"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
