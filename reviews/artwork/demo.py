"""Pictures for the demo magazine, stored the way an editor's uploads are.

Each generated image goes through the model's checked image field (type, size and pixel checks,
metadata removed, a name made from its content), then ``full_clean()`` and ``save()``, which
make the renditions: the demo shows exactly what an upload would. Nothing is downloaded, and
no real poster or photograph is used.

Only what is missing is made: a film that has a poster keeps it, a film with stills gets no
more, a person with a portrait and a service with a logo are left alone. A second run writes
nothing.
"""

from collections import Counter
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from films.models import Credit, Film, Person, Still, StreamingService
from reviews.artwork.draw import CREDIT, initials
from reviews.artwork.logos import logo_png
from reviews.artwork.portraits import portrait_png
from reviews.artwork.posters import poster_png
from reviews.artwork.stills import still_pngs

STILLS_PER_FILM = 3
TOP_BILLED = 2  # actors per film who get a portrait card, besides the directors


def demo_artwork_add(
    *,
    films: Iterable[Film],
    services: Iterable[StreamingService],
    warn: Callable[[str], None] = lambda message: None,
    announce: Callable[[str], None] = lambda message: None,
) -> Counter:
    """Posters and stills for ``films``, monogram cards for their directors and top-billed
    actors, wordmarks for ``services``: whichever they lack. Returns what was made.
    ``announce`` hears, before any picture is made, what is about to be made."""
    made = Counter()
    film_ids = [film.pk for film in films]
    wanted = list(
        Film.objects.filter(pk__in=film_ids)
        .filter(Q(poster="") | ~Exists(Still.objects.filter(film=OuterRef("pk"))))
        .annotate(has_stills=Exists(Still.objects.filter(film=OuterRef("pk"))))
        .with_directors()
        .order_by("pk")
    )
    people = list(
        Person.objects.filter(portrait="")
        .filter(
            Exists(
                Credit.objects.filter(person=OuterRef("pk"), film__in=film_ids).filter(
                    Q(role=Credit.Role.DIRECTOR) | Q(role=Credit.Role.ACTOR, order__lt=TOP_BILLED)
                )
            )
        )
        .order_by("pk")
    )
    services = list(
        StreamingService.objects.filter(pk__in=[s.pk for s in services], logo="").order_by("pk")
    )
    if wanted or people or services:
        announce(
            f"Making pictures for {len(wanted)} films, {len(people)} people and "
            f"{len(services)} streaming services (the renditions take a while)..."
        )
    for film in wanted:
        with transaction.atomic():
            if not film.poster:
                made["posters"] += _film_poster(film, warn)
            if not film.has_stills:
                made["stills"] += _film_stills(film, warn)

    for person in people:
        person.portrait = ContentFile(portrait_png(person.name), name="portrait.png")
        person.portrait_alt = (
            f"{person.suggested_portrait_alt}: a card with the initials {initials(person.name)}"
        )
        person.portrait_credit = CREDIT
        made["portraits"] += _store(person, warn)

    for service in services:
        service.logo = ContentFile(logo_png(service.name), name="logo.png")
        service.logo_alt = service.suggested_logo_alt
        made["logos"] += _store(service, warn)
    return made


def _film_poster(film: Film, warn) -> int:
    director = " and ".join(person.name for person in film.directors)
    film.poster = ContentFile(poster_png(film.title, film.year, director), name="poster.png")
    film.poster_alt = film.suggested_poster_alt
    film.poster_credit = CREDIT
    return _store(film, warn)


def _film_stills(film: Film, warn) -> int:
    made = 0
    for order, still in enumerate(still_pngs(film.title, film.year, STILLS_PER_FILM)):
        made += _store(
            Still(
                film=film,
                image=ContentFile(still.png, name="still.png"),
                alt_text=(
                    f"{still.shapes.capitalize()} in {still.colours}: generated artwork "
                    f"standing in for a still from {film}"
                ),
                caption=f"Generated artwork: a composition in {still.colours}",
                credit=CREDIT,
                order=order,
            ),
            warn,
        )
    return made


def _store(obj, warn) -> int:
    """Validate and save ``obj`` as the admin would: 1 if it was saved, 0 (and a warning)
    if validation refused it, as it may for a row an editor has since changed."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        warn(f"No demo picture for {obj._meta.verbose_name} “{obj}”: {exc.messages[0]}")
        return 0
    obj.save()
    return 1
