"""Keeping django-taggit's tags tidy: likely duplicates, merging, and merged names that stay
merged.

Film tags and review keywords share taggit's ``Tag``. A merge re-points every tagged item to
the tag that stays, in one transaction, so no film or review loses a tag; the merged tags'
slugs become old addresses of the one that stays (``SlugHistory``), so their URLs answer 301.
"""

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from taggit.models import Tag, TaggedItem

from films.cache import catalogue_changed
from films.models import SlugHistory
from films.slugs import slug_base, unique_slug

logger = logging.getLogger(__name__)

TAG_NAME_MAX_LENGTH = Tag._meta.get_field("name").max_length


class TagMergeError(ValueError):
    """The merge cannot be done as asked; nothing was written. ``str(err)`` is for editors."""


@dataclass(frozen=True)
class TagMerge:
    target: Tag
    merged: list[Tag]  # the tags merged away, now deleted (their pk and name kept)
    moved: int  # tagged items re-pointed to the target
    dropped: int  # tagged items deleted because their film or review already had the target


def tag_key(name: str) -> str:
    """What likely duplicates share: case, accents, punctuation and spaces ignored.

    "Céline Sciamma", "celine sciamma" and "Celine-Sciamma!" all give "celinesciamma".
    Symbols are kept ("C++" is not "C"); a name of punctuation only keys as itself.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    key = "".join(ch for ch in decomposed if unicodedata.category(ch)[0] in "LNS")
    return unicodedata.normalize("NFC", key) or name.casefold()


def tag_duplicate_groups() -> list[list[Tag]]:
    """Tags whose names share a ``tag_key()``, in groups of two or more, sorted by name.

    One query whatever the number of tags: the keys are computed in Python, as no database
    strips accents the same way.
    """
    groups: dict[str, list[Tag]] = defaultdict(list)
    for tag in Tag.objects.only("pk", "name", "slug"):
        groups[tag_key(tag.name)].append(tag)
    # Sorted here, the same way on every database (collations differ).
    found = [
        sorted(group, key=lambda tag: (tag.name.casefold(), tag.pk))
        for group in groups.values()
        if len(group) > 1
    ]
    return sorted(found, key=lambda group: (group[0].name.casefold(), group[0].pk))


def tags_named(name: str) -> list[Tag]:
    """Tags called ``name`` in any case. Not just ``name__iexact``: SQLite compares only ASCII
    letters case-insensitively, so the candidates are also found by slug, which the policy
    makes from the name in lower case, and compared in Python."""
    base = slug_base(name, kind="keyword")
    candidates = Tag.objects.filter(
        Q(name__iexact=name) | Q(slug=base) | Q(slug__regex=rf"^{re.escape(base)}-[0-9]+$")
    )
    return [tag for tag in candidates if tag.name.casefold() == name.casefold()]


def tag_names_resolve(*, names: Sequence[str]) -> list[str]:
    """Keyword names as typed, with the name of a tag that was merged (or renamed) away
    replaced by the name of the tag it became, duplicates dropped.

    A form opened before a merge, a restored browser backup or an old review document that
    still says "celine sciamma" after an editor merged it into "Céline Sciamma" would
    otherwise bring the merged tag back. A name no tag has (in any case) becomes the tag that
    took in other tags or addresses (it has old slugs) and either shares the name's
    ``tag_key()`` or has the name's slug among its old ones. Other names are left alone:
    before any merge, typing behaves as django-taggit does. Three queries at most.
    """
    names = list(names)
    if not names:
        return names
    live = Tag.objects.filter(_any_name_iexact(names)).values_list("name", flat=True)
    live = {name.casefold() for name in live}
    missing = [name for name in names if name.casefold() not in live]
    moved = {}
    if missing:
        history = SlugHistory.objects.filter(content_type=_tag_content_type())
        bases = {name: slug_base(name, kind="keyword") for name in missing}
        by_slug = dict(
            history.filter(slug__in=set(bases.values())).values_list("slug", "object_id")
        )
        took_in = Tag.objects.filter(Exists(history.filter(object_id=OuterRef("pk"))))
        took_in = dict(took_in.values_list("pk", "name"))
        by_key = {tag_key(name): name for pk, name in sorted(took_in.items(), reverse=True)}
        for name in missing:
            target = by_key.get(tag_key(name)) or took_in.get(by_slug.get(bases[name]))
            if target:
                moved[name] = target
    resolved, seen = [], set()
    for name in names:
        name = moved.get(name, name)
        if name.casefold() not in seen:
            seen.add(name.casefold())
            resolved.append(name)
    return resolved


@transaction.atomic
def tags_merge(
    *, tags: Iterable[Tag], into: Tag | str, by: AbstractBaseUser | None = None
) -> TagMerge:
    """Merge ``tags`` into one: ``into``, a tag, or a name.

    Given a name, the tag that stays is the one already called so (in any case), or else the
    most used of ``tags``, renamed: its slug follows the new name. Every film and review that
    carried any of the tags carries the one that stays, once. The others are deleted; their
    slugs, and the old slugs they had, redirect to the one that stays.
    """
    ids = {tag.pk for tag in tags}
    name = None
    if isinstance(into, str):
        name = " ".join(into.split())
        if not name:
            raise TagMergeError("Give the name of the tag to merge into.")
        if len(name) > TAG_NAME_MAX_LENGTH:
            raise TagMergeError(
                f"A tag name can be at most {TAG_NAME_MAX_LENGTH} characters "
                f"(this one has {len(name)})."
            )
        into = _named(name, prefer=ids) or _most_used(ids)
        if into is None:
            raise TagMergeError("Choose the tags to merge.")
    locked = {
        tag.pk: tag
        for tag in Tag.objects.select_for_update().filter(pk__in=ids | {into.pk}).order_by("pk")
    }
    target = locked.get(into.pk)
    if target is None:
        raise TagMergeError(f"The tag “{into.name}” no longer exists.")
    sources = [tag for pk, tag in locked.items() if pk != target.pk]
    if not sources and (name is None or name == target.name):
        raise TagMergeError("Choose at least two tags to merge.")
    source_ids = [tag.pk for tag in sources]

    items = TaggedItem.objects.filter(tag_id__in=source_ids)
    same_object = {"content_type": OuterRef("content_type"), "object_id": OuterRef("object_id")}
    already = TaggedItem.objects.filter(tag=target, **same_object)
    dropped, _ = items.filter(Exists(already)).delete()
    # Two merged tags on one film: keep one of its items (the oldest), re-pointed below.
    twin = TaggedItem.objects.filter(tag_id__in=source_ids, pk__lt=OuterRef("pk"), **same_object)
    more, _ = items.filter(Exists(twin)).delete()
    dropped += more
    moved = items.update(tag=target)

    content_type = _tag_content_type()
    SlugHistory.objects.filter(content_type=content_type, object_id__in=source_ids).update(
        object_id=target.pk
    )
    SlugHistory.objects.bulk_create(
        [
            SlugHistory(content_type=content_type, object_id=target.pk, slug=tag.slug)
            for tag in sources
        ],
        update_conflicts=True,
        unique_fields=["content_type", "slug"],
        update_fields=["object_id"],
    )
    Tag.objects.filter(pk__in=source_ids).delete()

    if name is not None and name != target.name:
        target.name = name
        # Its old slug is kept by the slug policy's receiver, and redirects too.
        target.slug = unique_slug(Tag, name, exclude_pk=target.pk)
        target.save()

    catalogue_changed()  # tag pages and the films' and reviews' keywords change
    logger.info(
        "Merged tags %s into %r (pk %s): %d items moved, %d already had it; by %s",
        [tag.name for tag in sources],
        target.name,
        target.pk,
        moved,
        dropped,
        by.get_username() if by else "a script",
    )
    return TagMerge(target=target, merged=sources, moved=moved, dropped=dropped)


def _tag_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Tag, for_concrete_model=False)


def _any_name_iexact(names: Iterable[str]) -> Q:
    query = Q(pk__in=[])
    for name in names:
        query |= Q(name__iexact=name)
    return query


def _named(name: str, *, prefer: set[int]) -> Tag | None:
    """The tag called ``name``: exactly so first, then in another case; one of ``prefer`` first."""
    same = tags_named(name)
    same.sort(key=lambda tag: (tag.name != name, tag.pk not in prefer, tag.pk))
    return same[0] if same else None


def _most_used(ids: set[int]) -> Tag | None:
    return (
        Tag.objects.filter(pk__in=ids)
        .annotate(uses=Count("taggit_taggeditem_items"))
        .order_by("-uses", "pk")
        .first()
    )
