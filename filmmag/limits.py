"""Requests over the site's size limits get a clear page (413 or 400), never a bare error.

Django caps form text (DATA_UPLOAD_MAX_MEMORY_SIZE) and the number of fields and files, but
not files: without a cap of its own a 10 GB upload would be streamed to a temporary file. This
middleware refuses a body over FILMMAG_MAX_REQUEST_BYTES from its Content-Length, before
reading it (Django reads no further than Content-Length), then parses a POST within Django's
limits here, where a refusal can be answered with the site's own page. (A view that wants its
own upload handlers would have to set them in a middleware placed before this one.)
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http.multipartparser import MultiPartParserError
from django.template.response import TemplateResponse

logger = logging.getLogger(__name__)


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = _content_length(request)
        limit = settings.FILMMAG_MAX_REQUEST_BYTES
        if length > limit:
            return _refuse(
                request,
                413,
                f"What you sent is {length / 1e6:.1f} MB; the site accepts at most "
                f"{limit / 1e6:g} MB at once, and an image may be at most "
                f"{settings.FILMMAG_MAX_IMAGE_BYTES / 1e6:g} MB. Go back, choose a smaller "
                "file and save again.",
            )
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 - parse now, so a refusal gets the page below
            except RequestDataTooBig:
                return _refuse(
                    request,
                    413,
                    "The text of this form is more than the "
                    f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1e6:g} MB the site accepts at "
                    "once. Go back and save it in smaller parts.",
                )
            except TooManyFilesSent:
                return _refuse(
                    request,
                    400,
                    f"This form sends more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files, "
                    "the most the site accepts at once. Go back and upload fewer at a time.",
                )
            except TooManyFieldsSent:
                return _refuse(
                    request,
                    400,
                    f"This form has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields, "
                    "the most the site accepts at once. Go back and save in smaller steps.",
                )
            except MultiPartParserError:
                return _refuse(
                    request,
                    400,
                    "What you sent could not be read: the upload was cut off or malformed. "
                    "Go back and try again.",
                )
        return self.get_response(request)


def _content_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # Django reads nothing of a body whose length it cannot read


def _refuse(request, status: int, message: str) -> TemplateResponse:
    logger.warning("Refused %s %s (%s): %s", request.method, request.path, status, message)
    heading = "Too large to accept" if status == 413 else "This request could not be accepted"
    response = TemplateResponse(
        request, "request_refused.html", {"heading": heading, "message": message}, status=status
    )
    return response.render()
