"""Poster uploads (films/images.py): what the admin accepts, refuses, and removes from storage."""

import hashlib
import io
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path, PurePosixPath

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from PIL import Image

from films.images import FORMATS, accepted_types, check_image
from films.models import Film
from tests.admin_helpers import editor_client, loaded_version
from tests.factories import make_film
from tests.films.test_admin import film_form_data

pytestmark = pytest.mark.django_db

MB = 1_000_000
ROOT = Path(__file__).resolve().parents[2]


def image_bytes(image_format="JPEG", size=(64, 48)):
    """A small image with detail in it, so a cut anywhere cuts real image data."""
    buffer = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(buffer, format=image_format)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_black_pixels(width, height):
    """A valid greyscale PNG: 10,000 × 10,000 pixels (100 megapixels) is under half a megabyte."""
    compressor = zlib.compressobj(1)
    rows = (b"\x00" * (width + 1)) * 100  # filter byte + pixels, 100 rows at a time
    data = b"".join(compressor.compress(rows) for _ in range(height // 100)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def png_header_only(width, height):
    """What a bomb's header says, without its pixel data: enough to be judged by."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb():
    return png_of_black_pixels(10_000, 10_000)


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


ALT = "Poster for The Cranes Are Flying (1957)"


def add_film(client, poster, **fields):
    data = film_form_data(poster=poster, poster_alt=ALT, **fields)
    return client.post(reverse("admin:films_film_add"), data)


def poster_errors(response):
    assert response.status_code == 200, "the form was expected to come back with errors"
    return response.context["adminform"].form.errors.get("poster", [])


def change_film(client, film, **fields):
    """Submit the film's change form as an editor would, after opening it."""
    url = reverse("admin:films_film_change", args=[film.pk])
    data = film_form_data(
        title=film.title,
        slug=film.slug,
        release_date="",
        year=str(film.year),
        loaded_version=loaded_version(client.get(url)),
        **{"poster_alt": film.poster_alt, **fields},
    )
    return client.post(url, data)


def film_with_poster(title="Vertigo", name="vertigo.jpg"):
    film = make_film(title, year=1958)
    film.poster_alt = f"Poster for {film}"
    film.poster.save(name, ContentFile(image_bytes()), save=True)
    return film


# --- Accepted -------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", list(FORMATS))
def test_jpeg_png_and_webp_posters_are_accepted_and_stored(admin_client, image_format):
    extension = FORMATS[image_format][1]
    response = add_film(admin_client, upload(f"poster{extension}", image_bytes(image_format)))

    assert response.status_code == 302
    film = Film.objects.get()
    assert film.poster.name.endswith(extension)
    with Image.open(film.poster.path) as stored:
        assert stored.format == image_format


def test_the_stored_name_follows_the_content_not_the_name_it_was_uploaded_with(admin_client):
    data = image_bytes("PNG")
    response = add_film(admin_client, upload("poster.html", data, "text/html"))

    assert response.status_code == 302
    name = PurePosixPath(Film.objects.get().poster.name).name
    assert name == hashlib.sha256(data).hexdigest()[:24] + ".png"


@pytest.mark.parametrize(
    "name",
    [
        "x" * 300 + ".png",
        "🎬🎞️.png",
        "...",
        "Солярис (1972).PNG",
        "../../etc/passwd",
        "Jane Doe.png",
    ],
    ids=["300-characters", "emoji", "dots", "cyrillic", "path", "a-persons-name"],
)
def test_any_file_name_is_stored_under_a_generated_name(admin_client, name):
    response = add_film(admin_client, upload(name, image_bytes("PNG"), "image/png"))

    assert response.status_code == 302
    poster = Film.objects.get().poster
    assert re.fullmatch(r"posters/\d{4}/[0-9a-f]{24}\.png", poster.name)
    assert default_storage.exists(poster.name)


def test_a_poster_exactly_at_the_size_limit_is_accepted(admin_client, settings):
    data = image_bytes("PNG")
    settings.FILMMAG_MAX_IMAGE_BYTES = len(data)

    assert add_film(admin_client, upload("poster.png", data)).status_code == 302


def test_the_upload_field_offers_only_the_accepted_types(admin_client):
    response = admin_client.get(reverse("admin:films_film_add"))

    accept = ",".join(mime for _, _, mime in FORMATS.values())
    assert f'accept="{accept}"' in response.text
    assert f"A {accepted_types()} image of at most 10 MB and 40 megapixels." in response.text


# --- Refused, with a clear form error ---------------------------------------------------------


def test_a_50_mb_jpeg_is_refused_with_its_size(admin_client):
    data = image_bytes("JPEG")
    huge = data + b"\x00" * (50 * 1024 * 1024 - len(data))

    response = add_film(admin_client, upload("huge.jpg", huge))

    assert poster_errors(response) == ["The poster is 52.4 MB; the limit is 10 MB."]
    assert "The poster is 52.4 MB; the limit is 10 MB." in response.text
    assert not Film.objects.exists()


def test_a_poster_one_byte_over_the_limit_is_refused(admin_client):
    data = image_bytes("JPEG")

    response = add_film(admin_client, upload("big.jpg", data + b"\x00" * (10 * MB + 1 - len(data))))

    assert poster_errors(response) == ["The poster is 10,000,001 bytes; the limit is 10 MB."]


def test_a_truncated_jpeg_is_refused_as_damaged(admin_client):
    data = image_bytes("JPEG", size=(200, 150))

    response = add_film(admin_client, upload("cut.jpg", data[: len(data) // 2]))

    assert poster_errors(response) == [
        "The poster file is damaged or incomplete, so it cannot be shown. Export or download it "
        "again and upload the new file."
    ]
    assert not Film.objects.exists()


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_truncated_png_and_webp_are_refused_as_damaged(admin_client, image_format):
    data = image_bytes(image_format, size=(200, 150))

    response = add_film(admin_client, upload("cut.img", data[: len(data) * 2 // 3]))

    assert "damaged or incomplete" in poster_errors(response)[0]


def test_a_text_file_renamed_jpg_is_refused(admin_client):
    response = add_film(admin_client, upload("poster.jpg", b"this is not a JPEG"))

    assert poster_errors(response) == [f"“poster.jpg” is not a {accepted_types()} image."]
    assert f"is not a {accepted_types()} image." in response.text


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(admin_client, image_format):
    response = add_film(admin_client, upload("poster.jpg", image_bytes(image_format)))

    assert poster_errors(response) == [f"“poster.jpg” is not a {accepted_types()} image."]


def test_a_decompression_bomb_is_refused_by_its_pixel_count(admin_client, bomb):
    assert len(bomb) < MB

    response = add_film(admin_client, upload("bomb.png", bomb, "image/png"))

    assert poster_errors(response) == ["The poster is 100 megapixels; the limit is 40 megapixels."]
    assert not Film.objects.exists()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_just_over_the_pixel_limit_is_refused(admin_client):
    # Where Pillow only warns (as under pytest), the site's own pixel check refuses it.
    response = add_film(admin_client, upload("wide.png", png_header_only(8_000, 6_000)))

    assert poster_errors(response) == [
        "The poster is 8,000 × 6,000 pixels (48 megapixels); the limit is 40 megapixels."
    ]


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_an_image_just_over_the_pixel_limit_is_refused_when_pillow_raises_its_warning(
    admin_client,
):
    # As in the running site, where Pillow's warning is an error (see the next test).
    response = add_film(admin_client, upload("wide.png", png_header_only(8_000, 6_000)))

    assert poster_errors(response) == ["The poster is 48 megapixels; the limit is 40 megapixels."]


def test_the_running_site_makes_pillow_refuse_images_over_the_pixel_limit_not_warn():
    # pytest resets warning filters around each test, so look at a fresh process.
    code = (
        "import io, django; django.setup();"
        "from PIL import Image;"
        "print(Image.MAX_IMAGE_PIXELS);"
        f"Image.open(io.BytesIO(bytes.fromhex('{png_header_only(8_000, 6_000).hex()}')))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "filmmag.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.stdout.split() == ["40000000"]
    assert "DecompressionBombWarning: Image size (48000000 pixels) exceeds" in result.stderr
    assert result.returncode != 0


def test_a_refused_poster_keeps_the_rest_of_the_change_form(admin_client):
    film = film_with_poster()
    old_name = film.poster.name

    response = change_film(admin_client, film, runtime="128", poster=upload("x.jpg", b"nope"))

    assert "is not a" in poster_errors(response)[0]
    assert 'value="128"' in response.text
    film.refresh_from_db()
    assert film.poster.name == old_name and film.runtime is None


def test_saving_an_unchecked_file_in_code_is_refused_too():
    film = make_film("Vertigo")
    film.poster = ContentFile(b"GIF89a not really", name="poster.gif")

    with pytest.raises(ValidationError, match="is not a"):
        film.save()

    assert not default_storage.exists("posters")


def test_model_validation_gives_the_same_messages_as_the_form():
    film = make_film("Vertigo")
    film.poster = ContentFile(image_bytes("JPEG")[:300], name="cut.jpg")

    with pytest.raises(ValidationError) as info:
        film.full_clean()

    assert "damaged or incomplete" in info.value.message_dict["poster"][0]


def test_check_image_returns_the_format_and_leaves_the_file_at_its_start():
    file = ContentFile(image_bytes("WEBP"), name="still.webp")

    assert check_image(file, label="still") == "WEBP"
    assert file.tell() == 0


# --- Removed from storage only after the transaction commits ---------------------------------


def test_a_replaced_poster_file_is_removed_after_the_save_commits(
    django_capture_on_commit_callbacks,
):
    client = editor_client("alice")
    film = film_with_poster()
    old_name = film.poster.name

    with django_capture_on_commit_callbacks(execute=True):
        response = change_film(client, film, poster=upload("new.png", image_bytes("PNG")))

    assert response.status_code == 302
    film.refresh_from_db()
    assert film.poster.name.endswith(".png")
    assert default_storage.exists(film.poster.name)
    assert not default_storage.exists(old_name)


def test_the_old_file_stays_until_the_commit(django_capture_on_commit_callbacks):
    film = film_with_poster()
    old_name = film.poster.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        film.poster = ContentFile(image_bytes("PNG"), name="new.png")
        film.save()

    assert default_storage.exists(old_name)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(old_name)


def test_a_rolled_back_save_keeps_the_old_poster_file(django_capture_on_commit_callbacks):
    film = film_with_poster()
    old_name = film.poster.name

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            film.poster = ContentFile(image_bytes("PNG"), name="new.png")
            film.save()
            raise RuntimeError("the rest of the save failed")

    assert default_storage.exists(old_name)
    assert Film.objects.get().poster.name == old_name


def test_clearing_the_poster_removes_its_file(django_capture_on_commit_callbacks):
    film = film_with_poster()
    old_name = film.poster.name

    with django_capture_on_commit_callbacks(execute=True):
        response = change_film(editor_client("alice"), film, **{"poster-clear": "on"})

    assert response.status_code == 302
    assert Film.objects.get().poster.name == ""
    assert not default_storage.exists(old_name)


def test_deleting_a_film_removes_its_poster_file(django_capture_on_commit_callbacks):
    film = film_with_poster()
    name = film.poster.name
    url = reverse("admin:films_film_delete", args=[film.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client("alice").post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Film.objects.exists()
    assert not default_storage.exists(name)


def test_a_poster_another_film_uses_is_kept(django_capture_on_commit_callbacks):
    first = film_with_poster("Vertigo")
    second = make_film("Vertigo (restored)", poster=first.poster.name)
    name = first.poster.name

    with django_capture_on_commit_callbacks(execute=True):
        first.poster = ContentFile(image_bytes("PNG"), name="other.png")
        first.save()
        first.delete()
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        second.delete()
    assert not default_storage.exists(name)


def test_a_film_loaded_without_its_poster_still_removes_the_replaced_file(
    django_capture_on_commit_callbacks,
):
    name = film_with_poster().poster.name
    film = Film.objects.only("title").get()

    with django_capture_on_commit_callbacks(execute=True):
        film.poster = ContentFile(image_bytes("PNG"), name="new.png")
        film.save()

    assert not default_storage.exists(name)


def test_saving_other_fields_keeps_the_poster_file(django_capture_on_commit_callbacks):
    film = film_with_poster()

    with django_capture_on_commit_callbacks(execute=True):
        response = change_film(editor_client("alice"), film, runtime="128")

    assert response.status_code == 302
    assert Film.objects.get().runtime == 128
    assert default_storage.exists(film.poster.name)


@pytest.mark.django_db(transaction=True)
def test_with_real_transactions_a_replaced_file_goes_and_a_rolled_back_one_stays():
    film = film_with_poster()
    first = film.poster.name

    with pytest.raises(RuntimeError), transaction.atomic():
        film.poster = ContentFile(image_bytes("PNG"), name="second.png")
        film.save()
        raise RuntimeError
    assert default_storage.exists(first)

    film = Film.objects.get()
    film.poster = ContentFile(image_bytes("PNG"), name="third.png")
    film.save()
    assert not default_storage.exists(first)
    assert default_storage.exists(film.poster.name)
