"""The admin's side of pictures (films.pictures), shared by the films and reviews admins.

- ``thumbnail_column(...)``: a change-list column showing a small rendition, from the row
  itself (the renditions are a JSON column): no query per row and nothing resized on view.
- ``PictureInput``: the image input with the current image beside it, shown whole from its
  small "whole" rendition (never the original), with the crop of the picture's shape outlined
  at the focal point. Clicking the image sets the focal point (films/admin/pictures.js); the
  outline and marker are SVG attributes, so they show without JavaScript and need no inline
  style, which the CSP forbids.
- ``PictureFormMixin``: gives each image input its preview, and prefills an empty alt text with
  the model's suggestion ("Poster for The Cranes Are Flying (1957)") when the form comes back
  with errors or shows an image that has none. The model's ``clean()`` (films.pictures
  ``require_alt``) still refuses an image without alt text, naming the suggestion.
"""

from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html, format_html_join

from films.images import ImageUploadFormField
from films.pictures import SPECS, Picture, crop_box

THUMBNAIL_SIZE = 64  # px: a thumbnail's longer side


@dataclass(frozen=True)
class PictureSlot:
    """Where a model keeps one picture: its image, alt text, renditions and focal fields
    (``<focal>_x/_y``), the spec whose crop the preview outlines, and the property that
    suggests its alt text."""

    image: str
    alt: str
    renditions: str
    shape: str
    suggestion: str = ""
    focal: str = ""
    label: str = "image"


def thumbnail(picture: Picture | None, note: str = ""):
    """A small rendition for a change list, or None (the admin's "-") without one."""
    url = picture.thumbnail_url if picture else None
    if not url:
        return None
    spec = next(name for name in picture.renditions["specs"] if name not in ("og", "whole"))
    width, height = picture.size(spec)
    scale = THUMBNAIL_SIZE / max(width, height)
    image = format_html(
        '<img class="picture-thumb" src="{}" width="{}" height="{}" alt="" loading="lazy">',
        url,
        max(1, round(width * scale)),
        max(1, round(height * scale)),
    )
    if note:
        # No stylesheet on the list: <small> on a line of its own is enough.
        return format_html('{}<br><small class="picture-thumb__note">{}</small>', image, note)
    return image


def thumbnail_column(picture: str, description: str):
    """A ``list_display`` entry showing the row's ``picture`` property as a thumbnail."""

    @admin.display(description=description)
    def column(obj):
        return thumbnail(getattr(obj, picture))

    column.__name__ = "thumbnail"  # the column's CSS class: column-thumbnail
    return column


class PictureInput(AdminFileWidget):
    """The image input with a preview of the current image and its focal point."""

    slot: PictureSlot | None = None
    picture: Picture | None = None
    focal: tuple[int, int] = (50, 50)
    form = None  # the form showing it, whose instance suggests the alt text
    reupload: bool = False
    # What the page shows without this image, and a sentence saying so (a review's lead
    # picture falls back to its film's still or poster).
    fallback: tuple[Picture, str] | None = None

    class Media:
        css = {"all": ["films/admin/pictures.css"]}
        js = ["films/admin/pictures.js"]

    def render(self, name, value, attrs=None, renderer=None):
        field = super().render(name, value, attrs, renderer)
        slot = self.slot
        if slot is None:
            return field
        data = {
            "alt": slot.alt,
            # At render time: an inline's empty row learns its parent after __init__.
            "suggestion": self.form.suggested_alt(slot) if self.form is not None else "",
            "field": slot.image,
        }
        notes = []
        if self.reupload:
            notes.append(
                format_html(
                    '<p class="picture-input__note">Choose the {} again: browsers do not keep '
                    "a chosen file when a form comes back with errors.</p>",
                    slot.label,
                )
            )
        preview = self._preview(slot, data)
        attributes = format_html_join(" ", 'data-{}="{}"', data.items())
        return format_html(
            '<div class="picture-input" {}>{}<div class="picture-input__field">{}</div>{}</div>',
            attributes,
            preview,
            field,
            format_html_join("", "{}", ((note,) for note in notes)),
        )

    def _preview(self, slot, data):
        picture = self.picture
        if not picture:
            return self._fallback()
        whole = picture.has("whole")
        src = picture.url("whole") if whole else picture.thumbnail_url
        if whole:
            width, height = picture.size("whole")
        else:
            spec = next(name for name in picture.renditions["specs"] if name != "og")
            width, height = picture.size(spec)
        overlay = ""
        help_text = f"The current {slot.label}."
        ratio = SPECS[slot.shape].ratio
        if whole and slot.focal and ratio:
            data.update(focal=slot.focal, ratio=f"{ratio[0]}/{ratio[1]}")
            source = picture.renditions.get("source") or [width, height]
            left, top, right, bottom = crop_box(tuple(source), ratio, self.focal)
            x, y = self.focal
            overlay = format_html(
                '<svg class="picture-preview__overlay" viewBox="0 0 100 100" '
                'preserveAspectRatio="none" aria-hidden="true" focusable="false">'
                '<rect class="picture-preview__crop" x="{}" y="{}" width="{}" height="{}"/>'
                '<line class="picture-preview__marker" x1="{}" y1="0" x2="{}" y2="100"/>'
                '<line class="picture-preview__marker" x1="0" y1="{}" x2="100" y2="{}"/>'
                "</svg>",
                _percent(left, source[0]),
                _percent(top, source[1]),
                _percent(right - left, source[0]),
                _percent(bottom - top, source[1]),
                x,
                x,
                y,
                y,
            )
            help_text += (
                f" The outline is the {ratio[0]}:{ratio[1]} {slot.shape} crop around the focal "
                "point: click the image, or type the focal point below, to choose what the "
                "crop keeps."
            )
        return format_html(
            '<figure class="picture-preview"><div class="picture-preview__frame">'
            '<img class="picture-preview__image" src="{}" width="{}" height="{}" alt="{}">{}'
            '</div><figcaption class="help">{}</figcaption></figure>',
            src,
            width,
            height,
            f"Current {slot.label}: {picture.alt}" if picture.alt else f"Current {slot.label}",
            overlay,
            help_text,
        )

    def _fallback(self):
        if self.fallback is None or not self.fallback[0]:
            return ""
        picture, note = self.fallback
        return format_html(
            '<figure class="picture-preview picture-preview--fallback">{}'
            '<figcaption class="help">{}</figcaption></figure>',
            thumbnail(picture),
            note,
        )


class PictureInlineFormSet(BaseInlineFormSet):
    """Inline rows with pictures (a film's stills): the empty row that "Add another" copies
    knows its parent too, so a new row's alt text gets the suggestion ("A still from …")."""

    @property
    def empty_form(self):
        form = super().empty_form
        setattr(form.instance, self.fk.name, self.instance)
        return form


def _percent(value, total) -> str:
    return f"{100 * value / total:.2f}" if total else "0"


class PictureFormMixin:
    """For a ModelForm whose model has pictures (``picture_slots``): previews and alt text."""

    picture_slots: tuple[PictureSlot, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for slot in self.picture_slots:
            field = self.fields.get(slot.image)
            if field is None or not isinstance(field, ImageUploadFormField):
                continue
            widget = field.widget = PictureInput(attrs=field.widget.attrs)
            widget.slot = slot
            instance = self.instance
            has_image = bool(getattr(instance, slot.image))
            if has_image:
                widget.picture = Picture(
                    getattr(instance, slot.image),
                    getattr(instance, slot.renditions),
                    alt=getattr(instance, slot.alt, ""),
                )
                widget.focal = self._focal(slot)
            widget.form = self
            suggestion = self.suggested_alt(slot)
            if (
                not self.is_bound
                and has_image
                and slot.alt in self.fields
                and not self.initial.get(slot.alt)
                and suggestion
            ):
                # An image stored without alt text (before it was required): offer one.
                self.initial[slot.alt] = suggestion

    def suggested_alt(self, slot: PictureSlot) -> str:
        """The model's suggestion for the slot's alt text, from the instance as it is now."""
        return getattr(self.instance, slot.suggestion, "") if slot.suggestion else ""

    def _focal(self, slot: PictureSlot) -> tuple[int, int]:
        if not slot.focal:
            return (50, 50)
        values = (getattr(self.instance, f"{slot.focal}_{axis}", None) for axis in "xy")
        return tuple(50 if v is None else min(max(int(v), 0), 100) for v in values)

    def full_clean(self):
        super().full_clean()
        if not self._errors:
            return
        # The form comes back: an image without alt text gets the model's suggestion (made
        # from what the editor typed, now on the instance), and a chosen file must be chosen
        # again, as browsers do not keep it.
        data = None
        for slot in self.picture_slots:
            if slot.image not in self.fields:
                continue
            widget = self.fields[slot.image].widget
            uploaded = bool(self.files.get(self.add_prefix(slot.image)))
            if isinstance(widget, PictureInput):
                widget.reupload = uploaded
                widget.focal = self._focal(slot)  # as typed, where it was valid
            alt_key = self.add_prefix(slot.alt)
            has_image = uploaded or bool(getattr(self.instance, slot.image))
            suggestion = self.suggested_alt(slot)
            if slot.alt in self.fields and has_image and suggestion:
                if not str(self.data.get(alt_key, "")).strip():
                    if data is None:
                        data = self.data.copy()
                    data[alt_key] = suggestion
        if data is not None:
            self.data = data
