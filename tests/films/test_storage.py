"""Where pictures are stored: MEDIA_ROOT by default, an S3-compatible bucket when DJANGO_S3_BUCKET
is set (filmmag/settings.py), here moto's in-process S3. Uploads go through the admin, as an
editor's do; what is checked is what lands in the bucket and what the pages point at.
"""

import os
import runpy
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.management import CommandError, call_command
from django.urls import reverse
from moto import mock_aws
from storages.backends.s3 import S3Storage

from films.models import Film
from films.pictures import MIME_TYPES, rendition_names
from tests.films.picture_forms import TARGETS, stored_files
from tests.films.test_admin import film_form_data
from tests.films.test_upload_safety import camera_photo, upload

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "filmmag" / "settings.py"
BUCKET = "filmmag-pictures"
REGION = "eu-west-1"
YEAR_IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {f".{ext}": mime for ext, mime in MIME_TYPES.items()} | {".jpg": "image/jpeg"}
# Nothing listens here (the storage helper's port range): a store that is down.
DOWN = "http://127.0.0.1:8149"
POSTER = TARGETS[0]


def configured(monkeypatch, settings, **env):
    """Run filmmag/settings.py with the given DJANGO_S3_* variables and use its storage and CSP."""
    for name in [n for n in os.environ if n.startswith("DJANGO_S3_")]:
        monkeypatch.delenv(name)
    env = {
        "DJANGO_S3_BUCKET": BUCKET,
        "DJANGO_S3_REGION": REGION,
        "DJANGO_S3_ACCESS_KEY_ID": "testing",
        "DJANGO_S3_SECRET_ACCESS_KEY": "testing",
        **env,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fresh = runpy.run_path(str(SETTINGS_FILE))
    settings.STORAGES = {**settings.STORAGES, "default": fresh["STORAGES"]["default"]}
    settings.SECURE_CSP = fresh["SECURE_CSP"]
    return fresh


@pytest.fixture
def editor(admin_client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return admin_client


@pytest.fixture
def s3():
    """moto's S3 with the bucket in it; yields a client to look inside."""
    with mock_aws():
        client = boto3.client(
            "s3", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield client


@pytest.fixture
def bucket(s3, monkeypatch, settings):
    configured(monkeypatch, settings)
    return s3


def keys(s3) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def picture_keys(picture) -> set[str]:
    return {picture.file.name} | rendition_names(picture.renditions)


def test_local_storage_is_the_default():
    fresh = runpy.run_path(str(SETTINGS_FILE), init_globals={})
    if any(name.startswith("DJANGO_S3_") for name in os.environ):
        pytest.skip("DJANGO_S3_* is set in this environment")
    default = fresh["STORAGES"]["default"]
    assert default == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert fresh["SECURE_CSP"]["img-src"] == [fresh["CSP"].SELF, "data:"]


def test_the_bucket_is_configured_for_plain_lasting_urls_and_no_overwrites(monkeypatch, settings):
    options = configured(monkeypatch, settings)["STORAGES"]["default"]["OPTIONS"]

    assert options["querystring_auth"] is False  # public URLs: no signing per picture
    assert options["file_overwrite"] is False
    assert options["object_parameters"] == {"CacheControl": YEAR_IMMUTABLE}


# --- Uploads land in the bucket ------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_an_upload_stores_the_original_and_every_rendition_in_the_bucket(editor, bucket, target):
    row = target.make()

    response = target.post(editor, row, upload(camera_photo("JPEG"), "IMG_2041 (Jane).jpg"))

    assert response.status_code == 302, target.errors(response)
    picture = target.picture(row)
    assert picture
    assert keys(bucket) == picture_keys(picture)
    assert len(picture_keys(picture)) > 4
    for key in picture_keys(picture):
        head = bucket.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == CONTENT_TYPES[Path(key).suffix], key
        assert head["CacheControl"] == YEAR_IMMUTABLE, key
    assert stored_files() == set(), "nothing goes to MEDIA_ROOT with a bucket configured"


def test_the_same_image_uploaded_twice_does_not_overwrite_the_first(editor, bucket):
    first, second = POSTER.make(), Film.objects.create(title="Vertigo", year=1958)
    data = camera_photo("PNG")

    POSTER.post(editor, first, upload(data, "a.png", "image/png"))
    POSTER.post(editor, second, upload(data, "b.png", "image/png"))

    first_name, second_name = (Film.objects.get(pk=f.pk).poster.name for f in (first, second))
    assert first_name != second_name
    assert {first_name, second_name} <= keys(bucket)


@pytest.mark.parametrize(
    ("env", "origin"),
    [
        ({}, f"https://{BUCKET}.s3.amazonaws.com"),
        (
            {"DJANGO_S3_CUSTOM_DOMAIN": "pictures.filmmag.example"},
            "https://pictures.filmmag.example",
        ),
    ],
    ids=["bucket", "cdn"],
)
def test_pages_point_at_the_bucket_or_the_cdn_and_the_csp_allows_it(
    editor, client, s3, monkeypatch, settings, env, origin
):
    configured(monkeypatch, settings, **env)
    film = POSTER.make()
    POSTER.post(editor, film, upload(camera_photo("JPEG"), "poster.jpg"))
    film.refresh_from_db()

    response = client.get(film.get_absolute_url())

    assert response.status_code == 200
    html = response.text
    for name in film.poster_picture.renditions["specs"]["poster"]["files"]["webp"]:
        assert f"{origin}/{name[1]} {name[0]}w" in html
    assert "/media/" not in html
    assert "X-Amz-Signature" not in html and "AWSAccessKeyId" not in html
    img_src = next(
        part for part in response["Content-Security-Policy"].split(";") if "img-src" in part
    )
    assert origin in img_src.split()


def test_a_custom_endpoint_is_addressed_by_path_and_allowed_by_the_csp(monkeypatch, settings):
    configured(monkeypatch, settings, DJANGO_S3_ENDPOINT_URL="https://s3.eu.example.net/")

    url = default_storage.url("renditions/ab/poster-160.webp")

    assert url == f"https://s3.eu.example.net/{BUCKET}/renditions/ab/poster-160.webp"
    assert "https://s3.eu.example.net" in settings.SECURE_CSP["img-src"]


HOSTILE_NAMES = [
    "renditions/ab/abcdef0123/poster-160.webp",
    "posters/2026/Летят журавли (1957) 映画 'q\" !*~.jpg",
    "stills/a b+c%20&d?e#f;g=h.png",
]


@pytest.mark.parametrize(
    "env",
    [{}, {"DJANGO_S3_ENDPOINT_URL": "http://127.0.0.1:9000"}, {"DJANGO_S3_LOCATION": "mag/pics"}],
    ids=["aws", "endpoint", "location"],
)
def test_picture_urls_are_django_storages_own_but_made_without_botocore(monkeypatch, settings, env):
    configured(monkeypatch, settings, **env)
    storage = storages["default"]
    expected = {name: S3Storage.url(storage, name) for name in HOSTILE_NAMES}
    presigned = []
    real = storage.unsigned_connection.meta.client.generate_presigned_url
    monkeypatch.setattr(
        storage.unsigned_connection.meta.client,
        "generate_presigned_url",
        lambda *args, **kwargs: presigned.append(args) or real(*args, **kwargs),
    )

    urls = {name: storage.url(name) for name in HOSTILE_NAMES * 20}

    assert urls == expected
    assert len(presigned) <= 1, "botocore was asked for each URL"


# --- Replacing and deleting ----------------------------------------------------------------------


def test_a_replaced_picture_and_a_deleted_one_leave_the_bucket_on_commit(
    editor, bucket, django_capture_on_commit_callbacks
):
    film = POSTER.make()
    POSTER.post(editor, film, upload(camera_photo("JPEG"), "first.jpg"))
    old = picture_keys(POSTER.picture(film))

    with django_capture_on_commit_callbacks() as callbacks:
        response = POSTER.post(editor, film, upload(camera_photo("PNG"), "second.png"))
        assert response.status_code == 302, POSTER.errors(response)
        assert old <= keys(bucket), "removed before the commit"
    for callback in callbacks:
        callback()
    new = picture_keys(POSTER.picture(film))
    assert keys(bucket) == new and not old & new

    delete_url = reverse("admin:films_film_delete", args=[film.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert keys(bucket) == set()


# --- A store that is down ------------------------------------------------------------------------


def test_an_upload_while_the_store_is_down_is_a_form_error_and_saves_nothing(
    editor, monkeypatch, settings
):
    configured(monkeypatch, settings, DJANGO_S3_ENDPOINT_URL=DOWN)
    data = film_form_data(poster=upload(camera_photo("JPEG"), "poster.jpg"), poster_alt="Poster")

    response = editor.post(reverse("admin:films_film_add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "The poster could not be stored: the picture store is not answering" in errors[0]
    assert "Nothing was saved." in errors[0]
    assert 'name="title" value="The Cranes Are Flying"' in response.text  # the form is kept
    assert not Film.objects.exists()
    assert stored_files() == set()


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_change_while_the_store_is_down_keeps_the_row_as_it_was(
    editor, monkeypatch, settings, target
):
    configured(monkeypatch, settings, DJANGO_S3_ENDPOINT_URL=DOWN)
    row = target.make()
    before = type(row)._base_manager.filter(pk=row.pk).values().get()

    response = target.post(editor, row, upload(camera_photo("PNG"), "p.png", "image/png"))

    assert "the picture store is not answering" in " ".join(target.errors(response))
    assert type(row)._base_manager.filter(pk=row.pk).values().get() == before


def test_a_store_that_fails_half_way_keeps_nothing_of_the_upload(editor, bucket, monkeypatch):
    real_save, calls = S3Storage._save, []

    def save_then_fail(self, name, content):
        calls.append(name)
        if len(calls) == 5:
            raise EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com")
        return real_save(self, name, content)

    monkeypatch.setattr(S3Storage, "_save", save_then_fail)
    film = POSTER.make()

    response = POSTER.post(editor, film, upload(camera_photo("JPEG"), "poster.jpg"))

    assert "the picture store is not answering" in " ".join(POSTER.errors(response))
    assert len(calls) == 5
    assert keys(bucket) == set(), "the original and the first renditions were left behind"
    assert not Film.objects.get(pk=film.pk).poster


def test_pages_still_render_while_the_store_is_down(editor, client, monkeypatch, settings):
    film = POSTER.make()
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        configured(monkeypatch, settings)
        response = POSTER.post(editor, film, upload(camera_photo("JPEG"), "poster.jpg"))
        assert response.status_code == 302, POSTER.errors(response)
    # The same bucket, now at an address where nothing answers: any call to it would fail.
    configured(monkeypatch, settings, DJANGO_S3_ENDPOINT_URL=DOWN)

    for url in [film.get_absolute_url(), reverse("films:film_list")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f"{DOWN}/{BUCKET}/renditions/" in response.text, url


# --- Pruning renditions no row uses --------------------------------------------------------------


def orphan(name: str, *, age_minutes: float = 120) -> str:
    saved = default_storage.save(name, ContentFile(b"old rendition"))
    path = Path(default_storage.path(saved))
    old = time.time() - age_minutes * 60
    os.utime(path, (old, old))
    return saved


def test_prune_removes_only_the_renditions_no_picture_uses(editor, capsys):
    film = POSTER.make()
    POSTER.post(editor, film, upload(camera_photo("JPEG"), "poster.jpg"))
    used = picture_keys(POSTER.picture(film))
    gone = {
        orphan("renditions/aa/aaaa0000/poster-160.webp"),
        orphan("renditions/aa/aaaa0000/poster-320.jpg"),
        orphan("renditions/bb/bbbb1111/still-640.webp"),
    }
    young = orphan("renditions/cc/cccc2222/poster-160.webp", age_minutes=5)

    call_command("renditions", "--prune", "--dry-run")
    assert "Would remove 3 rendition file(s) no picture uses" in capsys.readouterr().out
    assert stored_files() == used | gone | {young}

    call_command("renditions", "--prune")
    out = capsys.readouterr().out
    assert "Removed 3 rendition file(s) no picture uses" in out
    assert "1 kept as younger than 60 minute(s)" in out
    assert stored_files() == used | {young}
    assert not Path(default_storage.path("renditions/aa")).exists(), "empty folders stay"
    assert POSTER.picture(film)

    call_command("renditions", "--prune", "--min-age", "0")
    assert stored_files() == used


def test_prune_with_nothing_stored_reports_nothing(capsys):
    call_command("renditions", "--prune")
    assert "Removed 0 rendition file(s) no picture uses; 0 in use." in capsys.readouterr().out


def test_prune_works_on_the_bucket(editor, bucket, capsys):
    film = POSTER.make()
    POSTER.post(editor, film, upload(camera_photo("JPEG"), "poster.jpg"))
    used = picture_keys(POSTER.picture(film))
    bucket.put_object(Bucket=BUCKET, Key="renditions/dd/dddd3333/poster-960.webp", Body=b"x")

    call_command("renditions", "--prune", "--min-age", "0")

    assert "Removed 1 rendition file(s)" in capsys.readouterr().out
    assert keys(bucket) == used


def test_the_renditions_command_says_when_the_store_is_down(monkeypatch, settings):
    film = Film.objects.create(title="Vertigo", year=1958)
    Film.objects.filter(pk=film.pk).update(poster="posters/2026/0123456789abcdef01234567.jpg")
    configured(monkeypatch, settings, DJANGO_S3_ENDPOINT_URL=DOWN)

    with pytest.raises(CommandError, match="the picture store is not answering"):
        call_command("renditions")
    with pytest.raises(CommandError, match="The picture store failed"):
        call_command("renditions", "--prune")
