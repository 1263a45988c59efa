"""Writes that span several models: importing a writer's review document.

``review_import()`` turns a parsed house-format document into a Film (with genres, directors
and availability) and a draft Review, in one transaction, writing only what differs so that
importing the same document twice changes nothing.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import reversion
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries

from films.cache import catalogue_changes_ignored
from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from films.slugs import slug_base
from films.tags import tag_names_resolve
from reviews.models import Review
from reviews.parser import ParsedDocument, SuggestedCredit, parse_document
from reviews.workflow import review_create

REVIEW_SECTIONS = ("synopsis", "critique", "criticisms", "conclusion")

_PUNCTUATION_VARIANTS = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u02bc": "'",  # ʼ (modifier letter apostrophe)
        "\u2032": "'",  # ′
        "`": "'",
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
    }
)


class ReviewImportError(Exception):
    """The import could not be applied; nothing was written. ``str(err)`` is for editors."""


def name_clean(name: str) -> str:
    """A name as stored: NFC-normalised, whitespace collapsed, apostrophes as written."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def name_key(name: str) -> str:
    """What two names must share to be the same: case, Unicode form and quote style ignored."""
    return name_clean(name).translate(_PUNCTUATION_VARIANTS).casefold()


def region_clean(region: str | None) -> str:
    """``region`` (or the site's default region) as an upper-case ISO country code."""
    code = (region or settings.FILMMAG_DEFAULT_REGION).strip().upper()
    if code not in countries:
        raise ReviewImportError(f"“{code}” is not a country code (use e.g. US or GB).")
    return code


@dataclass
class ImportReport:
    film: Film
    review: Review
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created_counts: Counter[str] = field(default_factory=Counter)
    film_created: bool = False
    review_created: bool = False
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        """One line for a message: “Headline”: created 1 film, 3 genres, …; updated 1 item."""
        if not self.changed:
            return f"“{self.review.headline}”: nothing to change, already up to date."
        parts = []
        if self.created:
            counts = ", ".join(_count(n, kind) for kind, n in self.created_counts.items())
            parts.append(f"{'would create' if self.dry_run else 'created'} {counts}")
        if self.updated:
            items = _count(len(self.updated), "item")
            parts.append(f"{'would update' if self.dry_run else 'updated'} {items}")
        return f"“{self.review.headline}”: {'; '.join(parts)}."


def _count(n: int, noun: str) -> str:
    plural = "people" if noun == "person" else f"{noun}s"
    return f"{n} {noun if n == 1 else plural}"


def review_import(
    *,
    document: ParsedDocument,
    author: AbstractBaseUser | None = None,
    accepted_credits: Sequence[SuggestedCredit] = (),
    region: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Create or update the document's film and its draft review; all or nothing.

    Only ``accepted_credits`` are applied from the document's suggested credits. With
    ``dry_run`` everything is worked out and then rolled back, so the report is an exact preview;
    it leaves the film list's cached counts alone, as nothing changes.
    Raises ReviewImportError (nothing written) when the document cannot be applied.
    """
    region = region_clean(region)
    _check_lengths(document, accepted_credits)
    try:
        with catalogue_changes_ignored() if dry_run else nullcontext(), transaction.atomic():
            report = _Importer(document=document, region=region).run(
                author=author, accepted_credits=accepted_credits
            )
            report.dry_run = dry_run
            if dry_run:
                # Here, not within the revision blocks: each is a savepoint of its own.
                transaction.set_rollback(True)
    except IntegrityError as exc:
        raise ReviewImportError(_integrity_message(exc)) from exc
    except DatabaseError as exc:
        raise ReviewImportError(
            f"The database refused the import, so nothing was saved. (Database said: {exc})"
        ) from exc
    return report


def _integrity_message(exc: IntegrityError) -> str:
    """What an editor should make of ``exc``: a race to retry, or data to correct."""
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)  # PostgreSQL (psycopg)
    text = str(exc)
    if sqlstate == "23505" or (
        sqlstate is None and ("UNIQUE constraint failed" in text or "duplicate key" in text)
    ):
        # e.g. another editor importing the same film at the same moment took the slug.
        return (
            "The import clashed with another change saved at the same time, so nothing was "
            f"saved. Please try again. (Database said: {text})"
        )
    name = getattr(getattr(cause, "diag", None), "constraint_name", None)
    if name is None and (match := re.search(r"CHECK constraint failed: (\w+)", text)):
        name = match[1]  # SQLite
    rule = _rule(name) if name else f"{text.strip().rstrip('.')}."
    return (
        f"The document's data broke a rule of the catalogue, so nothing was saved: {rule} "
        f"Correct the document and import it again. (Database said: {text})"
    )


def _rule(constraint_name: str) -> str:
    """The message a model gives for its constraint ``constraint_name``."""
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == constraint_name:
                return constraint.get_violation_error_message()
    return f"the rule “{constraint_name}”."


def review_import_file(
    *,
    data: bytes,
    filename: str = "",
    author: AbstractBaseUser | None = None,
    accept_all_credits: bool = False,
    region: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Parse ``data`` and import it. Raises DocumentError or ReviewImportError."""
    document = parse_document(data, filename=filename)
    return review_import(
        document=document,
        author=author,
        accepted_credits=document.suggested_credits if accept_all_credits else (),
        region=region,
        dry_run=dry_run,
    )


def _check_lengths(document: ParsedDocument, credits: Iterable[SuggestedCredit]) -> None:
    """Turn what the database would reject as too long into messages an editor can act on."""
    limits = [
        ("title", document.title, Film._meta.get_field("title").max_length),
        ("headline", document.headline, Review._meta.get_field("headline").max_length),
    ]
    limits += [("genre", g, Genre._meta.get_field("name").max_length) for g in document.genres]
    limits += [
        ("service", offer.service, StreamingService._meta.get_field("name").max_length)
        for offer in document.offers
    ]
    names = [*document.directors, *(credit.person for credit in credits)]
    limits += [("name", name, Person._meta.get_field("name").max_length) for name in names]
    limits += [
        ("character", c.character, Credit._meta.get_field("character").max_length) for c in credits
    ]
    for label, value, limit in limits:
        if len(name_clean(value)) > limit:
            raise ReviewImportError(
                f"The {label} “{value[:60]}…” is longer than {limit} characters; shorten it."
            )
    if not name_clean(document.title):
        raise ReviewImportError("The document has no film title.")


class _Importer:
    """One import: looks rows up by normalised name, writes only what differs."""

    def __init__(self, *, document: ParsedDocument, region: str):
        self.document = document
        self.region = region
        self.created: list[str] = []
        self.updated: list[str] = []
        self.unchanged: list[str] = []
        self.warnings: list[str] = list(document.warnings)
        self.created_counts: Counter[str] = Counter()
        self._people: dict[str, Person] | None = None
        # Whether anything the film's change form shows (fields, genres, credits, offers) was
        # written: an editor with that form open must then reload before saving.
        self.film_changed = False

    def create(self, kind: str, label: str) -> None:
        self.created.append(f"{kind} {label}")
        self.created_counts[kind] += 1

    def run(
        self, *, author: AbstractBaseUser | None, accepted_credits: Sequence[SuggestedCredit]
    ) -> ImportReport:
        # Two revisions, the film's and the review's, so that reverting the film (its admin
        # history) never touches the review, whose state only reviews.workflow changes.
        with _revision(author):
            film, film_created = self.film()
            self.genres(film, film_created)
            self.directors(film)
            self.availability(film)
            for credit in accepted_credits:
                self.credit(film, credit)
            if film_created or self.film_changed:
                # Explicitly: new credits and offers alone do not save the film.
                reversion.add_to_revision(film)
        with _revision(author):
            review, review_created = self.review(film, author)
        if self.film_changed and not film_created:
            _version_bump(film)
        return ImportReport(
            film=film,
            review=review,
            film_created=film_created,
            review_created=review_created,
            created=self.created,
            created_counts=self.created_counts,
            updated=self.updated,
            unchanged=self.unchanged,
            warnings=self.warnings,
        )

    # Film -------------------------------------------------------------------------------------

    def film(self) -> tuple[Film, bool]:
        doc = self.document
        title = name_clean(doc.title)
        # The release date decides the year (as Film.save() does); the parser warns if the
        # title line disagrees, and either year finds the film.
        year = doc.release_date.year if doc.release_date else doc.year
        film = film_match(title=title, years={doc.year, year} - {None})
        if film is not None:
            film = _locked(film)
        else:
            if year is None:
                raise ReviewImportError(
                    f"“{title}” is not in the catalogue yet and the document gives no year: "
                    "add the release date or the year in the title line."
                )
            film = Film.objects.create(title=title, year=year, release_date=doc.release_date)
            self.create("film", f"{film}")
            return film, True
        if doc.release_date and film.release_date != doc.release_date:
            old = film.release_date or "none"
            film.release_date = doc.release_date
            film.save(update_fields=["release_date", "year"])  # save() sets year from the date
            self.film_changed = True
            self.updated.append(f"film {film}: release date {old} → {doc.release_date}")
        else:
            self.unchanged.append(f"film {film}")
        return film, False

    def genres(self, film: Film, film_created: bool) -> None:
        existing = {name_key(g.name): g for g in Genre.objects.all()}
        linked = set() if film_created else set(film.genres.values_list("pk", flat=True))
        to_link = []
        for name in dict.fromkeys(name_clean(g) for g in self.document.genres if g.strip()):
            genre = existing.get(name_key(name))
            if genre is None:
                genre = Genre.objects.create(name=name)
                existing[name_key(name)] = genre
                self.create("genre", f"{genre}")
            if genre.pk not in linked:
                to_link.append(genre)
                linked.add(genre.pk)
        if to_link:
            film.genres.add(*to_link)
            self.film_changed = True
            if not film_created:
                names = ", ".join(g.name for g in to_link)
                self.updated.append(f"film {film}: genres added: {names}")
        elif self.document.genres:
            self.unchanged.append(f"genres of {film}")

    # People and credits -----------------------------------------------------------------------

    def person(self, name: str) -> Person:
        if self._people is None:
            # Matching must ignore case, Unicode form and apostrophe style on every backend
            # (SQLite's LIKE folds ASCII only), so compare keys in Python: one narrow query.
            # The oldest row wins should the catalogue already hold two spellings.
            people = Person.objects.only("pk", "name", "slug").order_by("-pk")
            self._people = {name_key(p.name): p for p in people}
        key = name_key(name)
        person = self._people.get(key)
        if person is None:
            person = Person.objects.create(name=name_clean(name))
            self._people[key] = person
            self.create("person", f"{person}")
        return person

    def directors(self, film: Film) -> None:
        existing = {c.person_id: c for c in film.credits.filter(role=Credit.Role.DIRECTOR)}
        for order, name in enumerate(dict.fromkeys(n for n in self.document.directors if n)):
            person = self.person(name)
            if person.pk in existing:
                self.unchanged.append(f"director credit {person}")
                continue
            credit = Credit.objects.create(
                film=film, person=person, role=Credit.Role.DIRECTOR, order=order
            )
            existing[person.pk] = credit
            self.film_changed = True
            self.create("director credit", f"{person}")

    def credit(self, film: Film, suggestion: SuggestedCredit) -> None:
        if suggestion.role not in Credit.Role.values:
            self.warnings.append(
                f"Suggested credit {suggestion.person} as “{suggestion.role}” skipped: "
                "not a credit role the catalogue knows."
            )
            return
        person = self.person(suggestion.person)
        role = suggestion.role
        character = name_clean(suggestion.character) if role == Credit.Role.ACTOR else ""
        kind = f"{Credit.Role(role).label.lower()} credit"
        label = f"{person} as {character}" if character else str(person)
        same = list(film.credits.filter(person=person, role=role))
        for credit in same:
            if name_key(credit.character) == name_key(character):
                self.unchanged.append(f"{kind} {label}")
                return
        for credit in same:
            if character and not credit.character:
                credit.character = character
                credit.save(update_fields=["character"])
                self.film_changed = True
                self.updated.append(f"{kind} {label} (character added)")
                return
        last = film.credits.filter(role=role).aggregate(last=models.Max("order"))["last"]
        Credit.objects.create(
            film=film,
            person=person,
            role=role,
            character=character,
            order=0 if last is None else last + 1,
        )
        self.film_changed = True
        self.create(kind, label)

    # Where to watch ---------------------------------------------------------------------------

    def availability(self, film: Film) -> None:
        """The document's offers, in the import's region: a listed offer that is open counts
        as checked today; one that is not is opened (a new row if it had left: its history
        stays). When the document says the film is not currently streaming, its list is taken
        as complete for the region, and the film's other open offers there are closed."""
        if not self.document.offers and not self.document.not_streaming:
            return
        services = list(StreamingService.objects.all())
        by_key = {name_key(s.name): s for s in services}
        by_slug = {s.slug: s for s in services}
        today = timezone.localdate()
        current = {
            (offer.service_id, offer.offer_type): offer
            for offer in film.availabilities.current().filter(region=self.region)
        }
        listed = set()
        for offer in dict.fromkeys(self.document.offers):
            name = name_clean(offer.service)
            service = by_key.get(name_key(name)) or by_slug.get(slug_base(name, kind="service"))
            if service is None:
                service = StreamingService.objects.create(name=name)
                by_key[name_key(name)] = by_slug[service.slug] = service
                self.create("streaming service", f"{service}")
            label = f"{service} – {offer.offer_type} ({self.region})"
            key = (service.pk, offer.offer_type)
            listed.add(key)
            existing = current.get(key)
            if existing is not None:
                if existing.last_checked != today:  # a check, not a change to report
                    existing.last_checked = today
                    existing.save(update_fields=["last_checked"])
                self.unchanged.append(f"offer {label}")
                continue
            came_back = film.availabilities.filter(
                service=service, offer_type=offer.offer_type, region=self.region
            ).exists()
            current[key] = Availability.objects.create(
                film=film,
                service=service,
                offer_type=offer.offer_type,
                region=self.region,
                first_seen=today,
                last_checked=today,
            )
            self.film_changed = True
            if came_back:
                self.created_counts["offer"] += 1
                self.created.append(f"offer {label} (back after leaving)")
            else:
                self.create("offer", label)
        if self.document.not_streaming:
            for key, offer in current.items():
                if key in listed:
                    continue
                offer.close()
                self.film_changed = True
                self.updated.append(
                    f"offer {offer.service} – {offer.offer_type} ({self.region}) closed: the "
                    "document says the film is not currently streaming"
                )

    # The review -------------------------------------------------------------------------------

    def review(self, film: Film, author: AbstractBaseUser | None) -> tuple[Review, bool]:
        doc = self.document
        headline = name_clean(doc.headline)
        review = review_match(film=film, headline=headline)
        sections = {name: getattr(doc, name) for name in REVIEW_SECTIONS}
        if review is None:
            draft = Review(film=film, headline=headline, author=author, **sections)
            review = review_create(review=draft, by=author)
            self.create("review", f"“{review}” (draft)")
            if doc.keywords:
                review.keywords.set(tag_names_resolve(names=doc.keywords))
            return review, True

        review = _locked(review)
        review.film = film
        changed = [name for name, text in sections.items() if getattr(review, name) != text]
        if review.headline != headline:
            changed.insert(0, "headline")
        if changed:
            review.headline = headline
            for name in REVIEW_SECTIONS:
                setattr(review, name, sections[name])
            review.save(update_fields=changed)
        current = {name_key(t) for t in review.keywords.names()}
        keywords = tag_names_resolve(names=doc.keywords)  # a merged keyword stays merged
        if current != {name_key(k) for k in keywords}:
            review.keywords.set(keywords)
            changed.append("keywords")
        if not changed:
            self.unchanged.append(f"review “{review}”")
            return review, False
        _version_bump(review)  # an editor with the old text open must not save over this
        self.updated.append(f"review “{review}”: {', '.join(changed)}")
        if review.status == Review.Status.PUBLISHED:
            self.warnings.append(
                f"“{review}” is already published: it stays published, and readers now see "
                f"the imported {', '.join(changed)}."
            )
        return review, False


@contextmanager
def _revision(author: AbstractBaseUser | None) -> Iterator[None]:
    """A revision block for what the import writes (nothing written: no revision)."""
    with reversion.create_revision():
        reversion.set_comment("Imported from a review document.")
        if author is not None:
            reversion.set_user(author)
        yield


def film_match(*, title: str, years: set[int]) -> Film | None:
    """The catalogue's film with this title (or original title) in one of ``years``."""
    key = name_key(title)
    films = Film.objects.filter(year__in=years) if years else Film.objects.all()
    matches = [
        film
        for film in films.order_by("pk")
        if key in (name_key(film.title), name_key(film.original_title or ""))
    ]
    if not years and len(matches) > 1:
        raise ReviewImportError(
            f"The catalogue has {len(matches)} films called “{title}”; add the year to the "
            "document's title line so the right one is updated."
        )
    return matches[0] if matches else None


def review_match(*, film: Film, headline: str) -> Review | None:
    """The film's review with this headline, if there is one."""
    key = name_key(headline)
    return next((r for r in film.reviews.order_by("pk") if name_key(r.headline) == key), None)


def _locked[M: models.Model](instance: M) -> M:
    """``instance`` read again, its row locked until the import's transaction ends, so that
    what the import compares and writes is current and no editor saves in between."""
    locked = type(instance).objects.select_for_update().filter(pk=instance.pk).first()
    if locked is None:
        raise ReviewImportError(
            f"“{instance}” was deleted while the document was being imported, so nothing was "
            "saved. Please try again."
        )
    return locked


def _version_bump(instance: Film | Review) -> None:
    """Make change forms opened before the import stale (see films.forms), in the database
    alone so that no other column is written back."""
    type(instance).objects.filter(pk=instance.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    instance.refresh_from_db(fields=["version", "updated_at"])
