import datetime
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django_countries import countries
from taggit.models import Tag, TaggedItem

from films.cache import bump as catalogue_bump
from films.counts import facet_counts_rebuild
from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from films.slugs import SlugAllocator, slug_base
from reviews.artwork.demo import demo_artwork_add
from reviews.models import RATING_CHOICES, Review
from reviews.parser import DocumentError, ParsedDocument, parse_document
from reviews.services import (
    ReviewImportError,
    film_match,
    name_clean,
    name_key,
    review_import,
    review_match,
)
from reviews.workflow import review_publish

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
SEED_REVIEW = DEMO_DIR / "reviews" / "the-cranes-are-flying.txt"
PERSON_FIELDS = ("original_name", "birth_year", "death_year", "bio")
FILM_FIELDS = ("original_title", "runtime", "countries", "original_language", "logline")


class Command(BaseCommand):
    help = (
        "Load the demo magazine: streaming services, people, films and reviews from "
        "reviews/demo/. Safe to run again: it creates only what is missing, brings catalogue "
        "rows in line with the file, and leaves reviews that already exist as editors left them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--catalogue",
            type=Path,
            default=DEMO_DIR / "catalogue.json",
            help="The catalogue file; review files are read from the 'reviews' folder beside "
            "it (default: %(default)s).",
        )
        parser.add_argument(
            "--no-reviews", action="store_true", help="Load the catalogue only, no reviews."
        )
        parser.add_argument(
            "--no-artwork",
            action="store_true",
            help="Make no pictures. By default the demo films get generated posters and stills, "
            "their directors and leading actors monogram cards and the services wordmarks, "
            "where they have none.",
        )

    def handle(self, *args, catalogue, no_reviews, no_artwork, verbosity, **options):
        self.verbosity = verbosity
        try:
            data = json.loads(catalogue.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the demo catalogue {catalogue}: {exc}") from exc
        self.created, self.updated = Counter(), Counter()
        try:
            with transaction.atomic():
                services = self.load_services(data.get("services", []))
                people = self.load_people(data.get("people", []))
                films = self.load_films(data.get("films", []), services=services, people=people)
                facet_counts_rebuild()  # the bulk writes sent no signals
                if not no_reviews:
                    self.load_reviews(data.get("reviews", []), folder=catalogue.parent / "reviews")
        except KeyError as exc:
            raise CommandError(f"{catalogue}: an entry lacks the required key {exc}.") from exc
        except (TypeError, ValueError, DocumentError, ReviewImportError) as exc:
            raise CommandError(f"{catalogue} could not be loaded: {exc}") from exc
        if not no_artwork:
            # After the catalogue's commit, each picture saved (and its files kept) on its own.
            self.created += demo_artwork_add(
                films=films,
                services=[
                    services[name_key(name_clean(entry["name"]))]
                    for entry in data.get("services", [])
                ],
                warn=lambda message: self.stderr.write(message),
                announce=lambda message: self.stdout.write(message) if self.verbosity else None,
            )
        catalogue_bump()  # bulk writes send no signals: cached film-list counts must go
        # The films and reviews written without a revision (bulk writes) get their first one.
        call_command(
            "createinitialrevisions",
            "films.Film",
            "reviews.Review",
            comment="Demo content.",
            verbosity=0,
        )
        self.stdout.write(self.summary())

    # Services and people --------------------------------------------------------------------

    def load_services(self, entries: list[dict]) -> dict[str, StreamingService]:
        existing = {name_key(s.name): s for s in StreamingService.objects.all()}
        by_slug = {s.slug: s for s in existing.values()}
        for entry in entries:
            name = name_clean(entry["name"])
            service = existing.get(name_key(name)) or by_slug.get(slug_base(name, kind="service"))
            website = entry.get("website", "")
            if service is None:
                service = StreamingService.objects.create(name=name, website=website)
                self.created["services"] += 1
            elif website and service.website != website:
                service.website = website
                service.save(update_fields=["website"])
                self.updated["services"] += 1
            existing[name_key(name)] = service
        return existing

    def load_people(self, entries: list[dict]) -> dict[str, Person]:
        existing = {name_key(p.name): p for p in Person.objects.order_by("-pk")}
        new = {}
        for entry in entries:
            name = name_clean(entry["name"])
            values = {f: entry[f] for f in PERSON_FIELDS if f in entry}
            person = existing.get(name_key(name)) or new.get(name_key(name))
            if person is None:
                new[name_key(name)] = Person(name=name, **values)
            elif changed := _assign(person, values):
                person.save(update_fields=changed)
                self.updated["people"] += 1
        slugs = SlugAllocator(Person)
        for person in new.values():
            person.slug = slugs.take(person.name)
        Person.objects.bulk_create(new.values())
        self.created["people"] += len(new)
        return existing | new

    def person(self, people: dict[str, Person], name: str) -> Person:
        person = people.get(name_key(name))
        if person is None:  # credited but not listed under "people"
            person = people[name_key(name)] = Person.objects.create(name=name_clean(name))
            self.created["people"] += 1
        return person

    # Films ----------------------------------------------------------------------------------

    def load_films(self, entries: list[dict], *, services, people) -> list[Film]:
        genres = {name_key(g.name): g for g in Genre.objects.all()}
        catalogue = _FilmIndex(
            Film.objects.prefetch_related(
                "genres",
                "tags",
                "credits",
                Prefetch("availabilities", queryset=Availability.objects.current()),
            )
        )
        tags = _TagIndex()
        new_credits, new_offers, moved_credits, new_links = [], [], [], []
        today = timezone.localdate()
        films = []
        for entry in entries:
            film, created = self.upsert_film(entry, catalogue)
            films.append(film)
            linked = set() if created else {g.pk for g in film.genres.all()}
            for name in entry.get("genres", []):
                genre = genres.get(name_key(name))
                if genre is None:
                    name = name_clean(name)
                    genre = genres[name_key(name)] = Genre.objects.create(name=name)
                    self.created["genres"] += 1
                if genre.pk not in linked:
                    new_links.append(Film.genres.through(film=film, genre=genre))
                    linked.add(genre.pk)

            tagged = set() if created else {name_key(t.name) for t in film.tags.all()}
            for name in entry.get("tags", []):
                if name_key(name) not in tagged:
                    tags.tag(film, name)
                    tagged.add(name_key(name))

            credits = (
                {}
                if created
                else {(c.person_id, c.role, name_key(c.character)): c for c in film.credits.all()}
            )
            billing = Counter()
            for item in entry.get("credits", []):
                role = item["role"]
                if role not in Credit.Role.values:
                    raise ValueError(f"{film}: unknown credit role “{role}”.")
                person = self.person(people, item["person"])
                character = name_clean(item.get("character", "")) if role == "actor" else ""
                order, billing[role] = billing[role], billing[role] + 1
                key = (person.pk, role, name_key(character))
                credit = credits.get(key)
                if credit is None:
                    credits[key] = Credit(
                        film=film, person=person, role=role, character=character, order=order
                    )
                    new_credits.append(credits[key])
                elif credit.order != order:
                    credit.order = order
                    moved_credits.append(credit)

            offers = (
                {}
                if created
                else {
                    (a.service_id, a.offer_type, a.region.code): a
                    for a in film.availabilities.all()
                }
            )
            for item in entry.get("availability", []):
                service = services.get(name_key(item["service"]))
                if service is None:
                    raise ValueError(f"{film}: the service “{item['service']}” is not listed.")
                offer_type, region = item["offer_type"], item["region"].upper()
                if offer_type not in Availability.OfferType.values:
                    raise ValueError(f"{film}: unknown offer type “{offer_type}”.")
                if region not in countries:
                    raise ValueError(f"{film}: “{region}” is not a country code.")
                url = item.get("url", "")
                key = (service.pk, offer_type, region)
                offer = offers.get(key)
                if offer is None:
                    offers[key] = Availability(
                        film=film,
                        service=service,
                        offer_type=offer_type,
                        region=region,
                        url=url,
                        last_checked=today,
                    )
                    new_offers.append(offers[key])
                elif url and offer.url != url:
                    offer.url = url
                    offer.save(update_fields=["url"])
                    self.updated["offers"] += 1

        Film.genres.through.objects.bulk_create(new_links)
        Credit.objects.bulk_create(new_credits)
        Credit.objects.bulk_update(moved_credits, ["order"])
        Availability.objects.bulk_create(new_offers)
        self.created["film tags"] += tags.save()
        self.created["film genres"] += len(new_links)
        self.created["credits"] += len(new_credits)
        self.updated["credits"] += len(moved_credits)
        self.created["offers"] += len(new_offers)
        return films

    def upsert_film(self, entry: dict, catalogue: "_FilmIndex") -> tuple[Film, bool]:
        release_date = entry.get("release_date")
        release_date = datetime.date.fromisoformat(release_date) if release_date else None
        year = int(entry["year"]) if entry.get("year") else None
        values = {f: entry[f] for f in FILM_FIELDS if f in entry}
        if release_date:
            values["release_date"] = release_date
        years = {year, release_date.year if release_date else None} - {None}
        if not years:
            raise ValueError(f"“{entry['title']}” needs a year or a release date.")
        film = catalogue.find(entry["title"], years)
        if film is None:
            film = Film.objects.create(
                title=name_clean(entry["title"]), year=year or release_date.year, **values
            )
            catalogue.add(film)
            self.created["films"] += 1
            return film, True
        if _assign(film, values):
            film.save()
            self.updated["films"] += 1
        return film, False

    # Reviews --------------------------------------------------------------------------------

    def load_reviews(self, entries: list[dict], *, folder: Path) -> None:
        # The writer's original submission, kept as a draft: the editors' worked example.
        self.load_review(SEED_REVIEW, entry=None)
        for entry in entries:
            self.load_review(folder / entry["file"], entry=entry)

    def load_review(self, path: Path, *, entry: dict | None) -> None:
        try:
            document = parse_document(path.read_bytes(), filename=path.name)
        except OSError as exc:
            raise ValueError(f"cannot read the review file {path}: {exc}") from exc
        if _existing_review(document) is not None:
            return  # the editors own it now: never overwrite their changes on restart
        review = review_import(document=document).review
        self.created["reviews"] += 1
        if entry is None:
            return
        rating = Decimal(str(entry["rating"])) if entry.get("rating") is not None else None
        if rating is not None and rating not in {value for value, _ in RATING_CHOICES}:
            raise ValueError(f"{path.name}: rating {entry['rating']} is not 0.5–5 in half steps.")
        review.byline = entry.get("byline", "")
        review.rating = rating
        review.is_demo = True
        review.save(update_fields=["byline", "rating", "is_demo"])
        review_publish(review=review, at=_aware(entry["published_at"]))

    def summary(self) -> str:
        reviews = Review.objects.count()
        published = Review.objects.published().count()
        created = ", ".join(_count(n, what) for what, n in self.created.items() if n)
        updated = ", ".join(_count(n, what) for what, n in self.updated.items() if n)
        changes = "; ".join(
            part
            for part in (created and f"created {created}", updated and f"updated {updated}")
            if part
        )
        return (
            f"Demo magazine: {Film.objects.count()} films, {reviews} reviews "
            f"({published} published), {Person.objects.count()} people, "
            f"{StreamingService.objects.count()} streaming services; "
            f"{changes or 'already up to date'}."
        )


def _count(n: int, plural: str) -> str:
    singular = {"people": "person", "film tags": "film tag"}.get(plural, plural.removesuffix("s"))
    return f"{n} {singular if n == 1 else plural}"


def _existing_review(document: ParsedDocument) -> Review | None:
    years = {document.year, document.release_date.year if document.release_date else None}
    film = film_match(title=document.title, years=years - {None})
    return review_match(film=film, headline=document.headline) if film else None


def _assign(obj, values: dict) -> list[str]:
    """Set ``values`` on ``obj``; the names of the fields that actually changed."""
    changed = []
    for name, value in values.items():
        current = getattr(obj, name)
        if name == "countries":
            current, value = [c.code for c in current], [c.upper() for c in value]
        if current != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _aware(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class _TagIndex:
    """Film tags added in bulk; names match case-insensitively, as TAGGIT_CASE_INSENSITIVE."""

    def __init__(self):
        self.tags = {name_key(tag.name): tag for tag in Tag.objects.order_by("-pk")}
        self.new_tags: list[Tag] = []
        self.items: list[TaggedItem] = []
        self.film_type = ContentType.objects.get_for_model(Film)

    def tag(self, film: Film, name: str) -> None:
        tag = self.tags.get(name_key(name))
        if tag is None:
            tag = self.tags[name_key(name)] = Tag(name=name_clean(name))
            self.new_tags.append(tag)
        self.items.append(TaggedItem(content_type=self.film_type, object_id=film.pk, tag=tag))

    def save(self) -> int:
        slugs = SlugAllocator(Tag)
        for tag in self.new_tags:
            tag.slug = slugs.take(tag.name)
        Tag.objects.bulk_create(self.new_tags)
        TaggedItem.objects.bulk_create(self.items)
        return len(self.items)


class _FilmIndex:
    """The catalogue's films by title and year, matched as ``reviews.services.film_match`` does
    but in memory, so a run that changes nothing costs a handful of queries."""

    def __init__(self, films):
        self.films: dict[tuple[str, int], Film] = {}
        for film in films.order_by("-pk"):
            self.add(film)

    def add(self, film: Film) -> None:
        for title in (film.title, film.original_title):
            if title:
                self.films[name_key(title), film.year] = film

    def find(self, title: str, years: set[int]) -> Film | None:
        return next(
            (self.films[key] for y in sorted(years) if (key := (name_key(title), y)) in self.films),
            None,
        )
