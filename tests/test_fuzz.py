"""Property-based fuzzing (Hypothesis) of everything a stranger can send the site.

- every public URL's query parameters and path segments: long strings, NUL bytes, control
  characters, any Unicode (lone surrogates sent as raw %ED%A0%80), right to left, emoji,
  repeated keys, SQL and markup, huge, negative and non-numeric numbers: never a 5xx, and
  never more SQL queries than the crawl's budget for the page type;
- the review importer, with mutations of a real house-format document: a report, or a
  DocumentError / ReviewImportError with a message, and nothing written when it fails;
- the picture uploads in the admin (posters, stills, portraits, logos, review lead images): a
  saved picture whose original and renditions fully decode, or the form back with an error on
  the picture and no file left in storage.

Examples are bounded and derandomised by the Hypothesis profile in tests/conftest.py: every run
tries the same inputs, in CI and locally.
"""

import io
import random
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from hypothesis import given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image
from taggit.models import Tag, TaggedItem

from films.cache import current_version
from films.filters import DECADES, Reviewed, Sort
from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from films.pictures import rendition_names
from reviews.models import Review
from reviews.parser import DocumentError, parse_document
from reviews.preview import preview_link_create
from reviews.services import ReviewImportError, review_import_file
from tests.admin_helpers import editor_client
from tests.factories import make_film, make_offer, make_review
from tests.films.picture_forms import TARGETS
from tests.films.test_admin import film_form_data
from tests.test_crawl import CEILING, QUERY_BUDGET

pytestmark = pytest.mark.django_db

DOCUMENT = Path(__file__).parent / "reviews" / "documents" / "the-cranes-are-flying.txt"

# --- Values -----------------------------------------------------------------------------------

HOSTILE_VALUES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\t\r\n",
    "\x1b[31m",
    "\ud800",  # a lone surrogate: sent as %ED%A0%80
    "\udfff\ud800",
    "\u202e1957",  # right-to-left override
    "الرسالة",
    "🎬🍿",
    "👩🏽‍🚀",
    "\u0301\u0308",
    "\u200b",
    "' OR '1'='1",
    "1; DROP TABLE films_film; --",
    "%' --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7|add:7 }}",
    "%00",
    "%ED%A0%80",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1",
    "-0",
    "0",
    "1.5",
    "1957.0",
    "9" * 40,
    str(2**63),
    str(-(2**63) - 1),
    "0x7a9",
    "1_957",
    "١٩٥٧",  # Arabic-Indic digits: int() accepts them
    "𝟙𝟡𝟝𝟟",
    "²",
    "..",
    "../../etc/passwd",
    "a" * 5000,
    "é" * 3000,
]

any_text = st.text(st.characters(exclude_categories=()), max_size=60)
long_text = st.builds(lambda s, n: (s or "x") * n, any_text, st.integers(100, 3000))
raw_bytes = st.binary(max_size=40)  # percent-encoded as they are: invalid UTF-8 included


def encode(value):
    """One query-string or path component, percent-encoded as a browser or a bot might."""
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(value, safe="", errors="surrogatepass")


def values(valid):
    return st.one_of(
        st.sampled_from(valid) if valid else st.nothing(),
        st.sampled_from(HOSTILE_VALUES),
        any_text,
        long_text,
        raw_bytes,
        st.integers(-(10**30), 10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


@st.composite
def query_strings(draw, vocabulary):
    """``key=value&…``: known keys with valid and hostile values, unknown keys, and a key
    repeated up to a few hundred times."""
    keys = st.one_of(st.sampled_from(sorted(vocabulary)), any_text, raw_bytes)
    pairs = []
    for key in draw(st.lists(keys, max_size=8)):
        pairs.append((key, draw(values(vocabulary.get(key, [])))))
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(vocabulary)))
        repeats = draw(st.integers(2, 400))
        pairs += [(key, value) for value in draw(st.lists(values(vocabulary[key]), min_size=1))]
        pairs += [(key, draw(values(vocabulary[key])))] * repeats
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)


# --- Requests ---------------------------------------------------------------------------------


def catalogue():
    """A small catalogue with a published review: valid slugs to mix with hostile input."""
    film = make_film(
        "Летят журавли",
        year=1957,
        genres=["War", "羅生門"],
        directors=["Mikhail Kalatozov", "!!!"],
        cast=[("Tatiana Samoilova", "Veronika")],
        availability=[("Criterion Channel", "subscription"), ("🎬 Film 🍿", "rent", "GB")],
    )
    film.tags.add("soviet cinema", "café society")
    make_offer(film, "Criterion Channel", "rent", days_ago=40, left_days_ago=3)  # offer history
    review = make_review(film, rating=4.5, keywords=["céline sciamma", "…"])
    make_film("Vertigo", year=1958, genres=["Thriller"], directors=["Alfred Hitchcock"])
    return film, review


def fetch(client, url):
    """GET ``url`` with cold caches; fails on a 5xx or on more queries than the page's budget.
    The catalogue version is made first: after a flush, the first request to any public page
    finds the next scheduled change (one query, once), which is not the page's own cost."""
    cache.clear()
    current_version()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code < 500, url
    try:
        kind = resolve(response.wsgi_request.path_info).view_name
    except Resolver404:
        kind = None
    limit = QUERY_BUDGET.get(kind, CEILING)
    assert len(queries) <= limit, f"{len(queries)} queries > {limit} for {kind}: {url[:300]}"
    return response


FILM_LIST_PAGES = {"films:film_list", "films:genre_detail", "films:service_detail"}
# The feeds of the film list's pages take the same filters (reviews/feeds.py).
FILM_LIST_FEEDS = {
    "reviews:film_list_feed",
    "reviews:film_list_atom_feed",
    "reviews:genre_feed",
    "reviews:genre_atom_feed",
    "reviews:service_feed",
    "reviews:service_atom_feed",
}


def test_film_list_query_parameters(client):
    film, _ = catalogue()
    vocabulary = {
        "q": ["Летят", "vertigo", "%"],
        "genre": list(Genre.objects.values_list("slug", flat=True)),
        "director": list(Person.objects.values_list("slug", flat=True)),
        "service": list(StreamingService.objects.values_list("slug", flat=True)),
        "offer": list(Availability.OfferType.values),
        "decade": [value for value, _ in DECADES],
        "year_min": ["1957", "1870", "2100"],
        "year_max": ["1958", "0", "9999"],
        "reviewed": list(Reviewed.values),
        "sort": list(Sort.values),
        "region": ["GB", "us", "FR", "XX"],
        "page": ["1", "2", "last"],
    }
    genre, service = film.genres.first(), film.availabilities.first().service
    paths = [reverse("films:film_list"), genre.get_absolute_url(), service.get_absolute_url()]
    paths += [
        reverse(name, kwargs={"slug": owner.slug} if "_list" not in name else None)
        for name, owner in zip(
            sorted(FILM_LIST_FEEDS),
            [None, None, genre, genre, service, service],
            strict=True,
        )
    ]

    @given(path=st.sampled_from(paths), query=query_strings(vocabulary))
    def check(path, query):
        fetch(client, f"{path}?{query}")

    check()


def preview_link():
    """A live preview link to a draft: the page a contributor opens."""
    editor = get_user_model().objects.create_superuser("fuzz-editor")
    draft = make_review(Film.objects.first(), published=False, keywords=["draft only"])
    return preview_link_create(review=draft, by=editor)


def other_pages(film, review):
    """{URL name: a page of that kind}: every public page outside the film list family."""
    person, tag = film.credits.first().person, review.keywords.first()
    person_and_tag = [
        (kind, row.slug)
        for row, kinds in ((person, ("person", "person_atom")), (tag, ("tag", "tag_atom")))
        for kind in kinds
    ]
    return {
        "reviews:home": reverse("reviews:home"),
        "reviews:review_list": reverse("reviews:review_list"),
        "reviews:search": reverse("reviews:search"),
        "reviews:review_feed": reverse("reviews:review_feed"),
        "reviews:review_atom_feed": reverse("reviews:review_atom_feed"),
        "reviews:review_detail": review.get_absolute_url(),
        "reviews:preview_link_detail": preview_link().get_absolute_url(),
        "reviews:tag_detail": reverse(
            "reviews:tag_detail", kwargs={"slug": review.keywords.first().slug}
        ),
        "films:film_detail": film.get_absolute_url(),
        "films:person_detail": film.credits.first().person.get_absolute_url(),
        **{
            f"films:service_{kind}": reverse(
                f"films:service_{kind}", kwargs={"slug": "criterion-channel"}
            )
            for kind in ("new_feed", "new_atom", "left_feed", "left_atom")
        },
        "films:region_choose": reverse("films:region_choose"),
        **{
            f"reviews:{kind}_feed": reverse(f"reviews:{kind}_feed", kwargs={"slug": slug})
            for kind, slug in person_and_tag
        },
        "django.contrib.sitemaps.views.index": "/sitemap.xml",
        "django.contrib.sitemaps.views.sitemap": "/sitemap-films.xml",
        "robots_txt": "/robots.txt",
        "healthz": reverse("healthz"),
        "readyz": reverse("readyz"),
    }


def test_other_pages_query_parameters(client):
    paths = list(other_pages(*catalogue()).values())
    vocabulary = {
        "page": ["1", "2", "last", "0"],
        "p": ["1", "2", "0"],
        "format": ["json"],
        "q": ["Летят журавли", "kalatozof", "cranes flying", '"cranes', "-war or"],
        "region": ["GB", "us", "XX"],
        "next": ["/films/", "//evil.example/", "https://evil.example/", "/\\evil", "/films/?a=b"],
    }

    @given(path=st.sampled_from(paths), query=query_strings(vocabulary))
    def check(path, query):
        fetch(client, f"{path}?{query}")

    check()


@st.composite
def segments(draw, valid):
    slug = draw(st.sampled_from(valid))
    return draw(
        st.one_of(
            st.just(encode(slug)),
            st.just(encode(slug.upper())),
            st.builds(lambda extra: encode(slug + extra), any_text),
            st.sampled_from(HOSTILE_VALUES).map(encode),
            any_text.map(encode),
            long_text.map(encode),
            raw_bytes.map(encode),
            st.sampled_from(["%2F", "%2e%2e", "..", ".", "%00", "%ED%A0%80", "%C0%AF", "%FF"]),
        )
    )


def test_region_cookie(client):
    """The region cookie is the reader's to set: whatever it holds, pages answer as usual."""
    film, _ = catalogue()
    paths = [reverse("films:film_list"), film.get_absolute_url(), reverse("reviews:home")]
    latin1 = st.text(st.characters(max_codepoint=255, exclude_characters="\x00"), max_size=60)

    @given(path=st.sampled_from(paths), value=st.one_of(latin1, st.sampled_from(["GB", "us"])))
    def check(path, value):
        client.cookies["region"] = value
        fetch(client, path)

    check()


def test_path_segments(client):
    catalogue()
    routes = {
        "/films/": Film,
        "/people/": Person,
        "/genres/": Genre,
        "/services/": StreamingService,
        "/reviews/": Review,
        "/tags/": Tag,
    }
    valid = [
        slug for model in routes.values() for slug in model.objects.values_list("slug", flat=True)
    ]
    valid.append(preview_link().token)

    @given(
        prefix=st.sampled_from(
            [*routes, "/preview/", "/", "/films/x/", "/sitemap.xml/", "/sitemap-"]
        ),
        segment=segments(valid),
        ending=st.sampled_from(
            [
                "/",
                "",
                "//",
                "/extra/",
                "?page=2",
                "/feed/",
                "/feed/atom/",
                "/new/feed/",
                "/left/atom/",
            ]
        ),
    )
    def check(prefix, segment, ending):
        fetch(client, f"{prefix}{segment}{ending}")

    check()


def test_every_public_url_is_fuzzed():
    """A new public URL must join the fuzzing above: in ``other_pages()`` (or the film list's
    paths), with a query budget in tests/test_crawl.py."""
    fuzzed = FILM_LIST_PAGES | FILM_LIST_FEEDS | set(other_pages(*catalogue()))
    public = {name for name in _url_names(get_resolver()) if not name.startswith("admin:")}
    assert public <= fuzzed, f"not fuzzed: {sorted(public - fuzzed)}"


def _url_names(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


# --- The importer -----------------------------------------------------------------------------

HEADER_LINES = [
    "Title: Летят журавли",
    "Title: ",
    "Director: Mikhail Kalatozov, Mikhail Kalatozov, !!!",
    "Director: " + "Name " * 100,
    "Release Date: October 12, 1957",
    "Release Date: 31/31/99999",
    "Release Date: -1",
    "Genre: Drama, War, Romance, 羅生門, 🎬",
    "Genre: " + ", ".join(f"Genre {n}" for n in range(200)),
    "Streaming Services: Available on Criterion Channel and for rent on iTunes.",
    "Streaming Services: Available on " + " and ".join(["🎬 Film 🍿"] * 50),
    "Synopsis",
    "Review",
    "Criticisms",
    "Conclusion",
    "The Cranes Are Flying (1957) – A Soviet Cinematic Masterpiece",
    "soviet cinema, <script>alert(1)</script>, café society",
    ", ".join(f"keyword {n}" for n in range(10_000)),
]

line_text = st.one_of(
    st.sampled_from(HEADER_LINES),
    st.sampled_from(HOSTILE_VALUES),
    any_text,
    long_text,
    st.just("x" * 300_000),
)


@st.composite
def documents(draw):
    """The real house-format document, mutated: lines inserted, deleted, duplicated, replaced
    or spliced with random Unicode, huge lines and headers twice; then sent as UTF-8 bytes,
    possibly with binary spliced in or in another encoding."""
    lines = DOCUMENT.read_text(encoding="utf-8").splitlines()
    for _ in range(draw(st.integers(0, 6))):
        n = draw(st.integers(0, max(len(lines) - 1, 0)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "replace", "splice"]))
        if action == "insert":
            lines.insert(n, draw(line_text))
        elif lines and action == "delete":
            del lines[n]
        elif lines and action == "duplicate":
            lines.insert(n, lines[n])
        elif lines and action == "replace":
            lines[n] = draw(line_text)
        elif lines:
            cut = draw(st.integers(0, len(lines[n])))
            lines[n] = lines[n][:cut] + draw(any_text) + lines[n][cut:]
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    data = text.encode("utf-8", "surrogatepass")
    form = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "binary", "utf-16", "latin-1"]))
    if form == "binary":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    elif form != "utf-8":
        data = text.encode(form, "replace")
    return data


IMPORTED_MODELS = [
    Film,
    Person,
    Genre,
    StreamingService,
    Credit,
    Availability,
    Review,
    Tag,
    TaggedItem,
    Film.genres.through,
]


def row_counts():
    return {model._meta.label: model.objects.count() for model in IMPORTED_MODELS}


@given(data=st.one_of(documents(), st.binary(max_size=2000), any_text))
def test_parse_document_reports_or_refuses(data):
    try:
        document = parse_document(data, filename="fuzzed.txt")
    except DocumentError as error:
        assert str(error).strip()
    else:
        assert document.title is not None


def test_import_writes_everything_or_nothing():
    make_film("The Cranes Are Flying", year=1957, genres=["War"], directors=["Mikhail Kalatozov"])

    @given(data=documents(), dry_run=st.booleans())
    def check(data, dry_run):
        with transaction.atomic():
            before = row_counts()
            try:
                review_import_file(data=data, filename="fuzzed.txt", dry_run=dry_run)
            except (DocumentError, ReviewImportError) as error:
                assert str(error).strip()
                assert row_counts() == before, "a failed import left rows behind"
            else:
                if dry_run:
                    assert row_counts() == before, "a dry run wrote rows"
            transaction.set_rollback(True)  # each example starts from the same catalogue

    check()


# --- Poster uploads ---------------------------------------------------------------------------

IMAGE_FORMATS = ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"]


@st.composite
def poster_files(draw):
    """Random bytes, or a real image (built with Pillow) that may be truncated, corrupted or
    padded; under a name and content type that may not match."""
    if draw(st.integers(0, 3)) == 0:
        data = draw(st.binary(max_size=4000))
    else:
        buffer = io.BytesIO()
        size = (draw(st.integers(1, 64)), draw(st.integers(1, 64)))
        # Noise from a drawn seed: detail that any cut damages, the same on every run.
        pixels = random.Random(draw(st.integers(0, 2**16))).randbytes(size[0] * size[1] * 3)
        Image.frombytes("RGB", size, pixels).save(
            buffer, format=draw(st.sampled_from(IMAGE_FORMATS))
        )
        data = buffer.getvalue()
        damage = draw(st.sampled_from(["truncate", "none", "flip", "truncate", "pad", "header"]))
        if damage == "truncate":
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif damage == "flip":
            for _ in range(draw(st.integers(1, 8))):
                at = draw(st.integers(0, len(data) - 1))
                data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        elif damage == "pad":
            data += draw(st.binary(min_size=1, max_size=200))
        elif damage == "header":
            data = draw(st.binary(min_size=1, max_size=16)) + data[16:]
    name = draw(
        st.sampled_from(
            [
                "poster.jpg",
                "poster.png",
                "poster.jpeg",
                "poster.gif",
                "poster.webp",
                "poster.txt",
                "poster.html",
                "poster.svg",
                "poster",
                "poster.jpg.exe",
                "постер 🎬.jpg",
                ".jpg",
            ]
        )
    )
    content_type = draw(
        st.sampled_from(["image/jpeg", "image/png", "text/html", "application/octet-stream"])
    )
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files():
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_poster_upload_is_saved_whole_or_refused_with_a_message():
    film = make_film("Vertigo", year=1958)
    client = editor_client("fuzzer")
    url = f"/admin/films/film/{film.pk}/change/"

    @given(poster=poster_files())
    def check(poster):
        note(f"{poster.name} ({poster.content_type}): {poster.size} bytes {poster.read(24)!r}…")
        poster.seek(0)
        film.refresh_from_db()
        before = stored_files()
        data = film_form_data(
            title=film.title,
            slug=film.slug,
            release_date="",
            year=str(film.year),
            loaded_version=str(film.version),
            poster=poster,
            poster_alt="Poster for Vertigo (1958)",
        )
        response = client.post(url, data)
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            errors = response.context["adminform"].form.errors
            assert errors.get("poster"), f"refused without a poster error: {errors}"
            assert stored_files() == before, "a refused poster was left in storage"
        else:
            film.refresh_from_db()
            try:
                with Image.open(film.poster.path) as image:
                    image.load()
            except OSError as error:
                pytest.fail(f"a poster that does not decode in full was saved: {error}")

    check()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.kind != "poster"], ids=str)
def test_every_other_picture_upload_is_saved_whole_or_refused_with_a_message(target):
    """Stills (an inline of the film form), portraits, logos and review lead images: the same
    files as the posters above, through their own admin forms."""
    row = target.make()
    client = editor_client("fuzzer")

    @hypothesis_settings(max_examples=30)
    @given(upload=poster_files())
    def check(upload):
        note(f"{upload.name} ({upload.content_type}): {upload.size} bytes {upload.read(24)!r}…")
        upload.seek(0)
        before = stored_files()
        response = target.post(client, row, upload)
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert target.field_errors(response), f"refused without a message: {response}"
            assert stored_files() == before, "a refused upload was left in storage"
        else:
            picture = target.picture(row)
            assert picture, "an accepted upload has no renditions"
            for name in [picture.file.name, *rendition_names(picture.renditions)]:
                try:
                    with Image.open(Path(settings.MEDIA_ROOT) / name) as image:
                        image.load()
                except OSError as error:
                    pytest.fail(f"{name} was saved but does not decode in full: {error}")

    check()
