"""Uploading a picture through the admin as an editor does: open the change form, keep what it
shows, choose a file, save. One ``Target`` for each kind of picture, for
tests/films/test_upload_safety.py, tests/films/test_storage.py and tests/test_fuzz.py."""

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from films.models import Film, Person, Still, StreamingService
from films.pictures import Picture
from reviews.models import Review
from tests.factories import make_film, make_person, make_review, make_service


class _AdminFormParser(HTMLParser):
    """The values an admin change form would submit (files aside)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name, value):
        if name and "__prefix__" not in name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("file", "submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value") or "on")
                return
            self._add(name, attrs.get("value") or "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self._add(self._select, attrs.get("value") or "")
        elif tag == "textarea":
            self._textarea = name
            self._add(name, "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data.removeprefix("\n")


def form_values(html: str) -> dict:
    parser = _AdminFormParser()
    parser.feed(html)
    return {name: values if len(values) > 1 else values[0] for name, values in parser.data.items()}


@dataclass(frozen=True)
class Target:
    """A kind of picture and the admin form that uploads it."""

    kind: str  # as in films.pictures.KINDS
    label: str  # the field's name in messages

    def make(self):
        """The row whose change form uploads the picture."""
        if self.kind in ("poster", "still"):
            return make_film("Летят журавли — “The Cranes Are Flying”", year=1957)
        if self.kind == "portrait":
            return make_person("Tatiana Samoilova — Татьяна Самойлова")
        if self.kind == "logo":
            return make_service("Ciné+ 映画")
        return make_review(
            make_film("Vertigo", year=1958), headline="Grief in flight", published=False
        )

    def url(self, row) -> str:
        opts = row._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])

    def post(self, client, row, upload, **extra):
        """Submit the change form with ``upload`` as the picture."""
        data = form_values(client.get(self.url(row)).text)
        if self.kind == "still":  # one more still, after those the film has
            n = int(data["stills-TOTAL_FORMS"])
            data["stills-TOTAL_FORMS"] = str(n + 1)
            data.update(
                {
                    f"stills-{n}-id": "",
                    f"stills-{n}-film": str(row.pk),
                    f"stills-{n}-image": upload,
                    f"stills-{n}-alt_text": "Veronika on the stairs",
                    f"stills-{n}-caption": "",
                    f"stills-{n}-credit": "© Mosfilm",
                    f"stills-{n}-focal_x": "",
                    f"stills-{n}-focal_y": "",
                    f"stills-{n}-order": str(n),
                }
            )
        else:
            field = self.field
            data[field] = upload
            data[f"{field}_alt"] = f"{self.label.capitalize()}: Летят журавли"
        data.update(extra)
        return client.post(self.url(row), data)

    @property
    def field(self) -> str:
        return {
            "poster": "poster",
            "portrait": "portrait",
            "logo": "logo",
            "lead": "lead_image",
            "still": "image",
        }[self.kind]

    def picture(self, row):
        """The saved picture (after a successful post), or None."""
        row = type(row)._base_manager.get(pk=row.pk)
        if self.kind == "still":
            still = Still.objects.filter(film=row).order_by("pk").last()
            return still.picture if still else None
        return {
            Film: lambda: row.poster_picture,
            Person: lambda: row.portrait_picture,
            StreamingService: lambda: row.logo_picture,
            Review: lambda: Picture(row.lead_image, row.lead_image_renditions),
        }[type(row)]()

    def field_errors(self, response) -> list[str]:
        """The messages on the picture's own field."""
        if self.kind == "still":
            inline = next(
                f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "stills"
            )
            return [str(m) for form in inline.formset.forms for m in form.errors.get("image", [])]
        return [str(m) for m in response.context["adminform"].form.errors.get(self.field, [])]

    def errors(self, response) -> list[str]:
        """The messages the form came back with (field, inline and form-wide)."""
        assert response.status_code == 200, f"expected the form back, got {response.status_code}"
        form = response.context["adminform"].form
        messages = [str(m) for errors in form.errors.values() for m in errors]
        for inline in response.context["inline_admin_formsets"]:
            for inline_form in inline.formset.forms:
                messages += [str(m) for errors in inline_form.errors.values() for m in errors]
        return messages

    def __str__(self):
        return self.kind


TARGETS = [
    Target("poster", "poster"),
    Target("still", "image"),
    Target("portrait", "portrait"),
    Target("logo", "logo"),
    Target("lead", "lead image"),
]


def stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
