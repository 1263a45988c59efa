"""Settings for the benchmarks (bench/scale.py): the site's own, with the bare view's URL added
and static files addressed without a manifest (nothing is collected for a benchmark). On
PostgreSQL, BENCH_STATEMENT_TIMEOUT_MS cuts a query short, so that a page whose queries do not
scale answers 500 instead of holding up the run."""

import os

from filmmag.settings import *  # noqa: F403
from filmmag.settings import DATABASES, STORAGES

ROOT_URLCONF = "bench.urls"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    timeout = int(os.environ.get("BENCH_STATEMENT_TIMEOUT_MS", "0"))
    if timeout:  # added to the site's own options (jit, work_mem), not in their place
        options = DATABASES["default"]["OPTIONS"]
        options["options"] = f"{options.get('options', '')} -c statement_timeout={timeout}".strip()
