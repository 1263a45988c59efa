"""Hostile but legal names, and a catalogue built from them the way editors' saves build it.

Every kind of name that an editor, a document or a data import may bring: accents, other
scripts (including right to left), emoji, punctuation only, names that slugify to nothing,
markup, odd whitespace and names as long as their column allows. The crawl test adds them to
the demo magazine and expects every page and every link to work.
"""

from datetime import timedelta

from django.utils import timezone
from taggit.models import Tag

from films.models import Availability, Credit, Film, Genre, Person, StreamingService
from reviews.models import Review
from reviews.workflow import review_create

LONGEST = object()  # stands for a name exactly as long as the column allows

HOSTILE_NAMES = [
    # Accents and other Latin letters
    "Rashōmon",
    "café society",
    "Amélie",
    "Stanisław",
    "Ærøskøbing Øst",
    # Other scripts
    "Летят журавли",
    "羅生門",
    "東京物語",
    "기생충",
    "الرسالة",  # right to left
    "שלום עליכם and more",  # right to left mixed with left to right
    # Emoji
    "🎬 Film 🍿",
    "🎞️",
    "👩🏽‍🚀",  # a ZWJ sequence with a skin-tone modifier
    # Punctuation only
    "!!!",
    "…",
    "?!",
    # Names that slugify to nothing
    "\u0301\u0308\u0327",  # only combining marks
    "\u200b-\u200d.\u2060",  # zero-width characters mixed with punctuation
    "---",
    "_",
    # Markup and quotes
    "<script>alert(1)</script>",
    "Tom & Jerry",
    "\"Quoted\" 'and' `ticked`",
    "{{ template }} {% tag %}",
    "a/b\\c?d#e%20f",
    # Whitespace oddities
    "tab\tinside",
    "new\nline",
    "\u00a0no-break\u00a0spaces\u00a0",
    "ideographic\u3000space",
    # As long as the column allows
    LONGEST,
]


def sized(names, max_length):
    """``names`` fitted to a column: LONGEST becomes a full-length name, others are cut."""
    fitted = []
    for n, name in enumerate(names):
        if name is LONGEST:
            name = ("Ω Very long name " * 20)[: max_length - 3] + f"{n:03d}"
        fitted.append(name[:max_length])
    return fitted


def max_length(model, field="name"):
    return model._meta.get_field(field).max_length


def make_hostile_catalogue():
    """One film per hostile name, each with a hostile genre, service, director, actor,
    keyword and a published review (through the review workflow, as editors publish them).
    Neighbouring names are mixed, so that every page links to several hostile pages.
    Returns every row that has a page of its own."""
    genres = [Genre.objects.create(name=name) for name in sized(HOSTILE_NAMES, max_length(Genre))]
    services = [
        StreamingService.objects.create(name=name)
        for name in sized(HOSTILE_NAMES, max_length(StreamingService))
    ]
    people = [Person.objects.create(name=name) for name in sized(HOSTILE_NAMES, max_length(Person))]
    titles = sized(HOSTILE_NAMES, max_length(Film, "title"))
    tags = sized(HOSTILE_NAMES, max_length(Tag))
    headlines = sized(HOSTILE_NAMES, max_length(Review, "headline"))
    characters = sized(HOSTILE_NAMES, max_length(Credit, "character"))
    published = timezone.now() - timedelta(days=1)

    films, reviews = [], []
    count = len(HOSTILE_NAMES)
    for n in range(count):
        after = (n + 1) % count
        film = Film.objects.create(title=titles[n], original_title=titles[after], year=1900 + n * 3)
        film.genres.set([genres[n], genres[after]])
        Credit.objects.create(film=film, person=people[n], role=Credit.Role.DIRECTOR)
        Credit.objects.create(
            film=film, person=people[after], role=Credit.Role.ACTOR, character=characters[n]
        )
        Availability.objects.create(
            film=film, service=services[n], offer_type=Availability.OfferType.SUBSCRIPTION
        )
        # History: the film left the neighbouring service recently ("Recently left", feeds).
        today = timezone.localdate()
        Availability.objects.create(
            film=film,
            service=services[after],
            offer_type=Availability.OfferType.RENT,
            first_seen=today - timedelta(days=60),
            last_checked=today - timedelta(days=n % 5),
            ended=today - timedelta(days=n % 5),
        )
        film.tags.add(tags[n])
        review = review_create(
            review=Review(
                film=film,
                headline=headlines[n],
                synopsis=f"About {titles[n]}.",
                critique=f"What we think of {titles[after]}.",
                byline=people[n].name[: max_length(Review, "byline")],
                status=Review.Status.PUBLISHED,
                published_at=published,
            )
        )
        review.keywords.add(tags[n], tags[after])
        films.append(film)
        reviews.append(review)
    return [*films, *reviews, *genres, *services, *people, *Tag.objects.filter(name__in=tags)]
