"""Uploaded images (film posters; later stills, portraits and logos): one set of rules.

``ImageUploadField`` is an ImageField that

- accepts an upload only if its *content* is a JPEG, PNG or WebP image (AVIF too where this
  Pillow reads it), within ``FILMMAG_MAX_IMAGE_BYTES`` and ``FILMMAG_MAX_IMAGE_PIXELS``, and
  decodes completely, so a truncated file is refused rather than shown half grey;
- stores it under a name made from its content, with the extension of what it is, whatever
  the file was called, and without the EXIF, GPS and XMP data a photo may carry;
- removes a replaced, cleared or deleted file from storage once the transaction commits, and
  only if no row still uses it;
- removes the files a save wrote when that save fails (a store that is down, an IntegrityError),
  and reports a store that is down as ``StorageUnavailable``, which the admin shows as a form
  error (films.admin.PictureStorageAdminMixin) rather than a server error.

The checks run in model validation (so every ModelForm, the admin included, shows them as
field errors) and again, for a file nobody checked, before it is stored.
"""

import hashlib
import io
import logging
import re
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import PurePosixPath

from django import forms
from django.apps import apps as global_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.utils.text import capfirst
from PIL import Image, ImageOps, UnidentifiedImageError, features

logger = logging.getLogger(__name__)

# Pillow's format name: (what editors call it, file extension, media type). GIF is left out:
# 256 colours spoil a poster or a still, and an animated one would flicker on the page.
FORMATS = {
    "JPEG": ("JPEG", ".jpg", "image/jpeg"),
    "PNG": ("PNG", ".png", "image/png"),
    "WEBP": ("WebP", ".webp", "image/webp"),
}
if features.check("avif"):
    FORMATS["AVIF"] = ("AVIF", ".avif", "image/avif")

_CHECKED = "_filmmag_image_format"  # set on a file object that passed check_image()


def configure_pillow() -> None:
    """Make Pillow refuse, not merely warn about, images over the pixel limit, process-wide."""
    Image.MAX_IMAGE_PIXELS = settings.FILMMAG_MAX_IMAGE_PIXELS
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def accepted_types() -> str:
    """The accepted formats, for messages: "JPEG, PNG or WebP"."""
    names = [label for label, _, _ in FORMATS.values()]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def limits_text() -> str:
    """Help text for an upload field: "A JPEG, PNG or WebP image of at most 10 MB and ..." """
    return (
        f"A {accepted_types()} image of at most {settings.FILMMAG_MAX_IMAGE_BYTES / 1e6:g} MB "
        f"and {_megapixels(settings.FILMMAG_MAX_IMAGE_PIXELS)} megapixels."
    )


def check_image(file, *, label: str = "image") -> str:
    """Refuse ``file`` with a ValidationError unless it is an acceptable image.

    Returns Pillow's name for its format ("JPEG", "PNG", ...). ``label`` names the image in
    the messages: "The poster is 52.4 MB; the limit is 10 MB."
    """
    limit = settings.FILMMAG_MAX_IMAGE_BYTES
    if file.size > limit:
        raise ValidationError(
            f"The {label} is {_size_text(file.size, limit)}; the limit is {limit / 1e6:g} MB.",
            code="too_big",
        )
    try:
        file.seek(0)
        with Image.open(file, formats=list(FORMATS)) as image:
            image_format = image.format
            _check_pixels(image.size, label)
            image.verify()  # checksums and structure; cannot decode
        file.seek(0)
        with Image.open(file, formats=[image_format]) as image:
            image.load()  # every pixel: a truncated or corrupt file fails here
    except ValidationError:
        raise
    except UnidentifiedImageError:
        raise ValidationError(
            f"“{_display_name(file)}” is not a {accepted_types()} image.", code="not_an_image"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refused it while reading the header; its message gives the pixel count.
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"is {_megapixels(int(pixels[1]))} megapixels" if pixels else "has too many pixels"
        raise ValidationError(
            f"The {label} {size}; the limit is "
            f"{_megapixels(settings.FILMMAG_MAX_IMAGE_PIXELS)} megapixels.",
            code="too_many_pixels",
        ) from None
    except Exception:  # noqa: BLE001 - Pillow's decoders raise many types on malformed data
        raise ValidationError(
            f"The {label} file is damaged or incomplete, so it cannot be shown. Export or "
            "download it again and upload the new file.",
            code="damaged",
        ) from None
    finally:
        file.seek(0)
    setattr(file, _CHECKED, image_format)
    return image_format


def _check_pixels(size: tuple[int, int], label: str) -> None:
    width, height = size
    limit = settings.FILMMAG_MAX_IMAGE_PIXELS
    if width * height > limit:
        raise ValidationError(
            f"The {label} is {width:,} × {height:,} pixels ({_megapixels(width * height)} "
            f"megapixels); the limit is {_megapixels(limit)} megapixels.",
            code="too_many_pixels",
        )


def _size_text(size: int, limit: int) -> str:
    if round(size / 1e6, 1) <= limit / 1e6:
        return f"{size:,} bytes"  # "10.0 MB; the limit is 10 MB" would read as a contradiction
    return f"{size / 1e6:.1f} MB"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}".removesuffix(".0")


def _display_name(file) -> str:
    name = PurePosixPath(str(getattr(file, "name", "") or "").replace("\\", "/")).name
    return name if len(name) <= 80 else f"{name[:79]}…"


def _checked_format(file, label: str) -> str:
    return getattr(file, _CHECKED, None) or check_image(file, label=label)


class ImageUploadFormField(forms.FileField):
    """The form side: checks a new upload at once and offers only the accepted types."""

    def __init__(self, *, image_label: str = "image", **kwargs):
        self.image_label = image_label
        super().__init__(**kwargs)

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is not None:
            check_image(upload, label=self.image_label)
        return upload

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = ",".join(mime for _, _, mime in FORMATS.values())
        if isinstance(widget, forms.ClearableFileInput):
            # The admin puts this widget in a fieldset whose legend labels the group, not the
            # file input: without a file yet, the input alone would have no accessible name.
            attrs.setdefault("aria-label", capfirst(self.image_label))
        return attrs


# --- Storage that fails ---------------------------------------------------------------------------


class PictureNotSaved(Exception):
    """A picture could not be stored, so its row was not saved; the message is for editors."""


class StorageUnavailable(PictureNotSaved):
    """The picture store (MEDIA_ROOT's disk, the S3 bucket) refused a read or a write."""


def _storage_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # only the S3 storage needs them
        pass
    else:
        errors += [Boto3Error, BotoCoreError, ClientError]
    return tuple(errors)


STORAGE_ERRORS = _storage_errors()

UNAVAILABLE_MESSAGE = (
    "The {label} could not be stored: the picture store is not answering ({reason}). Nothing "
    "was saved. Try again in a few minutes, choosing the file again; if it keeps failing, "
    "tell whoever runs the site."
)


@contextmanager
def storage_call(label: str = "picture"):
    """Turn a storage error into StorageUnavailable, with a message for editors. A missing file
    is not an outage and passes through as FileNotFoundError."""
    try:
        yield
    except FileNotFoundError:
        raise
    except STORAGE_ERRORS as exc:
        logger.exception("The picture store failed")
        reason = getattr(exc, "strerror", None) or type(exc).__name__  # "No space left on device"
        raise StorageUnavailable(UNAVAILABLE_MESSAGE.format(label=label, reason=reason)) from exc


# The files stored since the innermost files_removed_on_failure() block began.
_written: ContextVar[list | None] = ContextVar("filmmag_written_files", default=None)


@contextmanager
def files_removed_on_failure():
    """Remove the files stored inside the block if it raises: a save that fails after writing
    an upload and its renditions (a store that stops answering half-way, an IntegrityError)
    leaves no file behind. Blocks nest: an outer block that fails removes what inner ones
    wrote, so the admin's failing inline removes the poster its film saved first."""
    outer = _written.get()
    written: list = []
    token = _written.set(written)
    try:
        yield
    except BaseException:
        _written.reset(token)
        for storage, name in reversed(written):
            try:
                storage.delete(name)
            except Exception:  # noqa: BLE001 - the store may be down; `renditions --prune` tidies
                logger.warning("Could not remove %s after a failed save", name, exc_info=True)
        raise
    _written.reset(token)
    if outer is not None:
        outer.extend(written)


def record_written(storage, name: str) -> None:
    """Note a file this save stored, for files_removed_on_failure()."""
    written = _written.get()
    if written is not None:
        written.append((storage, name))


class WrittenFilesMixin:
    """For a model with pictures: a save that fails removes the files it stored."""

    def save(self, *args, **kwargs):
        try:
            with files_removed_on_failure():
                super().save(*args, **kwargs)
        finally:
            self.__dict__.pop(_NEW_FILES, None)


_NEW_FILES = "_filmmag_new_files"  # names stored since the instance's last save


def stored_by_this_save(instance, name: str) -> bool:
    """Whether ``name`` is an upload that the save now running stored (not an older file)."""
    return name in instance.__dict__.get(_NEW_FILES, ())


class CheckedImageFieldFile(models.fields.files.ImageFieldFile):
    """Every way of storing a file (a form's save, ``film.poster.save(...)``, the demo) checks
    it, removes its metadata and names it after its content."""

    def save(self, name, content, save=True):
        # Code that saves without full_clean() still cannot store an unchecked file.
        label = self.field.verbose_name
        image_format = _checked_format(content, label)
        clean = without_metadata(content, image_format)
        if clean is not None:
            content = clean
        name = generated_name(content, FORMATS[image_format][1])
        with files_removed_on_failure():
            name = self.field.generate_filename(self.instance, name)
            with storage_call(label):
                self.name = self.storage.save(name, content, max_length=self.field.max_length)
            record_written(self.storage, self.name)
            self.instance.__dict__.setdefault(_NEW_FILES, set()).add(self.name)
            self._set_instance_attribute(self.name, content)
            self._committed = True
            if save:
                self.instance.save()


class ImageUploadField(models.ImageField):
    """An ImageField with the checks above and storage clean-up after commit."""

    attr_class = CheckedImageFieldFile

    # The name's extension says nothing about the content; check_image() reads the content.
    default_validators = []

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value and not value._committed:
            _checked_format(value.file, self.verbose_name)

    def formfield(self, **kwargs):
        return super().formfield(
            **{
                "form_class": ImageUploadFormField,
                "image_label": self.verbose_name,
                "help_text": self.help_text or limits_text(),
                # Storage shortens a long name to fit; an editor need not rename the file.
                "max_length": None,
                **kwargs,
            }
        )

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        # Not for the historical models that migrations build.
        if not cls._meta.abstract and cls._meta.apps is global_apps:
            _track_files(cls)


def generated_name(file, extension: str) -> str:
    """A name made from the content: the uploader's file name (which may carry a person's name,
    a path or a script) never reaches storage, and the same image always gets the same name."""
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1 << 16), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()[:24] + extension


# Metadata that can say where and when a photo was taken, or by whom.
_METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")


def without_metadata(file, image_format: str):
    """The upload with its orientation applied and EXIF, GPS, XMP and comments removed, or None
    if it carries none (the bytes are then kept as uploaded, with no re-encoding loss)."""
    file.seek(0)
    with Image.open(file, formats=[image_format]) as image:
        if not any(image.info.get(key) for key in _METADATA_KEYS) and not image.getexif():
            file.seek(0)
            return None
        icc = image.info.get("icc_profile")
        clean = eight_bit(ImageOps.exif_transpose(image))
        if clean.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            clean = clean.convert("RGB")
        clean.info.clear()
        out = io.BytesIO()
        options = {"icc_profile": icc} if icc else {}
        if image_format in ("JPEG", "WEBP", "AVIF"):
            options["quality"] = 95
            if image_format == "JPEG" and clean.mode not in ("RGB", "L"):
                clean = clean.convert("RGB")
        clean.save(out, image_format, **options)
    file.seek(0)
    return ContentFile(out.getvalue())


def eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit greyscale image (a scan, a PNG export) as 8-bit greyscale. Pillow's own
    conversion clips every value over 255, so all but the darkest greys would come out white."""
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image


# --- Removing files no row uses any more --------------------------------------------------------
#
# Each instance remembers the file names it was loaded with (post_init, no query). After a
# save that changed one, or after a delete, the old file is removed when the transaction
# commits; a rolled-back save never gets there, so the old file stays. Another row (of any
# model) that points at the same file keeps it.

_LOADED = "_filmmag_loaded_files"


def _track_files(model) -> None:
    uid = f"image-files-{model._meta.label_lower}"
    post_init.connect(_remember_files, sender=model, dispatch_uid=uid)
    pre_save.connect(_fetch_unknown_files, sender=model, dispatch_uid=uid)
    post_save.connect(_remove_replaced_files, sender=model, dispatch_uid=uid)
    post_delete.connect(_remove_deleted_files, sender=model, dispatch_uid=uid)


def _image_fields(model) -> list[ImageUploadField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, ImageUploadField)]


def _stored_name(value) -> str | None:
    """The stored file name of a raw attribute value, or None for a file not yet stored."""
    if value is None or isinstance(value, str):
        return value or ""
    if getattr(value, "_committed", False):
        return value.name or ""
    return None


def _remember_files(sender, instance, **kwargs):
    loaded = {}
    for field in _image_fields(sender):
        if field.attname in instance.__dict__:  # a deferred field stays unloaded
            name = _stored_name(instance.__dict__[field.attname])
            if name is not None:
                loaded[field.attname] = name
    instance.__dict__[_LOADED] = loaded


def _fetch_unknown_files(sender, instance, raw, using, update_fields, **kwargs):
    """For an instance loaded without its image fields, read the stored names before saving."""
    if raw or instance._state.adding or instance.pk is None:
        return
    loaded = instance.__dict__.setdefault(_LOADED, {})
    unknown = [
        f.attname
        for f in _image_fields(sender)
        if f.attname not in loaded and (update_fields is None or f.name in update_fields)
    ]
    if unknown:
        row = sender._base_manager.using(using).filter(pk=instance.pk).values(*unknown).first()
        loaded.update(row or {})


def _remove_replaced_files(sender, instance, created, raw, using, update_fields, **kwargs):
    if raw:
        return
    loaded = instance.__dict__.setdefault(_LOADED, {})
    for field in _image_fields(sender):
        if update_fields is not None and field.name not in update_fields:
            continue
        new = getattr(instance, field.attname).name or ""
        old = loaded.get(field.attname)
        if old and old != new:
            _remove_on_commit(field, old, using)
        loaded[field.attname] = new


def _remove_deleted_files(sender, instance, using, **kwargs):
    loaded = instance.__dict__.get(_LOADED, {})
    for field in _image_fields(sender):
        name = _stored_name(instance.__dict__.get(field.attname))
        if name is None or field.attname not in instance.__dict__:
            name = loaded.get(field.attname)
        if name:
            _remove_on_commit(field, name, using)


def _remove_on_commit(field: models.FileField, name: str, using: str) -> None:
    if name == field.get_default():
        return
    storage = field.storage

    def remove():
        if _file_in_use(storage, name, using):
            return
        try:
            storage.delete(name)
        except STORAGE_ERRORS:
            logger.exception("Could not remove the unused file %s", name)

    transaction.on_commit(remove, using=using, robust=True)


def _file_in_use(storage, name: str, using: str) -> bool:
    for model in global_apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField) and field.storage is storage:
                if model._base_manager.using(using).filter(**{field.attname: name}).exists():
                    return True
    return False
