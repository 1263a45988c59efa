"""Pictures: posters, stills, portraits, logos and review lead images, and their renditions.

An uploaded image (checked by ``films.images``) gets its *renditions* when the row is saved:
each shape it is shown in (``SPECS``), cropped around the editor's focal point, at a few widths,
in WebP (AVIF too when ``FILMMAG_IMAGE_FORMATS`` says so) with a JPEG fallback (PNG for an image
with transparency). They are written once, under names made from the source and the focal
point, and their names and sizes go into a JSON column of the same row. A page therefore shows
any number of pictures with no query and no storage call for them, and never resizes anything:
the page-view renditions that time out on other CMSs (Wagtail #3868, #11330) cannot happen.

Pillow directly rather than easy-thumbnails, sorl-thumbnail or imagekit: those make a
thumbnail on first access from a template (a page view) and look it up per image in a cache or
a key-value table, which is what the page must not do; here the needs are narrow (fixed
widths, a focal crop, metadata stripped) and Pillow does all of it.

Renditions carry no EXIF, GPS, XMP or comments: the pixels are read with the orientation
applied and encoded afresh with only the colour profile kept.
"""

import hashlib
import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import MaxValueValidator
from django.db import models, transaction
from django.db.models.signals import post_delete
from PIL import Image, ImageOps

from films.images import (
    STORAGE_ERRORS,
    PictureNotSaved,
    eight_bit,
    record_written,
    storage_call,
    stored_by_this_save,
)

logger = logging.getLogger(__name__)

# Bump to make `manage.py renditions` regenerate everything after a change to SPECS or encoding.
SPEC_VERSION = 2
RENDITION_DIR = "renditions"
# Threads that make one picture's renditions at once.
ENCODING_THREADS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class Spec:
    name: str
    ratio: tuple[int, int] | None  # width:height of the crop; None keeps the image's shape
    widths: tuple[int, ...]
    upscale: bool = False  # only for exact-size images (Open Graph)
    pad: bool = False  # an image of another shape is centred on a background, not cropped
    modern: bool = True  # also in the modern formats, or only the fallback


SPECS = {
    spec.name: spec
    for spec in [
        Spec("poster", (2, 3), (160, 320, 480, 640, 960)),
        Spec("still", (16, 9), (320, 640, 960, 1280, 1920)),
        Spec("portrait", (4, 5), (96, 192, 384)),
        Spec("logo", None, (64, 128, 256)),
        # Link previews (Facebook, Mastodon, Slack...): one JPEG at the size they ask for.
        Spec("og", (1200, 630), (1200,), upscale=True, pad=True, modern=False),
        # The whole image, uncropped and small: the admin's preview, where the editor clicks
        # the focal point (the original may be 40 megapixels; the crops hide what they cut).
        Spec("whole", None, (480,), modern=False),
    ]
}

# Which specs each kind of picture gets.
KINDS = {
    "poster": ("poster", "og", "whole"),
    "still": ("still", "og", "whole"),
    "portrait": ("portrait", "whole"),
    "logo": ("logo",),  # shown whole already, and without a focal point
    "lead": ("still", "og", "whole"),
}

MIME_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
ENCODING = {
    "avif": ("AVIF", ".avif", {"quality": 55, "speed": 8}),
    "webp": ("WEBP", ".webp", {"quality": 80, "method": 4}),
    "jpeg": ("JPEG", ".jpg", {"quality": 82, "optimize": True, "progressive": True}),
    "png": ("PNG", ".png", {"optimize": True}),
}


def modern_formats() -> tuple[str, ...]:
    return tuple(settings.FILMMAG_IMAGE_FORMATS)


# --- Generating ----------------------------------------------------------------------------------


def rendition_key(source_name: str, focal: tuple[int, int]) -> str:
    text = f"{SPEC_VERSION}:{source_name}:{focal[0]}:{focal[1]}:{','.join(modern_formats())}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def open_source(file) -> Image.Image:
    """The image as it should look: orientation applied, in RGB or RGBA, fully decoded."""
    file.seek(0)
    with Image.open(file) as image:
        image = eight_bit(ImageOps.exif_transpose(image))
        icc = image.info.get("icc_profile")
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        )
        image = image.convert("RGBA" if has_alpha else "RGB")
        if has_alpha and image.getextrema()[3][0] == 255:
            image = image.convert("RGB")  # an alpha channel that is opaque everywhere
        image.load()
    if icc:
        image.info["icc_profile"] = icc
    return image


def crop_box(size: tuple[int, int], ratio: tuple[int, int], focal: tuple[int, int]):
    """The largest box of ``ratio`` inside ``size``, centred on the focal point (in %) as far
    as the edges allow."""
    width, height = size
    target = ratio[0] / ratio[1]
    if width / height > target:
        crop_w, crop_h = round(height * target), height
    else:
        crop_w, crop_h = width, round(width / target)
    left = min(max(round(width * focal[0] / 100 - crop_w / 2), 0), width - crop_w)
    top = min(max(round(height * focal[1] / 100 - crop_h / 2), 0), height - crop_h)
    return left, top, left + crop_w, top + crop_h


def shaped(image: Image.Image, spec: Spec, focal: tuple[int, int]) -> Image.Image:
    """The image in the spec's shape, at the largest size it has (before any scaling)."""
    if spec.ratio is None:
        return image
    if spec.pad:
        target = spec.ratio[0] / spec.ratio[1]
        if not 0.8 * target <= image.width / image.height <= 1.25 * target:
            return padded(image, spec)
    return image.crop(crop_box(image.size, spec.ratio, focal))


def padded(image: Image.Image, spec: Spec) -> Image.Image:
    """A tall image (a poster) for a wide frame: whole, centred on its own darkened colour."""
    out_w = spec.widths[-1]
    out_h = round(out_w * spec.ratio[1] / spec.ratio[0])
    average = image.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    background = Image.new("RGB", (out_w, out_h), tuple(int(c * 0.35) for c in average))
    fitted = ImageOps.contain(image.convert("RGB"), (out_w, out_h), Image.Resampling.LANCZOS)
    background.paste(fitted, ((out_w - fitted.width) // 2, (out_h - fitted.height) // 2))
    return background


def scaled_versions(image: Image.Image, spec: Spec) -> list[Image.Image]:
    """The image at each of the spec's widths it can fill, largest first (each made from the
    one before, which is faster than scaling the full image every time and looks the same)."""
    widths = sorted(spec.widths, reverse=True)
    fits = [w for w in widths if w <= image.width]
    if spec.upscale or not fits:
        # An image narrower than the smallest width is still shown, at its own size.
        fits = widths if spec.upscale else [image.width]
    versions, current = [], image
    for width in fits:
        height = max(1, round(width * current.height / current.width))
        if spec.ratio is not None:
            height = max(1, round(width * spec.ratio[1] / spec.ratio[0]))
        if (width, height) != current.size:
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        versions.append(current)
    return versions


def encode(image: Image.Image, fmt: str) -> bytes:
    pil_format, _, options = ENCODING[fmt]
    out = io.BytesIO()
    extra = {}
    if image.info.get("icc_profile") and fmt != "png":
        extra["icc_profile"] = image.info["icc_profile"]
    if fmt == "jpeg" and image.mode != "RGB":
        image = image.convert("RGB")
    # No exif= argument: nothing of the upload's metadata is written.
    image.save(out, pil_format, **options, **extra)
    return out.getvalue()


def generate(
    storage, source_name: str, kind: str, focal: tuple[int, int], *, label: str = "picture"
) -> dict:
    """Write every rendition of ``source_name`` for a picture of ``kind`` and return the JSON
    that records them. A rendition already in storage (the same key) is not written again.

    Raises StorageUnavailable when the store fails, having removed what it wrote."""
    key = rendition_key(source_name, focal)
    with storage_call(label), storage.open(source_name, "rb") as file:
        data = file.read()  # all of it first: a store that fails is not a damaged image
    source = open_source(io.BytesIO(data))
    written = []
    try:
        result = _write_renditions(storage, source, key, kind, focal, label, written)
    except BaseException:
        for name in written:  # nothing half-made stays behind
            try:
                storage.delete(name)
            except Exception:  # noqa: BLE001 - the store may be down; `renditions --prune` tidies
                logger.warning("Could not remove the rendition %s", name, exc_info=True)
        raise
    for name in written:
        record_written(storage, name)
    return result


def _write_renditions(storage, source, key, kind, focal, label, written: list) -> dict:
    has_alpha = source.mode == "RGBA"
    result = {"key": key, "source": list(source.size), "specs": {}}
    specs = [SPECS[spec_name] for spec_name in KINDS[kind]]

    def sized(spec):
        image = shaped(source, spec, focal)
        if spec.pad and image.mode == "RGBA":
            image = image.convert("RGB")
        return scaled_versions(image, spec)

    # Pillow resizes and encodes outside the GIL: on several cores the shapes are scaled, and
    # then the files encoded, side by side (a poster's renditions take about 35% less time on
    # two cores). The store is called from this thread only.
    with ThreadPoolExecutor(max_workers=ENCODING_THREADS) as pool:
        missing = []  # (name, image, format): the files to encode and store
        for spec, versions in zip(specs, pool.map(sized, specs), strict=True):
            fallback = "png" if has_alpha and not spec.pad else "jpeg"
            formats = [*modern_formats(), fallback] if spec.modern else [fallback]
            files = {fmt: [] for fmt in formats}
            for version in versions:
                for fmt in formats:
                    extension = ENCODING[fmt][1]
                    name = f"{RENDITION_DIR}/{key[:2]}/{key}/{spec.name}-{version.width}{extension}"
                    with storage_call(label):
                        if not storage.exists(name):
                            missing.append((name, version, fmt))
                    files[fmt].append([version.width, name])
            for names in files.values():
                names.sort()
            largest = versions[0]
            result["specs"][spec.name] = {
                "size": [largest.width, largest.height],
                "fallback": fallback,
                "files": files,
            }
        # One task per image, its formats one after the other: Image.save() keeps the options
        # of the save under way on the image, so two saves of one image at once would mix them.
        by_image = {}
        for name, image, fmt in missing:
            by_image.setdefault(id(image), (image, []))[1].append((name, fmt))

        def encoded_files(job):
            image, files = job
            return [(name, encode(image, fmt)) for name, fmt in files]

        try:
            for files in pool.map(encoded_files, by_image.values()):
                for name, data in files:
                    with storage_call(label):
                        saved = storage.save(name, ContentFile(data))
                        written.append(saved)
                        if saved != name:  # a race with another save of the same picture
                            storage.delete(saved)
                            written.remove(saved)
        except BaseException:
            pool.shutdown(cancel_futures=True)  # encode no more than is under way
            raise
    return result


def rendition_names(renditions: dict) -> set[str]:
    return {
        name
        for spec in (renditions or {}).get("specs", {}).values()
        for names in spec["files"].values()
        for _, name in names
    }


def remove_renditions_on_commit(storage, renditions: dict, keep: dict | None = None) -> None:
    """Delete the files of ``renditions`` that ``keep`` does not also name, after commit."""
    names = rendition_names(renditions) - rendition_names(keep or {})
    if not names:
        return

    def remove():
        for name in names:
            try:
                storage.delete(name)
            except STORAGE_ERRORS:
                logger.exception("Could not remove the unused rendition %s", name)

    transaction.on_commit(remove, robust=True)


# --- Fields --------------------------------------------------------------------------------------


class RenditionsField(models.JSONField):
    """The renditions of the image in ``source`` (an ImageUploadField declared before it), kept
    up to date on every save: a new image or a new focal point writes new renditions and
    removes the old ones once the transaction commits."""

    def __init__(self, *args, source: str = "", kind: str = "", focal: str = "", **kwargs):
        self.source, self.kind, self.focal = source, kind, focal
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, kind=self.kind, focal=self.focal)
        if kwargs.get("default") is dict:
            del kwargs["default"]
        kwargs.pop("blank", None)
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def focal_point(self, instance) -> tuple[int, int]:
        if not self.focal:
            return (50, 50)
        x = getattr(instance, f"{self.focal}_x")
        y = getattr(instance, f"{self.focal}_y")
        return (50 if x is None else int(x), 50 if y is None else int(y))

    def pre_save(self, model_instance, add):
        current = getattr(model_instance, self.attname) or {}
        source = getattr(model_instance, self.source)
        if not source:
            wanted = {}
        else:
            key = rendition_key(source.name, self.focal_point(model_instance))
            if current.get("key") == key:
                return current
            label = model_instance._meta.get_field(self.source).verbose_name
            try:
                wanted = generate(
                    source.storage,
                    source.name,
                    self.kind,
                    self.focal_point(model_instance),
                    label=label,
                )
            except PictureNotSaved:
                raise
            except Exception as exc:  # noqa: BLE001 - Pillow raises many types
                if stored_by_this_save(model_instance, source.name):
                    # A new upload passed the checks, so this is unexpected: refuse the save
                    # (its files go) rather than keep a picture that cannot be shown.
                    logger.exception("Could not make the renditions of %s", source.name)
                    raise PictureNotSaved(
                        f"The {label} could not be prepared for the site, so nothing was "
                        "saved. Try another export of the image."
                    ) from exc
                # An older stored file that no longer reads (a restore gone wrong) must not
                # stop the rest of the row from being saved.
                logger.exception("Could not make the renditions of %s", source.name)
                wanted = {}
        if current and current != wanted:
            remove_renditions_on_commit(source.storage, current, keep=wanted)
        setattr(model_instance, self.attname, wanted)
        return wanted

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        if not cls._meta.abstract:
            post_delete.connect(
                _remove_deleted_renditions,
                sender=cls,
                weak=False,
                dispatch_uid=f"renditions-{cls._meta.label_lower}-{name}-{id(self)}",
            )


def _remove_deleted_renditions(sender, instance, **kwargs):
    for field in sender._meta.concrete_fields:
        if isinstance(field, RenditionsField):
            renditions = getattr(instance, field.attname, None)
            if renditions:
                storage = sender._meta.get_field(field.source).storage
                remove_renditions_on_commit(storage, renditions)


def alt_text_field(verbose_name: str = "alt text", **kwargs) -> models.CharField:
    return models.CharField(
        verbose_name,
        max_length=300,
        blank=True,
        help_text=(
            "What the image shows, for readers who cannot see it (read aloud by screen "
            "readers). Required with an image."
        ),
        **kwargs,
    )


def credit_field(**kwargs) -> models.CharField:
    return models.CharField(
        max_length=200,
        blank=True,
        help_text="Who made or owns the image, e.g. “© Mosfilm” or “Photo: Jane Doe”.",
        **kwargs,
    )


def caption_field(**kwargs) -> models.CharField:
    return models.CharField(
        max_length=300, blank=True, help_text="Shown under the image.", **kwargs
    )


class FocalPointField(models.PositiveSmallIntegerField):
    """A focal point coordinate in % (0–100). Optional in forms: left empty, it is the centre,
    so a form that does not show it (an import, an older client) saves the default."""

    def formfield(self, **kwargs):
        return super().formfield(**{"required": False, "min_value": 0, "max_value": 100, **kwargs})

    def pre_save(self, model_instance, add):
        if getattr(model_instance, self.attname) is None:
            setattr(model_instance, self.attname, self.get_default())
        return super().pre_save(model_instance, add)


def focal_field(axis: str) -> FocalPointField:
    where = "from the left" if axis == "x" else "from the top"
    return FocalPointField(
        f"focal point {axis}",
        default=50,
        validators=[MaxValueValidator(100)],
        help_text=f"The part of the image to keep when it is cropped: % {where}.",
    )


def focal_constraints(prefix: str, table: str) -> list[models.CheckConstraint]:
    """Named constraints keeping a focal point (``<prefix>_x``, ``<prefix>_y``) in 0–100."""
    return [
        models.CheckConstraint(
            condition=models.Q(**{f"{prefix}_{axis}__lte": 100}),
            name=f"{table}_{prefix}_{axis}_range",
            violation_error_message="A focal point is a percentage from 0 to 100.",
        )
        for axis in ("x", "y")
    ]


def require_alt(instance, image_field: str, alt_field: str, suggestion: str = "") -> None:
    """Model validation: an image needs its alt text."""
    if getattr(instance, image_field) and not getattr(instance, alt_field).strip():
        hint = f" For example: “{suggestion}”." if suggestion else ""
        raise ValidationError(
            {alt_field: f"Describe the image for readers who cannot see it.{hint}"}
        )


# --- Showing -------------------------------------------------------------------------------------


class Picture:
    """An image ready for a page: its renditions, alt text, caption and credit. Falsy when
    there is nothing to show (no image, or its renditions could not be made)."""

    def __init__(self, file, renditions, *, alt="", caption="", credit=""):
        self.file = file
        self.renditions = renditions or {}
        self.alt, self.caption, self.credit = alt, caption, credit

    def __bool__(self):
        return bool(self.file) and bool(self.renditions.get("specs"))

    def __repr__(self):
        return f"<Picture {self.file.name if self.file else '-'}>"

    def has(self, spec: str) -> bool:
        return bool(self) and spec in self.renditions["specs"]

    def _spec(self, spec: str) -> dict:
        return self.renditions["specs"][spec]

    def size(self, spec: str) -> tuple[int, int]:
        return tuple(self._spec(spec)["size"])

    def srcset(self, spec: str, fmt: str) -> str:
        storage = self.file.storage
        return ", ".join(f"{storage.url(name)} {w}w" for w, name in self._spec(spec)["files"][fmt])

    def sources(self, spec: str) -> list[tuple[str, str]]:
        """(media type, srcset) for each modern format, best first."""
        files = self._spec(spec)["files"]
        return [
            (MIME_TYPES[fmt], self.srcset(spec, fmt))
            for fmt in ("avif", "webp")
            if fmt in files and fmt != self._spec(spec)["fallback"]
        ]

    def fallback(self, spec: str) -> str:
        return self._spec(spec)["fallback"]

    def url(self, spec: str, width: int | None = None) -> str:
        """The fallback format's URL at ``width`` or the nearest above it (largest if None)."""
        data = self._spec(spec)
        names = data["files"][data["fallback"]]
        if width is not None:
            for w, name in names:
                if w >= width:
                    return self.file.storage.url(name)
        return self.file.storage.url(names[-1][1])

    @property
    def og_url(self) -> str | None:
        return self.url("og") if self.has("og") else None

    @property
    def thumbnail_url(self) -> str | None:
        """A small rendition for the admin's lists."""
        for spec in self.renditions.get("specs", {}):
            if spec not in ("og", "whole"):
                return self.url(spec, 160)
        return None
