"""What a page tells search engines and link previews: its title, description, canonical
address, robots rule, share image (Open Graph, Twitter/X cards) and schema.org data.

Views build a ``PageMeta`` from the objects they already loaded (``PageMetaMixin``), so none of
this costs a query; ``templates/includes/meta.html`` writes it into the page's head. Reviews
build on it (``reviews/seo.py``); nothing here imports them.
"""

import re
from dataclasses import dataclass, field

from django.templatetags.static import static
from django.urls import reverse

from films.models import Credit
from films.pictures import Picture

SITE_NAME = "filmmag"
DEFAULT_DESCRIPTION = "filmmag: film reviews, and where to stream, rent or buy the films."
DESCRIPTION_LENGTH = 160
# The site search the home page's WebSite offers to search engines (a URL name: the search
# page lives in reviews, which films never imports).
SEARCH_URL_NAME = "reviews:search"
# The card shared for pages with no picture of their own (1200×630, like the "og" rendition).
SITE_CARD = ("filmmag/share.png", 1200, 630, "filmmag: film reviews and where to watch")

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def describe(*texts: str, length: int = DESCRIPTION_LENGTH) -> str:
    """The first non-empty text as one line of at most ``length`` characters, cut at a word
    boundary with "…" when too long (at a character in scripts without spaces). Plain text:
    the template escapes it, as it does the page that quotes it."""
    for text in texts:
        text = _SPACE.sub(" ", _CONTROL.sub("", text or "")).strip()
        if text:
            break
    else:
        return ""
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    head, space, _ = cut.rpartition(" ")
    if space and len(head) >= length // 2:
        cut = head
    return cut.rstrip(" ,;:–—-") + "…"


def sentence_list(names: list[str], limit: int = 3) -> str:
    """ "A, B and C" (the first ``limit``)."""
    names = [n for n in names if n][:limit]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass
class ShareImage:
    url: str
    width: int
    height: int
    alt: str
    card: str  # the Twitter/X card type: a wide image gets the large card


def share_image(picture: Picture | None) -> ShareImage:
    """The 1200×630 "og" rendition, else a portrait's largest rendition (a small card), else
    the site's own card."""
    if picture and picture.has("og"):
        width, height = picture.size("og")
        return ShareImage(picture.og_url, width, height, picture.alt, "summary_large_image")
    if picture and picture.has("portrait"):
        width, height = picture.size("portrait")
        return ShareImage(picture.url("portrait"), width, height, picture.alt, "summary")
    path, width, height, alt = SITE_CARD
    return ShareImage(static(path), width, height, alt, "summary_large_image")


@dataclass
class PageMeta:
    title: str
    description: str = ""
    type: str = "website"  # og:type: video.movie, article, profile or website
    picture: Picture | None = None
    canonical: str = ""  # the page's own address without stray parameters; "" for none
    robots: str = ""  # e.g. "noindex, follow"
    structured_data: dict | list | None = None
    # Filled by resolve(), for the template:
    canonical_url: str = field(default="", init=False)
    image: ShareImage | None = field(default=None, init=False)

    def resolve(self, request) -> "PageMeta":
        self.description = describe(self.description, DEFAULT_DESCRIPTION)
        if self.canonical:
            self.canonical_url = request.build_absolute_uri(self.canonical)
        self.image = share_image(self.picture)
        self.image.url = request.build_absolute_uri(self.image.url)
        return self


class PageMetaMixin:
    """For views: ``get_meta()`` returns the page's ``PageMeta``; the template gets it as
    ``meta``."""

    def get_meta(self) -> PageMeta:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.context = context  # get_meta() may use what the page shows
        context["meta"] = self.get_meta().resolve(self.request)
        return context


def page_number(context) -> int:
    page = context.get("page_obj")
    return page.number if page is not None else 1


def with_page(path: str, number: int) -> str:
    """The address of page ``number`` of a list (page 1 is the list's own address)."""
    return path if number <= 1 else f"{path}?page={number}"


def list_robots(number: int) -> str:
    """Later pages of a list add nothing a search engine needs (each item has its own page,
    in the sitemap): followed, not indexed."""
    return "noindex, follow" if number > 1 else ""


# schema.org data. Plain dicts: the template writes them with the ld_json filter, which escapes
# <, > and & as json_script does, so no text can close the <script> block.


def iso_duration(minutes: int | None) -> str | None:
    """ISO 8601 duration: 97 minutes is "PT1H37M"."""
    if not minutes:
        return None
    hours, rest = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest else "")


def compact(data: dict) -> dict:
    """Without the empty values: schema.org validators flag empty strings and lists."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def person_ref(person, request) -> dict:
    return {
        "@type": "Person",
        "name": person.name,
        "url": request.build_absolute_uri(person.get_absolute_url()),
    }


def organization(request) -> dict:
    return {
        "@type": "Organization",
        "name": SITE_NAME,
        "url": request.build_absolute_uri("/"),
        "logo": request.build_absolute_uri(static(SITE_CARD[0])),
    }


def film_date(film) -> str:
    return film.release_date.isoformat() if film.release_date else str(film.year)


def film_image(film, request) -> str | None:
    poster = film.poster_picture
    if poster.has("poster"):
        return request.build_absolute_uri(poster.url("poster", 640))
    share = film.share_picture
    return request.build_absolute_uri(share.og_url) if share else None


def movie_ref(film, request, *, directors=None) -> dict:
    """The film as a review's ``itemReviewed``: what identifies it."""
    directors = film.directors if directors is None else directors
    return compact(
        {
            "@type": "Movie",
            "name": film.title,
            "alternateName": film.original_title if film.original_title != film.title else "",
            "url": request.build_absolute_uri(film.get_absolute_url()),
            "image": film_image(film, request),
            "datePublished": film_date(film),
            "director": [person_ref(p, request) for p in directors],
        }
    )


def movie(film, request, *, credits, reviews) -> dict:
    """The film page's Movie: ``credits`` (with their people) and ``reviews`` (published, with
    their authors) as the view loaded them."""

    def people(role):
        return [person_ref(c.person, request) for c in credits if c.role == role]

    cast = sorted((c for c in credits if c.role == Credit.Role.ACTOR), key=lambda c: c.order)
    data = movie_ref(film, request, directors=[])
    data.update(
        compact(
            {
                "description": film.logline,
                "director": people(Credit.Role.DIRECTOR),
                "actor": [
                    compact(
                        {
                            "@type": "PerformanceRole",
                            "actor": person_ref(c.person, request),
                            "characterName": c.character,
                        }
                    )
                    for c in cast
                ],
                "author": people(Credit.Role.WRITER),
                "producer": people(Credit.Role.PRODUCER),
                "musicBy": people(Credit.Role.COMPOSER),
                "genre": [genre.name for genre in film.genres.all()],
                "countryOfOrigin": [
                    {"@type": "Country", "name": country.name} for country in film.countries
                ],
                "inLanguage": film.original_language,
                "duration": iso_duration(film.runtime),
                "keywords": ", ".join(tag.name for tag in film.tags.all()),
                "review": [review_summary(r, request) for r in reviews],
            }
        )
    )
    return {"@context": "https://schema.org", **data}


def review_summary(review, request) -> dict:
    """A review inside its Movie (reviews build their own page's data in reviews/seo.py)."""
    return compact(
        {
            "@type": "Review",
            "name": review.headline,
            "url": request.build_absolute_uri(review.get_absolute_url()),
            "author": {"@type": "Person", "name": review.displayed_byline},
            "datePublished": review.published_at.isoformat(timespec="seconds"),
            "reviewRating": rating(review.rating),
        }
    )


def rating(value) -> dict | None:
    if value is None:
        return None
    return {
        "@type": "Rating",
        "ratingValue": f"{value:g}",
        "bestRating": "5",
        "worstRating": "0.5",
    }


def person(person, request) -> dict:
    portrait = person.portrait_picture
    return {
        "@context": "https://schema.org",
        **compact(
            {
                "@type": "Person",
                "name": person.name,
                "alternateName": person.original_name,
                "url": request.build_absolute_uri(person.get_absolute_url()),
                "image": request.build_absolute_uri(portrait.url("portrait"))
                if portrait.has("portrait")
                else None,
                "birthDate": str(person.birth_year or ""),
                "deathDate": str(person.death_year or ""),
                "description": describe(person.bio, length=300),
            }
        ),
    }


def website(request) -> dict:
    home = request.build_absolute_uri("/")
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": SITE_NAME,
        "url": home,
        "description": DEFAULT_DESCRIPTION,
        "publisher": organization(request),
        "potentialAction": {
            "@type": "SearchAction",
            # Braces kept as they are: build_absolute_uri() would percent-encode them.
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": request.build_absolute_uri(reverse(SEARCH_URL_NAME))
                + "?q={search_term_string}",
            },
            "query-input": "required name=search_term_string",
        },
    }
