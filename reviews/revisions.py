"""A review's revisions (django-reversion): listing them, comparing one with the review as it is
now, section by section, and restoring one as a new draft.

Every save made in a revision block keeps a revision: the admin's change form and bulk actions,
the importer, reviews.workflow (its UPDATEs are recorded explicitly) and a restore. A revision
holds the review's fields and its keyword links, each naming its tag (see reviews/models.py).
Revisions are never changed or deleted here: a restore writes the old text as a new revision.
"""

import difflib
import json
import re
from dataclasses import dataclass, fields
from decimal import Decimal

import reversion
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from reversion.models import Version
from taggit.models import Tag, TaggedItem

from films.models import Film
from reviews.models import RATING_CHOICES, Review
from reviews.workflow import review_return_to_draft

# The sections of the comparison, in the order of the review's own form.
SECTIONS = [
    ("headline", "Headline"),
    ("standfirst", "Standfirst"),
    ("film", "Film"),
    ("rating", "Rating"),
    ("synopsis", "Synopsis"),
    ("critique", "Critique"),
    ("criticisms", "Criticisms"),
    ("conclusion", "Conclusion"),
    ("keywords", "Keywords"),
]
PROSE = {"standfirst", "synopsis", "critique", "criticisms", "conclusion"}
_RATING_LABELS = dict(RATING_CHOICES)
# Words, runs of white space, and single other characters (punctuation, symbols, emoji).
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")


class RestoreError(Exception):
    """The revision was not restored; nothing was written. ``str(err)`` is for editors."""


@dataclass(frozen=True)
class Snapshot:
    """What the history compares and a restore brings back: the review's sections."""

    headline: str
    standfirst: str
    film: int | None
    rating: Decimal | None
    synopsis: str
    critique: str
    criticisms: str
    conclusion: str
    keywords: tuple[str, ...]

    @classmethod
    def of_review(cls, review: Review) -> "Snapshot":
        keywords = (tag.name for tag in review.keywords.all())
        return cls._make(review.__dict__, keywords)

    @classmethod
    def of_version(cls, version: Version, keywords: list[str]) -> "Snapshot":
        # field_dict builds the fields from the stored JSON, without touching the database.
        return cls._make(version.field_dict, keywords)

    @classmethod
    def _make(cls, values, keywords) -> "Snapshot":
        # A field the review did not have when the revision was made counts as empty.
        data = {f.name: values.get(f.name) or "" for f in fields(cls) if f.name in PROSE}
        return cls(
            headline=values.get("headline") or "",
            film=values.get("film_id"),
            rating=values.get("rating"),
            keywords=tuple(sorted(set(keywords), key=str.casefold)),
            **data,
        )


@dataclass(frozen=True)
class SectionDiff:
    name: str
    label: str
    changed: bool
    html: SafeString  # built from escaped text only


@dataclass(frozen=True)
class RestoreResult:
    review: Review
    warnings: list[str]


def review_versions(review: Review) -> QuerySet[Version]:
    """The review's versions, newest first, each with its revision and who saved it."""
    return Version.objects.get_for_object(review).select_related("revision__user").order_by("-pk")


def version_number(version: Version) -> int:
    """1 for the review's first revision, 2 for the next…"""
    versions = Version.objects.get_for_object_reference(Review, version.object_id)
    return versions.filter(pk__lte=version.pk).count()


def version_keywords(version: Version) -> list[str]:
    """The review's keywords when ``version`` was saved, from the keyword links in its revision
    (each names its tag, see films.models), in one query."""
    review_type = ContentType.objects.get_for_model(Review)
    links = Version.objects.filter(
        revision_id=version.revision_id,
        content_type=ContentType.objects.get_for_model(TaggedItem),
    ).values_list("serialized_data", flat=True)
    names, tag_ids = [], []
    for data in links:
        link = json.loads(data)[0]["fields"]
        if (
            link["content_type"]
            not in (
                [review_type.app_label, review_type.model],
                review_type.pk,
            )
            or str(link["object_id"]) != version.object_id
        ):
            continue
        if isinstance(link["tag"], list):
            names.append(link["tag"][0])
        else:  # a tag stored by id rather than by name
            tag_ids.append(link["tag"])
    if tag_ids:
        names += Tag.objects.filter(pk__in=tag_ids).values_list("name", flat=True)
    return names


def review_diff(old: Snapshot, new: Snapshot, films: dict[int, Film]) -> list[SectionDiff]:
    """Each section of ``old`` against ``new``: <del> what only ``old`` has, <ins> what only
    ``new`` has. Words for the text sections, whole values for film and rating, names for
    keywords."""
    sections = []
    for name, label in SECTIONS:
        before, after = getattr(old, name), getattr(new, name)
        if name == "film":
            before, after = _film_label(before, films), _film_label(after, films)
        elif name == "rating":
            before, after = _rating_label(before), _rating_label(after)
        if name == "keywords":
            html = keywords_diff(before, after)
        elif name in ("film", "rating"):
            html = value_diff(before, after)
        else:
            html = words_diff(before, after)
        sections.append(SectionDiff(name, label, before != after, html))
    return sections


def words_diff(old: str, new: str) -> SafeString:
    """``new`` with the words it lacks from ``old`` in <del> and its own new words in <ins>."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    chunks: list[tuple[bool, str, str]] = []  # (changed, removed, added)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            chunks.append((False, removed, added))
        elif len(chunks) > 1 and not chunks[-1][0] and not chunks[-1][1].strip() and chunks[-2][0]:
            # One change across a mere space reads better than two: "<del>a b</del>".
            space, previous = chunks.pop()[1], chunks.pop()
            chunks.append((True, previous[1] + space + removed, previous[2] + space + added))
        else:
            chunks.append((True, removed, added))
    parts = []
    for changed, removed, added in chunks:
        if not changed:
            parts.append(escape(added))
            continue
        if removed:
            parts.append(format_html("<del>{}</del>", removed))
        if added:
            parts.append(format_html("<ins>{}</ins>", added))
    return format_html_join("", "{}", ((part,) for part in parts))


def value_diff(old: str, new: str) -> SafeString:
    if old == new:
        return escape(new)
    return format_html("<del>{}</del> <ins>{}</ins>", old, new)


def keywords_diff(old: tuple[str, ...], new: tuple[str, ...]) -> SafeString:
    if not old and not new:
        return escape("None")
    kept, before, after = set(old) & set(new), set(old), set(new)
    items = []
    for name in sorted(before | after, key=str.casefold):
        if name in kept:
            items.append(escape(name))
        elif name in before:
            items.append(format_html("<del>{}</del>", name))
        else:
            items.append(format_html("<ins>{}</ins>", name))
    return format_html_join(", ", "{}", ((item,) for item in items))


def review_restore(
    *, review: Review, version: Version, by: AbstractBaseUser, loaded_version: int | None
) -> RestoreResult:
    """Write ``version``'s sections over ``review`` as a new save, which keeps a new revision,
    and make it a draft through reviews.workflow; earlier revisions stay as they are.

    ``loaded_version`` is the review's version when the editor looked at the comparison: if the
    review was saved since, nothing is restored (RestoreError), as a change form would refuse.
    """
    number = version_number(version)
    old = Snapshot.of_version(version, version_keywords(version))
    with transaction.atomic(), reversion.create_revision():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if loaded_version is not None and review.version != loaded_version:
            raise RestoreError(
                "This review was saved by someone since you opened the comparison, so nothing "
                "was restored. Look at the comparison again before restoring."
            )
        if old == Snapshot.of_review(review):
            raise RestoreError(
                f"Nothing to restore: revision {number} is the same as the current review."
            )
        warnings = []
        if review.status != Review.Status.DRAFT:
            # Writes and bumps the version, which makes open change forms stale.
            review_return_to_draft(review=review, by=by)
        else:
            review.version += 1
        if old.film is not None and old.film != review.film_id:
            if Film.objects.filter(pk=old.film).exists():
                review.film_id = old.film
            else:
                warnings.append(
                    "The film of that revision has been deleted from the catalogue, so the "
                    "review keeps its current film."
                )
        review.headline = old.headline or review.headline
        review.rating = old.rating
        for name in PROSE:
            setattr(review, name, getattr(old, name))
        review.save()
        review.keywords.set(list(old.keywords))
        saved = date_format(localtime(version.revision.date_created), "DATETIME_FORMAT")
        reversion.set_user(by)
        reversion.set_comment(f"Restored revision {number} (saved {saved}) as a new draft.")
    return RestoreResult(review=review, warnings=warnings)


def _film_label(film_id: int | None, films: dict[int, Film]) -> str:
    if film_id is None:
        return "None"
    film = films.get(film_id)
    return str(film) if film else f"A deleted film (#{film_id})"


def _rating_label(rating: Decimal | None) -> str:
    if rating is None:
        return "Unrated"
    return str(_RATING_LABELS.get(rating, f"{rating:g} / 5"))
