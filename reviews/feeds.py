"""RSS 2.0 and Atom feeds of published reviews ("channels").

Every page that lists films or reviews has a feed at its own address plus ``feed/`` (RSS) or
``feed/atom/`` (Atom): the latest reviews, the film list with any filter combination (the
filters ride along in the query string, as on the page), a genre, a service, a person and a
keyword. Each entry carries the film and the headline (its title), the byline, the publication
time, the rating (stars in the title) and the conclusion (its summary); the film, its page and
the rating also in elements of their own, ``filmmag:film``, ``filmmag:filmlink`` and
``filmmag:rating``, for programs.

The feeds live here, not in ``films``, because they list reviews: ``reviews`` may use the film
list's filterset, ``films`` never imports ``reviews``.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.text import Truncator
from taggit.models import Tag

from films.filters import FilmFilter
from films.fragments import SharedFeedMixin
from films.models import Credit, Film, Genre, Person, StreamingService
from films.regions import cookie_region
from films.slugs import moved_to
from films.templatetags.filmmag_tags import stars
from films.views import filter_query
from reviews.models import Review
from reviews.views import public_use

ENTRIES = 20
# The namespace of the entries' own elements (film, rating): a name, not an address to fetch.
NAMESPACE = "urn:x-filmmag:review"
# What XML 1.0 cannot carry (Django's feed writer refuses it): C0 controls but tab and newline,
# lone surrogates, and the two non-characters U+FFFE and U+FFFF.
XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text):
    return XML_UNSAFE.sub("", str(text)) if text is not None else None


class ReviewEntriesMixin:
    """The filmmag elements: a namespace on the root, the film and rating on each entry."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        # Text only, no attributes: feed readers (feedparser among them) drop the text of an
        # unknown element that has attributes.
        handler.addQuickElement("filmmag:film", item["film_title"])
        handler.addQuickElement("filmmag:filmlink", item["film_link"])
        if item["rating"] is not None:  # stars out of 5, in half steps
            handler.addQuickElement("filmmag:rating", item["rating"])


class ReviewRssFeed(ReviewEntriesMixin, Rss201rev2Feed):
    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:filmmag": NAMESPACE}


class ReviewAtomFeed(ReviewEntriesMixin, Atom1Feed):
    def root_attributes(self):
        return {**super().root_attributes(), "xmlns:filmmag": NAMESPACE}


@dataclass(frozen=True)
class Channel:
    """What one request's feed is of: ``subject`` is what the address names (a filterset, a
    person, a keyword, or nothing). Passed to every method, so the shared feed instance keeps
    no per-request state."""

    request: HttpRequest
    subject: Any = None


class ReviewFeed(SharedFeedMixin, Feed):
    """A feed of published reviews, newest first; RSS 2.0 (``atom=True``: Atom 1.0)."""

    feed_type = ReviewRssFeed
    description = "The newest film reviews published by filmmag."

    def __init__(self, *, atom=False):
        super().__init__()
        if atom:
            self.feed_type = ReviewAtomFeed

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        # With Last-Modified alone, browsers and proxies may reuse the feed for a tenth of its
        # age without asking, past a scheduled review's time: they must ask each time.
        patch_cache_control(response, no_cache=True)
        return response

    def get_object(self, request, *args, **kwargs):
        return Channel(request, self.subject(request, **kwargs))

    def subject(self, request, **kwargs):
        return None

    def reviews(self, subject):
        """The published reviews this feed lists."""
        return Review.objects.published()

    def items(self, channel):
        # Visibility is decided per request: a scheduled review appears at its time.
        reviews = list(
            self.reviews(channel.subject).for_feed().order_by("-published_at", "-pk")[:ENTRIES]
        )
        for review in reviews:
            review.film_url = channel.request.build_absolute_uri(review.film.get_absolute_url())
        return reviews

    def subtitle(self, channel):  # Atom's name for the description
        return self._get_dynamic_attr("description", channel)

    def item_title(self, review):
        title = f"{review.film}: {review.headline}"
        if review.rating is not None:
            title += f" ({stars(review.rating)})"
        return xml_text(title)

    def item_description(self, review):
        # The conclusion in full; failing that, the standfirst, or the critique's beginning.
        summary = review.conclusion.strip() or review.summary or Truncator(review.critique)
        return xml_text(summary if isinstance(summary, str) else summary.words(60))

    def item_author_name(self, review):
        return xml_text(review.displayed_byline)

    def item_pubdate(self, review):
        return review.published_at

    def item_updateddate(self, review):
        return review.modified_at

    def item_extra_kwargs(self, review):
        return {
            "film_title": xml_text(str(review.film)),
            "film_link": review.film_url,
            "rating": None if review.rating is None else str(review.rating),
        }


class LatestReviewsFeed(ReviewFeed):
    title = "filmmag: latest reviews"
    link = reverse_lazy("reviews:review_list")


class MovedSlugMixin:
    """A slug the row had before answers 301 with the feed's current address, as the page
    does (only once the feed has 404'd: a live feed costs no extra query)."""

    slug_model = None

    def redirect_queryset(self):
        return self.slug_model._default_manager.all()

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except Http404:
            target = moved_to(self.slug_model, kwargs["slug"], self.redirect_queryset())
            if target is None:
                raise
            url = reverse(request.resolver_match.view_name, kwargs={"slug": target.slug})
            query = request.GET.urlencode()
            return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


class FilmListReviewsFeed(ReviewFeed):
    """Reviews of the films the film list shows for the filters in the query string: the same
    filterset, and the same treatment of invalid values (ignored, and said so)."""

    list_url_name = "films:film_list"
    preset = None  # the filter a genre's or a service's page fixes by its slug

    def subject(self, request, **kwargs):
        data = request.GET.copy()
        if self.preset:
            data.setlist(self.preset, [kwargs["slug"]])
        filterset = FilmFilter(
            data, queryset=Film.objects.all(), request=request, own_region=cookie_region(request)
        )
        filterset.is_valid()  # invalid values are then left out, as on the page
        if self.preset and not filterset.active_values().get(self.preset):
            raise Http404(f"No {self.preset} with this address.")
        return filterset

    def reviews(self, filterset):
        films = filterset.filter_queryset(Film.objects.all()).values("pk")
        return Review.objects.published().filter(film__in=films)

    def owner(self, filterset):
        """The genre or service the address names (fetched by the filter's validation)."""
        return filterset.active_values()[self.preset][0]

    def heading(self, filterset):
        return "Films"

    def describe(self, filterset):
        """ "Genre: War, Drama; Streaming service: Criterion Channel" for the valid filters
        (genres, services and people by name, as validation fetched them: no query)."""
        fields, parts = filterset.form.fields, []
        for name, value in filterset.active_values(skip=("sort", self.preset)).items():
            field = fields[name]
            labels = {} if hasattr(field, "queryset") else dict(getattr(field, "choices", ()))
            values = value if isinstance(value, list | tuple) else [value]
            shown = ", ".join(str(getattr(v, "name", None) or labels.get(v, v)) for v in values)
            parts.append(f"{field.label}: {shown}")
        return "; ".join(parts)

    def title(self, channel):
        filters = self.describe(channel.subject)
        title = f"filmmag reviews: {self.heading(channel.subject)}"
        return xml_text(f"{title} ({filters})" if filters else title)

    def description(self, channel):
        form = channel.subject.form
        text = "The newest filmmag reviews of the films that match these filters."
        errors = [
            f"{form.fields[name].label}: {error}"
            for name, errors in form.errors.items()
            for error in errors
        ]
        if errors:
            text += " Some filters in the address could not be used and were ignored: "
            text += "; ".join(errors)
        return xml_text(text)

    def link(self, channel):
        kwargs = {"slug": self.owner(channel.subject).slug} if self.preset else {}
        url = reverse(self.list_url_name, kwargs=kwargs)
        return url + filter_query(channel.request.GET, drop=[self.preset] if self.preset else [])


class GenreReviewsFeed(MovedSlugMixin, FilmListReviewsFeed):
    list_url_name = "films:genre_detail"
    preset = "genre"
    slug_model = Genre

    def heading(self, filterset):
        return f"{self.owner(filterset).name} films"


class ServiceReviewsFeed(MovedSlugMixin, FilmListReviewsFeed):
    list_url_name = "films:service_detail"
    preset = "service"
    slug_model = StreamingService

    def heading(self, filterset):
        return f"Films on {self.owner(filterset).name}"


class PersonReviewsFeed(MovedSlugMixin, ReviewFeed):
    """Reviews of the films in a person's filmography: a director's films, an actor's…"""

    slug_model = Person

    def subject(self, request, **kwargs):
        return get_object_or_404(Person.objects.only("pk", "name", "slug"), slug=kwargs["slug"])

    def reviews(self, person):
        credits = Credit.objects.filter(film=OuterRef("film"), person=person)
        return Review.objects.published().filter(Exists(credits))

    def title(self, channel):
        return xml_text(f"filmmag reviews: films with {channel.subject.name}")

    def description(self, channel):
        return xml_text(f"The newest filmmag reviews of films with {channel.subject.name}.")

    def link(self, channel):
        return channel.subject.get_absolute_url()


class TagReviewsFeed(MovedSlugMixin, ReviewFeed):
    """The reviews a keyword's page lists."""

    slug_model = Tag

    def redirect_queryset(self):
        return Tag.objects.filter(public_use())

    def subject(self, request, **kwargs):
        return get_object_or_404(Tag.objects.filter(public_use()), slug=kwargs["slug"])

    def reviews(self, tag):
        return Review.objects.published().filter(keywords=tag)

    def title(self, channel):
        return xml_text(f"filmmag reviews: keyword {channel.subject.name}")

    def description(self, channel):
        return xml_text(f"The newest filmmag reviews with the keyword {channel.subject.name}.")

    def link(self, channel):
        return reverse("reviews:tag_detail", kwargs={"slug": channel.subject.slug})
