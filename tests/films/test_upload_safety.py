"""Uploads through every picture form of the admin (poster, still, portrait, logo, review lead
image): what an editor sends, what is stored, and what is left behind when it goes wrong.

tests/films/test_images.py covers the poster field's checks one by one and
tests/films/test_pictures.py the renditions made by code; here every form is driven as an
editor drives it, and every file the site writes is looked at.
"""

import errno
import io

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image, PngImagePlugin, features

from films import pictures
from films.models import Film
from films.pictures import KINDS, SPECS, crop_box, modern_formats
from tests.films.picture_forms import TARGETS, stored_files
from tests.films.test_images import png_header_only
from tests.films.test_pictures import GPS, ORIENTATION

pytestmark = pytest.mark.django_db

AVIF = pytest.param(
    "AVIF",
    marks=pytest.mark.skipif(
        not features.check("avif"), reason="this Pillow cannot read AVIF, so it is not accepted"
    ),
)
ACCEPTED = ["JPEG", "PNG", "WEBP", AVIF]
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "AVIF": "avif"}
UPRIGHT = (1000, 1400)  # as the camera saw it: red above, blue below
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-'
    b'rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator>Jane Doe</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)
METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment")


def camera_photo(image_format: str) -> bytes:
    """A photo stored on its side, as a phone stores it, with EXIF orientation 6 (turn 90°
    clockwise to show it), a GPS position, the owner's name, XMP and a comment."""
    upright = Image.new("RGB", UPRIGHT, "red")
    upright.paste("blue", (0, UPRIGHT[1] // 2, *UPRIGHT))
    on_its_side = upright.transpose(Image.Transpose.ROTATE_90)
    tags = Image.Exif()
    tags[0x013B] = "Jane Doe"  # Artist
    tags[ORIENTATION] = 6
    tags[GPS] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    options = {"exif": tags.tobytes()}
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        options["pnginfo"] = info
    else:
        options["xmp"] = XMP
    if image_format == "JPEG":
        options["comment"] = "Shot at 12 Elm Street"
    if image_format == "AVIF":
        options["speed"] = 10
    out = io.BytesIO()
    on_its_side.save(out, image_format, **options)
    return out.getvalue()


def upload(data: bytes, name: str, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def open_stored(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def assert_no_metadata(image: Image.Image, name: str):
    left = [key for key in METADATA_KEYS if image.info.get(key)]
    assert not left, f"{name} keeps {left}"
    assert not dict(image.getexif()), f"{name} keeps EXIF tags {dict(image.getexif())}"


def expected_widths(spec, size) -> tuple[list[int], dict[int, int]]:
    """The widths a spec should give an upright image of ``size``, and their heights."""
    width, height = size
    if spec.ratio is not None:
        target = spec.ratio[0] / spec.ratio[1]
        if spec.pad and not 0.8 * target <= width / height <= 1.25 * target:
            width, height = spec.widths[-1], round(spec.widths[-1] / target)
        else:
            left, top, right, bottom = crop_box(size, spec.ratio, (50, 50))
            width, height = right - left, bottom - top
    widths = sorted(w for w in spec.widths if spec.upscale or w <= width) or [width]
    heights = {
        w: round(w * spec.ratio[1] / spec.ratio[0]) if spec.ratio else round(w * height / width)
        for w in widths
    }
    return widths, heights


def is_red(pixel):
    return pixel[0] > 180 and pixel[1] < 80 and pixel[2] < 80


def is_blue(pixel):
    return pixel[2] > 180 and pixel[0] < 80 and pixel[1] < 80


@pytest.fixture
def editor(admin_client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return admin_client


# --- Accepted: every rendition, upright, with no metadata ---------------------------------------


@pytest.mark.parametrize("image_format", ACCEPTED)
@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_every_form_makes_every_rendition_upright_without_metadata(editor, target, image_format):
    row = target.make()
    photo = upload(camera_photo(image_format), f"IMG_2041 Jane’s phone.{EXTENSIONS[image_format]}")

    response = target.post(editor, row, photo)

    assert response.status_code == 302, target.errors(response)
    picture = target.picture(row)
    assert picture, "the saved picture has no renditions"
    original = open_stored(picture.file.name)
    assert original.format == image_format
    assert original.size == UPRIGHT, "the stored original is not turned upright"
    assert_no_metadata(original, "the stored original")

    assert set(picture.renditions["specs"]) == set(KINDS[target.kind])
    for spec_name in KINDS[target.kind]:
        spec = SPECS[spec_name]
        widths, heights = expected_widths(spec, UPRIGHT)
        files = picture.renditions["specs"][spec_name]["files"]
        formats = [*modern_formats(), "jpeg"] if spec.modern else ["jpeg"]
        assert sorted(files) == sorted(formats)
        for fmt, names in files.items():
            assert [w for w, _ in names] == widths, f"{spec_name} {fmt}"
            for width, name in names:
                image = open_stored(name)
                assert image.size == (width, heights[width]), f"{name}: {image.size}"
                assert_no_metadata(image, name)
                rgb = image.convert("RGB")
                middle = rgb.width // 2
                top, bottom = rgb.getpixel((middle, 2)), rgb.getpixel((middle, rgb.height - 3))
                assert is_red(top) and is_blue(bottom), f"{name} is not upright: {top} {bottom}"


def test_avif_is_accepted_exactly_when_this_pillow_reads_it(editor):
    target = TARGETS[0]
    row = target.make()
    if features.check("avif"):
        response = target.post(editor, row, upload(camera_photo("AVIF"), "poster.avif"))
        assert response.status_code == 302, target.errors(response)
    else:
        response = target.post(editor, row, upload(b"\x00\x00\x00\x1cftypavif", "poster.avif"))
        assert "is not a JPEG, PNG or WebP image" in " ".join(target.errors(response))


def cmyk_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("CMYK", (400, 600), (0, 255, 255, 0)).save(out, "JPEG")  # printer's red
    return out.getvalue()


def sixteen_bit_png() -> bytes:
    """Greyscale at 16 bits a sample: mid-grey is 32,768, which Pillow's own conversion to 8
    bits would clip to white."""
    out = io.BytesIO()
    Image.new("I;16", (400, 600), 32768).save(out, "PNG")
    return out.getvalue()


def palette_png_with_transparency() -> bytes:
    """256 colours with a transparent index: the left half see-through, the right half red."""
    image = Image.new("P", (400, 600), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (200, 0, 400, 600))
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    return out.getvalue()


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_cmyk_jpeg_is_shown_in_its_colours(editor, target):
    row = target.make()
    response = target.post(editor, row, upload(cmyk_jpeg(), "print-ready.jpg"))

    assert response.status_code == 302, target.errors(response)
    picture = target.picture(row)
    spec = KINDS[target.kind][0]
    for _, name in picture.renditions["specs"][spec]["files"]["jpeg"]:
        image = open_stored(name)
        assert image.mode == "RGB"
        assert is_red(image.getpixel((image.width // 2, image.height // 2))), name


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_16_bit_png_keeps_its_greys(editor, target):
    row = target.make()
    response = target.post(editor, row, upload(sixteen_bit_png(), "scan.png", "image/png"))

    assert response.status_code == 302, target.errors(response)
    picture = target.picture(row)
    for spec_name in KINDS[target.kind]:
        data = picture.renditions["specs"][spec_name]
        for _, name in data["files"][data["fallback"]]:
            image = open_stored(name).convert("L")
            assert 120 <= image.getpixel((image.width // 2, image.height // 2)) <= 136, name


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_palette_png_with_transparency_keeps_it(editor, target):
    row = target.make()
    data = palette_png_with_transparency()
    response = target.post(editor, row, upload(data, "logo.png", "image/png"))

    assert response.status_code == 302, target.errors(response)
    picture = target.picture(row)
    for spec_name in KINDS[target.kind]:
        rendition = picture.renditions["specs"][spec_name]
        name = rendition["files"][rendition["fallback"]][-1][1]
        image = open_stored(name)
        if SPECS[spec_name].pad:  # link previews are opaque JPEGs on a background
            assert rendition["fallback"] == "jpeg"
            continue
        assert rendition["fallback"] == "png"
        rgba = image.convert("RGBA")
        y = rgba.height // 2
        right = rgba.getpixel((rgba.width - 2, y))
        assert right[3] == 255 and is_red(right), f"{name}: {right}"
        if target.kind == "logo":  # not cropped: its left half is still there
            assert rgba.getpixel((1, y))[3] == 0, name


# --- Refused: a message, and nothing left in MEDIA_ROOT ------------------------------------------


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (60, 90), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 450), 64).convert("RGB").save(out, "JPEG")
    data = out.getvalue()
    return data[: len(data) // 2]


BAD_FILES = {
    "zero bytes": (lambda: b"", "poster.jpg", "The submitted file is empty."),
    "text renamed .jpg": (
        lambda: b"Just some notes about the film.\n" * 20,
        "poster.jpg",
        "is not a JPEG, PNG or WebP image",
    ),
    "SVG named .png": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
        "logo.png",
        "is not a JPEG, PNG or WebP image",
    ),
    "HTML named .jpg": (
        lambda: b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
        "still.jpg",
        "is not a JPEG, PNG or WebP image",
    ),
    "animated GIF": (animated_gif, "loop.gif", "is not a JPEG, PNG or WebP image"),
    "truncated JPEG": (truncated_jpeg, "half.jpg", "is damaged or incomplete"),
    "decompression bomb": (
        lambda: png_header_only(30_000, 30_000),
        "bomb.png",
        "900 megapixels; the limit is 40 megapixels",
    ),
}


@pytest.mark.parametrize("bad", list(BAD_FILES))
@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_bad_file_is_refused_with_a_message_and_nothing_is_stored(editor, target, bad):
    make, name, message = BAD_FILES[bad]
    if bad == "zero bytes" or not features.check("avif"):
        pass
    else:  # where AVIF is accepted, the list of types says so
        message = message.replace("JPEG, PNG or WebP", "JPEG, PNG, WebP or AVIF")
    row = target.make()

    response = target.post(editor, row, upload(make(), name))

    errors = target.errors(response)
    assert any(message in error for error in errors), errors
    assert not target.picture(row)
    assert stored_files() == set()


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_file_over_the_size_limit_is_refused_with_its_size(editor, target, settings):
    settings.FILMMAG_MAX_IMAGE_BYTES = 50_000
    row = target.make()
    out = io.BytesIO()
    Image.effect_noise((600, 900), 90).convert("RGB").save(out, "PNG")

    response = target.post(editor, row, upload(out.getvalue(), "big.png", "image/png"))

    errors = " ".join(target.errors(response))
    assert "MB; the limit is 0.05 MB" in errors, errors
    assert stored_files() == set()


# --- A save that fails removes what it wrote -----------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_failure_while_making_renditions_keeps_nothing(editor, target, monkeypatch):
    real_encode, calls = pictures.encode, []

    def encode_then_fail(image, fmt):
        calls.append(fmt)
        if len(calls) == 3:  # the original and the first renditions are stored by then
            raise OSError("encoder error -2")
        return real_encode(image, fmt)

    monkeypatch.setattr(pictures, "encode", encode_then_fail)
    row = target.make()

    response = target.post(editor, row, upload(camera_photo("JPEG"), "photo.jpg"))

    errors = " ".join(target.errors(response))
    assert "could not be prepared for the site, so nothing was saved" in errors, errors
    assert len(calls) >= 3  # renditions are encoded side by side: others may have been under way
    assert stored_files() == set()
    assert not target.picture(row)


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_a_full_disk_is_a_message_in_the_form_and_nothing_is_kept(editor, target, monkeypatch):
    real_save, calls = FileSystemStorage._save, []

    def save_until_the_disk_is_full(self, name, content):
        calls.append(name)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save_until_the_disk_is_full)
    row = target.make()
    before = type(row)._base_manager.filter(pk=row.pk).values().get()

    response = target.post(editor, row, upload(camera_photo("PNG"), "photo.png", "image/png"))

    errors = " ".join(target.errors(response))
    assert "could not be stored: the picture store is not answering (No space left" in errors
    assert "Nothing was saved" in errors
    assert len(calls) == 4
    assert stored_files() == set(), "the files written before the failure are still there"
    assert type(row)._base_manager.filter(pk=row.pk).values().get() == before


def test_a_save_refused_by_the_database_removes_the_files_it_wrote():
    # Code that skips full_clean(): the database's check constraint refuses the row, after
    # the poster and its renditions were written.
    film = Film(title="Vertigo", year=1058, poster_alt="Poster for Vertigo")
    film.poster = upload(camera_photo("JPEG"), "vertigo.jpg")

    with pytest.raises(IntegrityError), transaction.atomic():
        film.save()

    assert film.poster_renditions, "the renditions were expected to be made before the insert"
    assert stored_files() == set()
