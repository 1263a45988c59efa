"""Error pages: with the database unreachable, readers get a 503 and the site's own page."""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.views import defaults

logger = logging.getLogger(__name__)

# Long enough for a database restart or fail-over, short enough that readers come back soon.
RETRY_AFTER_SECONDS = 30


def database_unavailable(error: BaseException | None) -> bool:
    """Is this error, or one it was raised from, the database being unreachable?"""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """handler500. Django calls it for an exception raised anywhere in a view or a
    middleware (sessions and users load in middleware), while the exception is handled."""
    if database_unavailable(sys.exc_info()[1]):
        return service_unavailable()
    return defaults.server_error(request, template_name)


def service_unavailable() -> HttpResponse:
    """503.html is standalone: rendering it needs neither the database nor the request."""
    try:
        body = loader.render_to_string("503.html")
    except Exception:  # the page must come out even if its template is broken
        logger.exception("503.html could not be rendered")
        body = "<!doctype html><title>filmmag</title><h1>filmmag will be back in a minute</h1>"
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response
