"""The admin's "Import review document" page: upload or paste, preview, confirm.

The document itself travels between the steps (base64 in a hidden field) and is parsed again
on confirm, so what is imported never depends on anything the browser could have edited
except the document and the editor's choice of suggested credits.
"""

import base64
import binascii

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from films.models import Availability
from reviews.models import Review
from reviews.parser import (
    MAX_DOCUMENT_BYTES,
    DocumentError,
    ParsedDocument,
    parse_document,
    read_document,
)
from reviews.services import ReviewImportError, region_clean, review_import

TEMPLATE = "admin/reviews/review/import_document.html"
# An import creates catalogue rows and updates existing reviews, published ones too. The
# review change list's "Import review document" button checks the same list.
IMPORT_PERMISSIONS = (
    "reviews.add_review",
    "reviews.change_review",
    "films.add_film",
    "films.change_film",
    "films.add_person",
    "films.add_genre",
    "films.add_streamingservice",
    "films.add_credit",
    "films.add_availability",
    "films.change_availability",
)
LIMIT_TEXT = f"{MAX_DOCUMENT_BYTES / 1_000_000:g} MB"


class DocumentForm(forms.Form):
    """Step 1: the review document, as a file or as pasted text."""

    document = forms.FileField(
        label="Review document",
        required=False,
        help_text=f"A plain-text (.txt) file in the house format, UTF-8, at most {LIMIT_TEXT}.",
    )
    text = forms.CharField(
        label="Or paste the text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "cols": 90}),
        help_text="Everything from the title line to the keywords line.",
    )

    def clean(self):
        cleaned_data = super().clean()
        upload, text = cleaned_data.get("document"), cleaned_data.get("text", "")
        if self.errors:
            return cleaned_data
        if upload and text.strip():
            raise ValidationError("Upload a file or paste the text, not both.", code="both")
        if upload:
            # Django counted the size while storing the upload (in memory up to
            # FILE_UPLOAD_MAX_MEMORY_SIZE, beyond that in a temporary file), so refuse unread.
            if upload.size > MAX_DOCUMENT_BYTES:
                raise ValidationError(
                    f"“{upload.name}” is {upload.size:,} bytes; the limit is {LIMIT_TEXT}.",
                    code="too_big",
                )
            try:
                self.raw = read_document(upload, filename=upload.name)
            except DocumentError as exc:
                raise ValidationError(str(exc), code="too_big") from None
            self.filename = upload.name
        elif text.strip():
            self.raw, self.filename = text.encode("utf-8"), ""
        else:
            raise ValidationError(
                "Choose a review document to upload, or paste its text.", code="empty"
            )
        self.parsed = _parse(self.raw, self.filename)
        return cleaned_data


class ConfirmForm(forms.Form):
    """Steps 2–3: the document again (hidden) and the suggested credits the editor accepts."""

    filename = forms.CharField(widget=forms.HiddenInput, required=False)
    payload = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": "The document was lost between the steps; upload it again."},
    )
    credits = forms.TypedMultipleChoiceField(
        label="Suggested credits to add",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, document: ParsedDocument | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parsed = document
        if document is not None:
            self._offer_credits(document)

    @classmethod
    def for_document(cls, raw: bytes, filename: str, document: ParsedDocument) -> "ConfirmForm":
        payload = base64.b64encode(raw).decode("ascii")
        return cls(initial={"filename": filename, "payload": payload}, document=document)

    def clean_payload(self):
        payload = self.cleaned_data["payload"]
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                "The document was lost between the steps; upload it again.",
                code="payload",
            ) from None
        self.parsed = _parse(raw, self.cleaned_data.get("filename", ""))
        self._offer_credits(self.parsed)
        return payload

    def accepted_credits(self):
        return [self.parsed.suggested_credits[i] for i in self.cleaned_data["credits"]]

    def credit_rows(self):
        """(checkbox, suggested credit) pairs for the preview table."""
        return list(zip(self["credits"], self.parsed.suggested_credits, strict=True))

    def _offer_credits(self, document: ParsedDocument) -> None:
        self.fields["credits"].choices = [
            (index, credit.person) for index, credit in enumerate(document.suggested_credits)
        ]


def import_document_view(request):
    """Upload or paste a review document, check the preview, then import it as a draft."""
    if not request.user.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied
    step = request.POST.get("step") if request.method == "POST" else None

    if step == "confirm":
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            if form.parsed is None:  # the document itself failed: start again
                return _render(
                    request, upload_form=DocumentForm(), restart_errors=form.errors["payload"]
                )
            return _preview(request, form)
        try:
            report = review_import(
                document=form.parsed,
                author=request.user,
                accepted_credits=form.accepted_credits(),
            )
        except ReviewImportError as exc:
            form.add_error(None, str(exc))
            return _preview(request, form)
        message = f"Imported {report.summary()}"
        if report.review_created:
            message += " The review is a draft: check it, then publish it."
        messages.success(request, message)
        for warning in report.warnings:
            messages.warning(request, warning)
        return redirect(reverse("admin:reviews_review_change", args=[report.review.pk]))

    if step == "preview":
        upload = DocumentForm(request.POST, request.FILES)
        if not upload.is_valid():
            return _render(request, upload_form=upload)
        form = ConfirmForm.for_document(upload.raw, upload.filename, upload.parsed)
        return _preview(request, form)

    return _render(request, upload_form=DocumentForm())


def _preview(request, form: ConfirmForm) -> TemplateResponse:
    document = form.parsed
    try:
        # Run the import and roll it back: the preview is exactly what confirming will do.
        plan = review_import(document=document, author=request.user, dry_run=True)
    except ReviewImportError as exc:
        plan = None
        form.add_error(None, str(exc))
    offer_labels = dict(Availability.OfferType.choices)
    return _render(
        request,
        confirm_form=form,
        document=document,
        plan=plan,
        region=region_clean(None),
        offers=[(offer.service, offer_labels.get(offer.offer_type)) for offer in document.offers],
        sections=[
            ("Synopsis", document.synopsis),
            ("Review", document.critique),
            ("Criticisms", document.criticisms),
            ("Conclusion", document.conclusion),
        ],
    )


def _render(request, **context) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Import review document",
        "opts": Review._meta,
        "has_view_permission": request.user.has_perm("reviews.view_review"),
        "max_size": LIMIT_TEXT,
        **context,
    }
    return TemplateResponse(request, TEMPLATE, context)


def _parse(raw: bytes, filename: str) -> ParsedDocument:
    try:
        return parse_document(raw, filename=filename)
    except DocumentError as exc:
        raise ValidationError(str(exc), code="document") from None
