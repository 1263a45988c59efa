"""Serving uploaded pictures from MEDIA_ROOT when no web server or object store does it.

With debug on, or DJANGO_SERVE_MEDIA=true (a single-box install, `make load`, Lighthouse runs),
Django serves /media/. Every stored name is made from the file's content (films/images.py,
films/pictures.py), so a file never changes under its name: browsers and CDNs may keep it for a
year without asking again. In a larger production, nginx or the object store serves it instead
(README: Pictures).
"""

from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404
from django.views.static import serve

ONE_YEAR = 365 * 24 * 3600


def serve_media(request, path, document_root=None):
    try:
        response = serve(request, path, document_root=document_root)
    except SuspiciousFileOperation:
        raise Http404("No such file.") from None  # a path that leaves the media folder
    if response.status_code == 200:
        response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response
