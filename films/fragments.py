"""Pages made once per catalogue version and shared by every reader (films.cache)."""

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse

from films.cache import cached_fragment
from films.regions import cookie_region


class CachedPageMixin:
    """A public page whose head and content are rendered once per catalogue version and then
    shared: on a repeat, only the lookup of the object (which decides a 404 or an old address's
    redirect) runs, with two reads of the cache. The page cache (filmmag/page_cache.py) answers
    repeats of an exact address for readers without a session; this serves the rest (a reader
    with a session, an editor checking a page) from the same rendering.

    The template defines each part in ``cached_partials`` as a partial, and shows
    ``cached.<name>`` when it is given, else the partial itself (an uncached page, such as a
    preview). ``page_prefetches()`` are loaded for a rendering only, never for a repeat."""

    cached_partials = ("content",)
    fragment_name = "page"

    def page_prefetches(self) -> list:
        return []

    def page_context(self) -> dict:
        """What the cached parts show beyond the object (computed for a rendering only)."""
        return {}

    def cache_parts(self) -> dict | None:
        """What the page depends on besides the catalogue version (address_parts()); None: not
        to be cached."""
        return address_parts(self.request)

    def full_context(self, **kwargs):
        if obj := getattr(self, "object", None):
            prefetch_related_objects([obj], *self.page_prefetches())
        return super().get_context_data(**self.page_context(), **kwargs)

    def get_context_data(self, **kwargs):
        parts = self.cache_parts() if settings.SHARED_PAGES_ENABLED else None
        if parts is None:
            return self.full_context(**kwargs)

        def render():
            context = self.full_context(**kwargs)
            template = self.get_template_names()[0]
            meta = context["meta"]
            meta.picture = None  # resolved into meta.image; the picture holds the page's rows
            rendered = {
                name: render_to_string(f"{template}#{name}", context, request=self.request)
                for name in self.cached_partials
            }
            return {"meta": meta, "parts": rendered}

        page = cached_fragment(self.fragment_name, parts, render, request=self.request)
        context = {"view": self, "meta": page["meta"], "cached": page["parts"], **kwargs}
        if obj := getattr(self, "object", None):  # for the blocks outside the cached parts
            context["object"] = obj
            if name := self.get_context_object_name(obj):
                context[name] = obj
        return context


class SharedPageMixin:
    """A public page that is wholly a function of its address, the reader's region and the
    catalogue version (a film list, a search): its head and content are made once per version
    and shared, so a repeat runs no query and renders only the site's frame around them.

    Unlike CachedPageMixin there is no lookup to repeat: an unknown genre or an old slug raises
    or redirects while the page is being made, and such an answer is never kept (a deleted or
    renamed row changes the version anyway). ``shared_template`` defines the partials in
    ``cached_partials``; the response's template shows ``cached.<name>``."""

    cached_partials = ("head", "content")
    fragment_name = "shared-page"
    shared_template = ""

    def get(self, request, *args, **kwargs):
        made = {}

        def render():
            response = super(SharedPageMixin, self).get(request, *args, **kwargs)
            if not isinstance(response, TemplateResponse):
                raise _Answered(response)  # e.g. a redirect: answered, never kept
            made["context"] = context = response.context_data
            context["meta"].picture = None  # resolved into meta.image
            return {
                "meta": context["meta"],
                "parts": {
                    name: render_to_string(f"{self.shared_template}#{name}", context, request)
                    for name in self.cached_partials
                },
            }

        try:
            page = made_once(self.fragment_name, address_parts(request), render, request)
        except _Answered as answered:
            return answered.response
        # A page just made keeps its whole context (tests and debugging read it).
        context = made.get("context") or {"view": self, "meta": page["meta"]}
        return self.response_class(
            request, self.template_name, {**context, "cached": page["parts"]}
        )


class _Answered(Exception):
    """A response that is not a page to share (a redirect, a 404): given as it is."""

    def __init__(self, response):
        self.response = response


def address_parts(request) -> dict:
    """What a shared page depends on besides the catalogue version: its address (with the host:
    the head's links are absolute) and the reader's region."""
    return {"url": request.build_absolute_uri(), "region": cookie_region(request)}


def made_once(name, parts, render, request=None):
    """``render()``'s value, made once per catalogue version and shared (cached_fragment()),
    or made each time with shared pages off (``SHARED_PAGES_ENABLED``)."""
    if not settings.SHARED_PAGES_ENABLED:
        return render()
    return cached_fragment(name, parts, render, request=request)


def shared_response(name, request, make) -> HttpResponse:
    """``make()``'s response (a feed, a sitemap section: wholly a function of the address, the
    reader's region and the catalogue version), made once per version and shared. Anything but
    a 200 (a 404, an old slug's redirect) is answered as it is and never kept."""

    def render():
        response = make()
        if response.status_code != 200 or response.streaming:
            raise _Answered(response)
        return {"content": response.content, "headers": dict(response.items())}

    try:
        made = made_once(name, address_parts(request), render)
    except _Answered as answered:
        return answered.response
    return HttpResponse(made["content"], headers=made["headers"])


class SharedFeedMixin:
    """A syndication feed made once per catalogue version and shared (shared_response()):
    feed readers poll, and each poll would otherwise run the feed's query and write its XML."""

    def __call__(self, request, *args, **kwargs):
        parent = super()
        return shared_response("feed", request, lambda: parent.__call__(request, *args, **kwargs))
