"""Settings for filmmag: one module, configured by environment variables.

DJANGO_DEBUG, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DJANGO_CSRF_TRUSTED_ORIGINS,
DATABASE_URL (default: SQLite in the project folder), REDIS_URL (default: local memory cache),
DJANGO_MEDIA_ROOT or DJANGO_S3_* (pictures), DJANGO_DEFAULT_REGION. The README lists them all.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Development is the default, so `python manage.py ...` works in a fresh checkout; production
# sets DJANGO_DEBUG=false, and then a missing DJANGO_SECRET_KEY stops start-up.
DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production). "
            "For local development leave DJANGO_DEBUG unset or true."
        )
    SECRET_KEY = "django-insecure-development-only-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django.contrib.postgres",  # search: SearchVectorField, trigram lookups (films.search)
    "django_countries",
    "django_filters",
    "taggit",
    "axes",
    "reversion",
    "films",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "filmmag.limits.RequestLimitsMiddleware",
    # Before the session: a page from the cache needs no session, user or query.
    "filmmag.page_cache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "filmmag.urls"
WSGI_APPLICATION = "filmmag.wsgi.application"
ASGI_APPLICATION = "filmmag.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Readers and the admin write at the same time: wait for the lock instead of failing,
    # and take it at the start of a transaction so concurrent writers queue cleanly.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer fails the request in seconds (readers get the 503
    # page), not after the system's TCP timeout of about two minutes.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "5")))
    # Per connection: no JIT compilation (it cost a facet query 600 ms to save a few), room
    # for the facet counts' hashes and sorts in memory rather than on disk, and no parallel
    # workers (starting them cost short queries more than they saved). README, Speed.
    options.setdefault(
        "options",
        os.environ.get(
            "DJANGO_DB_OPTIONS", "-c jit=off -c work_mem=32MB -c max_parallel_workers_per_gather=0"
        ),
    )

# PostgreSQL read replicas (streaming standbys of DATABASE_URL): public pages read from them,
# everything else from the primary (filmmag/db_router.py). Tests use the primary in their place.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
for number, url in enumerate(DATABASE_REPLICA_URLS, start=1):
    replica = dj_database_url.parse(
        url,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    if {replica["ENGINE"], DATABASES["default"]["ENGINE"]} != {"django.db.backends.postgresql"}:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS are replicas of a PostgreSQL DATABASE_URL: "
            f"replica {number} is not PostgreSQL, or DATABASE_URL is not."
        )
    replica.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "5"))
    )
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{number}"] = replica
if DATABASE_REPLICA_URLS:
    DATABASE_ROUTERS = ["filmmag.db_router.ReplicaRouter"]
    # Around everything that reads or writes the database (sessions are saved on the way out).
    MIDDLEWARE.insert(
        MIDDLEWARE.index("filmmag.limits.RequestLimitsMiddleware") + 1,
        "filmmag.db_router.ReplicaReadsMiddleware",
    )
# A replica further behind than this is not read from; its lag is measured every
# DJANGO_REPLICA_CHECK_SECONDS (and a replica that is down is tried again as often).
FILMMAG_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DJANGO_REPLICA_MAX_LAG_SECONDS", "10"))
FILMMAG_REPLICA_CHECK_SECONDS = float(os.environ.get("DJANGO_REPLICA_CHECK_SECONDS", "5"))
# After a request that wrote, that browser reads from the primary for this long: at least the
# lag a replica may have plus the time between checks, so it then finds its write on a replica.
FILMMAG_REPLICA_STICKY_SECONDS = int(os.environ.get("DJANGO_REPLICA_STICKY_SECONDS", "30"))
if FILMMAG_REPLICA_STICKY_SECONDS < FILMMAG_REPLICA_MAX_LAG_SECONDS + FILMMAG_REPLICA_CHECK_SECONDS:
    raise ImproperlyConfigured(
        "DJANGO_REPLICA_STICKY_SECONDS must be at least DJANGO_REPLICA_MAX_LAG_SECONDS plus "
        "DJANGO_REPLICA_CHECK_SECONDS, or an editor could miss their own change on a replica."
    )


def cache_settings(redis_url: str, *, timeout_ms: int = 250, prefix: str = "filmmag") -> dict:
    """CACHES for REDIS_URL: Redis behind short timeouts, whose errors are misses
    (filmmag/cache.py); without a URL, the local-memory cache."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    seconds = timeout_ms / 1000
    return {
        "default": {
            "BACKEND": "filmmag.cache.ResilientRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": seconds, "socket_timeout": seconds},
        }
    }


REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = cache_settings(
    REDIS_URL,
    timeout_ms=int(os.environ.get("DJANGO_CACHE_TIMEOUT_MS", "250")),
    prefix=os.environ.get("DJANGO_CACHE_PREFIX", "filmmag"),
)
if REDIS_URL:
    # Sessions are cached in Redis and stored in the database, so editors stay logged in
    # through a cache flush and can log in and work while Redis is down.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# The page cache (filmmag/page_cache.py): whole public pages for readers with no session, kept
# for at most DJANGO_PAGE_CACHE_SECONDS and never past the next scheduled change. Browsers may
# reuse a page for DJANGO_PAGE_CACHE_MAX_AGE seconds, a CDN for DJANGO_PAGE_CACHE_S_MAXAGE and
# then DJANGO_PAGE_CACHE_STALE seconds more while it asks again.
PAGE_CACHE_ENABLED = env_bool("DJANGO_PAGE_CACHE", True)
PAGE_CACHE_TIMEOUT = int(os.environ.get("DJANGO_PAGE_CACHE_SECONDS", "600"))
PAGE_CACHE_MAX_AGE = int(os.environ.get("DJANGO_PAGE_CACHE_MAX_AGE", "30"))
PAGE_CACHE_S_MAXAGE = int(os.environ.get("DJANGO_PAGE_CACHE_S_MAXAGE", "60"))
PAGE_CACHE_STALE_WHILE_REVALIDATE = int(os.environ.get("DJANGO_PAGE_CACHE_STALE", "30"))
# Shared pages (films/fragments.py): a public page's content made once per catalogue version
# and given to every reader, with a session or not. Off, each request makes its page (with the
# facet counts still cached): `make bench` measures both.
SHARED_PAGES_ENABLED = env_bool("DJANGO_SHARED_PAGES", True)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes): after DJANGO_AXES_FAILURE_LIMIT failed logins for one
# username, or from one address, log-ins from it are refused for DJANGO_AXES_COOLOFF_MINUTES.
# Attempts are kept in the database, so throttling holds while Redis is down.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_AXES_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every manage.py command's output
AXES_LOCKOUT_CALLABLE = "filmmag.login_throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "filmmag.login_throttling.client_ip"
# Proxies in front of the site that append to X-Forwarded-For (production: one, the TLS proxy).
FILMMAG_PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", "0" if DEBUG else "1"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "filmmag" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# Django serves MEDIA_URL itself (filmmag/media.py): always with debug on; in production only if
# nothing in front (nginx, an object store) does.
FILMMAG_SERVE_MEDIA = DEBUG or env_bool("DJANGO_SERVE_MEDIA", False)
# Pictures are stored in MEDIA_ROOT, or, when DJANGO_S3_BUCKET is set, in an S3-compatible bucket
# (AWS S3, Cloudflare R2, MinIO, Scaleway...) through django-storages. The bucket (or the CDN at
# DJANGO_S3_CUSTOM_DOMAIN) must be publicly readable: URLs are plain, not signed, so a page with
# fifty pictures makes no signing call, and a picture's URL stays the same, cacheable for a year
# (every stored name is made from the content and never reused for another file).
S3_BUCKET = os.environ.get("DJANGO_S3_BUCKET", "")
S3_ENDPOINT_URL = os.environ.get("DJANGO_S3_ENDPOINT_URL", "").rstrip("/")
S3_CUSTOM_DOMAIN = os.environ.get("DJANGO_S3_CUSTOM_DOMAIN", "").strip("/")
S3_REGION = os.environ.get("DJANGO_S3_REGION", "")
PICTURE_CACHE_CONTROL = "public, max-age=31536000, immutable"
if S3_BUCKET:
    from botocore.config import Config as BotocoreConfig

    default_storage = {
        "BACKEND": "filmmag.storage.PublicS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION or None,
            # Unset: boto3 finds credentials itself (AWS_* variables, an instance role).
            "access_key": os.environ.get("DJANGO_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("DJANGO_S3_SECRET_ACCESS_KEY") or None,
            "custom_domain": S3_CUSTOM_DOMAIN or None,
            "location": os.environ.get("DJANGO_S3_LOCATION", "").strip("/"),
            # Path style for a custom endpoint (MinIO, R2 and most others accept it), so the
            # origin is the endpoint's own; AWS itself prefers bucket.s3.<region>.amazonaws.com.
            "addressing_style": "path" if S3_ENDPOINT_URL else "virtual",
            "querystring_auth": False,
            # Never replace a stored object: a name already taken gets a suffix.
            "file_overwrite": False,
            "default_acl": os.environ.get("DJANGO_S3_ACL") or None,
            "object_parameters": {"CacheControl": PICTURE_CACHE_CONTROL},
            # A store that is down fails an upload within seconds, with a message in the form.
            "client_config": BotocoreConfig(
                connect_timeout=3,
                read_timeout=15,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        },
    }
else:
    default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads. An image (a poster) may be at most DJANGO_MAX_IMAGE_MB and DJANGO_MAX_IMAGE_MEGAPIXELS;
# films/images.py checks every upload against these and Pillow's bomb limit is set to the same.
FILMMAG_MAX_IMAGE_BYTES = int(float(os.environ.get("DJANGO_MAX_IMAGE_MB", "10")) * 1_000_000)
FILMMAG_MAX_IMAGE_PIXELS = int(
    float(os.environ.get("DJANGO_MAX_IMAGE_MEGAPIXELS", "40")) * 1_000_000
)
# The modern formats of every rendition (films/pictures.py), besides the JPEG/PNG fallback:
# "webp" (default) or "avif,webp". AVIF is about 60% smaller than WebP but takes about 5x as long
# to encode (about 1 s more per poster upload; `make bench` measures it).
FILMMAG_IMAGE_FORMATS = tuple(
    fmt.strip().lower()
    for fmt in os.environ.get("DJANGO_IMAGE_FORMATS", "webp").split(",")
    if fmt.strip()
)
if not set(FILMMAG_IMAGE_FORMATS) <= {"avif", "webp"}:
    raise ImproperlyConfigured("DJANGO_IMAGE_FORMATS takes avif and/or webp, e.g. 'avif,webp'.")
# A whole request body (DJANGO_MAX_REQUEST_MB) is refused with a 413 page before it is read.
# Generous beside the image limit, so an oversized poster still reaches the form and gets a
# field error with its size; a proxy in front should allow the same (nginx client_max_body_size).
FILMMAG_MAX_REQUEST_BYTES = int(float(os.environ.get("DJANGO_MAX_REQUEST_MB", "64")) * 1_000_000)
if FILMMAG_MAX_REQUEST_BYTES < 2 * FILMMAG_MAX_IMAGE_BYTES:
    raise ImproperlyConfigured(
        "DJANGO_MAX_REQUEST_MB must be at least twice DJANGO_MAX_IMAGE_MB, so an image just "
        "over its limit gets a form error rather than a refused request."
    )
# Form text (not files): the largest is a 1 MB review document, pasted, carried between the
# import steps in base64, or percent-encoded in a plain form (3 bytes for each byte of UTF-8).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_000_000
# A film's change form has seven fields per credit row: room for casts of hundreds.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# Uploads over this go to a temporary file instead of memory: a review document stays in
# memory, a large poster streams to disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_500_000

# Development prints email to the console; production sends it by SMTP (localhost:25 unless
# DJANGO_EMAIL_BACKEND names another backend).
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_EMAIL_BACKEND",
            "django.core.mail.backends.console.EmailBackend"
            if DEBUG
            else "django.core.mail.backends.smtp.EmailBackend",
        ),
    }
}


def picture_origins() -> list[str]:
    """Where pictures come from when they are not on this site: the CDN, or the bucket."""
    if S3_CUSTOM_DOMAIN:
        return [f"https://{S3_CUSTOM_DOMAIN.split('/')[0]}"]
    if S3_ENDPOINT_URL:
        return ["/".join(S3_ENDPOINT_URL.split("/")[:3])]
    if S3_BUCKET:
        region = S3_REGION or "us-east-1"
        return [
            f"https://{S3_BUCKET}.s3.amazonaws.com",
            f"https://{S3_BUCKET}.s3.{region}.amazonaws.com",
        ]
    return []


SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *picture_origins()],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features the site never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    ]
}
if not DEBUG:
    # Production sits behind a TLS-terminating proxy; DJANGO_SECURE_COOKIES=false for plain HTTP.
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
    # A load balancer's health checks may come over plain HTTP, straight to the site.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    # HSTS (sent only on HTTPS responses) is on whenever the site is HTTPS, as secure cookies
    # say it is: a year, for this host only unless the two switches below widen it.
    SECURE_HSTS_SECONDS = int(
        os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000" if SESSION_COOKIE_SECURE else "0")
    )
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

TAGGIT_CASE_INSENSITIVE = True

# Countries that films come from include states that no longer exist.
COUNTRIES_OVERRIDE = {
    "SU": "Soviet Union",
    "DD": "East Germany",
    "CS": "Czechoslovakia",
    "YU": "Yugoslavia",
    "US": "United States",
    "GB": "United Kingdom",
}

# The region readers see first under "Where to watch", and the one imported availability gets.
FILMMAG_DEFAULT_REGION = os.environ.get("DJANGO_DEFAULT_REGION", "US").upper()


# Offer history (films.models.Availability): offers not checked for this many days are listed
# as stale in the admin; arrivals and departures this recent are "New on" / "Recently left".
def env_days(name: str, default: int) -> int:
    try:
        days = int(os.environ.get(name, str(default)))
    except ValueError:
        days = 0
    if days < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of days, at least 1.")
    return days


FILMMAG_OFFER_STALE_DAYS = env_days("DJANGO_OFFER_STALE_DAYS", 90)
FILMMAG_OFFER_RECENT_DAYS = env_days("DJANGO_OFFER_RECENT_DAYS", 30)

# How long a shared preview link works, in days: the default and the most an editor may choose.
try:
    FILMMAG_PREVIEW_LINK_DAYS = int(os.environ.get("DJANGO_PREVIEW_LINK_DAYS", "7"))
except ValueError:
    FILMMAG_PREVIEW_LINK_DAYS = 0
if FILMMAG_PREVIEW_LINK_DAYS < 1:
    raise ImproperlyConfigured(
        "DJANGO_PREVIEW_LINK_DAYS must be a whole number of days, at least 1."
    )
