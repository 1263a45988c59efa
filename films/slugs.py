"""The site's one slug policy, and the history that keeps old URLs working.

Policy: a slug is the name transliterated to ASCII (anyascii: "Летят журавли" → "letyat-zhuravli",
"羅生門" → "luoshengmen", "🎬 Film" → "clapper-film"), lower-cased and hyphenated by Django's
``slugify``, cut at a word boundary to ``SLUG_MAX_LENGTH``, and made unique with "-2", "-3"…
A name that leaves nothing ("!!!", combining marks only) gets "<kind>-<8 hex digits of its hash>".
ASCII slugs survive every tool a link passes through (mail, chat, logs, sitemaps, CDNs) and,
unlike Unicode slugs, have one spelling each: "é" typed as one code point or as "e" + accent
would otherwise be two different URLs for the same page.

Every slugged model (films, people, genres, services, reviews, tags) is registered with
``register()``; one ``pre_save`` receiver gives a row its slug when it has none or an unusable
one, and records the old slug in ``SlugHistory`` when an editor changes it, so the old URL
answers with a 301 to the current one (``MovedPermanentlyMixin`` in the views).
"""

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from anyascii import anyascii
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import post_save, pre_save
from django.http import Http404, HttpResponsePermanentRedirect
from django.utils.text import slugify

from films.models import SlugHistory

SLUG_MAX_LENGTH = 80
# Django's <slug:> converter: what a URL pattern accepts and reverse() produces.
USABLE_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# Words a page's address uses after a list's own ("films/feed/"): never a row's slug.
RESERVED_SLUGS = frozenset({"feed"})


def slug_base(text: str, *, kind: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """The policy's slug for ``text``, before uniqueness; never empty, at most ``max_length``."""
    text = unicodedata.normalize("NFKC", text or "")
    slug = slugify(anyascii(text)).strip("-_")
    if len(slug) > max_length:
        cut = slug[: max_length + 1].rsplit("-", 1)[0]
        slug = (cut if len(cut) > max_length // 2 else slug[:max_length]).strip("-_")
    if not slug:
        digest = hashlib.blake2s(text.encode("utf-8", "surrogatepass"), digest_size=4)
        slug = f"{slugify(kind) or 'item'}-{digest.hexdigest()}"
    return slug


def is_usable(slug: str | None) -> bool:
    return bool(slug) and USABLE_SLUG.fullmatch(slug) is not None and slug not in RESERVED_SLUGS


class SlugAllocator:
    """Unique slugs for many new rows of ``model`` at once: one query for the slugs taken
    (current ones, and old ones kept for redirects)."""

    def __init__(self, model: type[models.Model], *, exclude_pk=None, prefix: str = ""):
        spec = _registry.get(model)
        self.kind = spec.kind if spec else model._meta.model_name
        field_length = model._meta.get_field("slug").max_length
        self.max_length = min(SLUG_MAX_LENGTH, field_length - 4)  # room for "-999"
        current = model._default_manager.exclude(pk=exclude_pk)
        old = SlugHistory.objects.filter(
            content_type=ContentType.objects.get_for_model(model, for_concrete_model=False)
        ).exclude(object_id=exclude_pk)
        if prefix:
            current, old = (
                current.filter(slug__startswith=prefix),
                old.filter(slug__startswith=prefix),
            )
        self.taken = set(current.values_list("slug", flat=True))
        self.taken |= set(old.values_list("slug", flat=True))
        self.taken |= RESERVED_SLUGS

    def take(self, text: str) -> str:
        base = slug_base(text, kind=self.kind, max_length=self.max_length)
        slug, n = base, 2
        while slug in self.taken:
            slug, n = f"{base}-{n}", n + 1
        self.taken.add(slug)
        return slug


def unique_slug(model: type[models.Model], text: str, *, exclude_pk=None) -> str:
    """The policy's slug for ``text`` that no other row of ``model`` has or had."""
    kind = _registry[model].kind if model in _registry else model._meta.model_name
    base = slug_base(text, kind=kind, max_length=SLUG_MAX_LENGTH)
    return SlugAllocator(model, exclude_pk=exclude_pk, prefix=base).take(text)


def moved_to(model: type[models.Model], slug: str, queryset=None) -> models.Model | None:
    """The row of ``model`` (within ``queryset``) that had ``slug`` before, if any."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    old = SlugHistory.objects.filter(content_type=content_type, slug=slug).first()
    if old is None:
        return None
    queryset = model._default_manager.all() if queryset is None else queryset
    return queryset.filter(pk=old.object_id).first()


# --- the registry and its receivers ----------------------------------------------------------


@dataclass(frozen=True)
class Slugged:
    kind: str
    source: Callable[[models.Model], str]


_registry: dict[type[models.Model], Slugged] = {}


def register(model: type[models.Model], *, kind: str, source: Callable[[models.Model], str]):
    """Give ``model`` the site's slug policy: ``source(instance)`` is the text a slug is made of."""
    _registry[model] = Slugged(kind=kind, source=source)
    uid = f"slug-policy-{model._meta.label}"
    pre_save.connect(_ensure_slug, sender=model, dispatch_uid=uid)
    post_save.connect(_record_old_slug, sender=model, dispatch_uid=uid)


def registered() -> Iterable[type[models.Model]]:
    return list(_registry)


def _ensure_slug(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata restores rows exactly as they were
        return
    fits = is_usable(instance.slug) and (
        len(instance.slug) <= sender._meta.get_field("slug").max_length
    )
    if instance._state.adding and instance.pk is None:
        if not fits or sender._default_manager.filter(slug=instance.slug).exists():
            instance.slug = unique_slug(sender, _registry[sender].source(instance))
        return
    old = sender._default_manager.filter(pk=instance.pk).values_list("slug", flat=True).first()
    if not fits:
        instance.slug = unique_slug(
            sender, _registry[sender].source(instance), exclude_pk=instance.pk
        )
    if old and old != instance.slug:
        instance._old_slug = old


def _record_old_slug(sender, instance, raw=False, **kwargs):
    old = instance.__dict__.pop("_old_slug", None)
    if raw or not old:
        return
    content_type = ContentType.objects.get_for_model(sender, for_concrete_model=False)
    # The current slug is live again: it no longer needs a history row of its own.
    SlugHistory.objects.filter(content_type=content_type, slug=instance.slug).delete()
    SlugHistory.objects.update_or_create(
        content_type=content_type, slug=old, defaults={"object_id": instance.pk}
    )


class SlugRedirectMixin:
    """A page asked for by a slug its row had before answers 301 with the current URL.

    Wraps ``get()``: whatever 404 the view raises for an unknown slug, the slug history is
    looked up only then, so a live page costs no extra query. ``redirect_queryset()`` limits
    the targets to what the page may show (a draft review's old URL stays a 404).
    """

    slug_model: type[models.Model] | None = None

    def redirect_queryset(self) -> models.QuerySet:
        return self.slug_model._default_manager.all()

    def moved_url(self, target: models.Model) -> str:
        return target.get_absolute_url()

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            target = moved_to(self.slug_model, self.kwargs["slug"], self.redirect_queryset())
            if target is None:
                raise
            url = self.moved_url(target)
            query = request.GET.urlencode()
            return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)
