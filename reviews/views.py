from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, F, OuterRef
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.generic import DetailView, ListView, TemplateView
from taggit.models import Tag, TaggedItem

from films.models import Credit, Film, Genre, Person, StreamingService
from films.pagination import LenientPaginationMixin
from films.regions import cookie_region, vary_on_region
from films.search import (
    MAX_QUERY_LENGTH,
    clean_query,
    first_snippet,
    highlight,
    snippet,
    tidy_query,
)
from films.slugs import SlugRedirectMixin
from reviews.models import PreviewLink, Review
from reviews.preview import Preview, mark_private, preview_of, previewable_by


class HomeView(ListView):
    """The front page: the lead story, the latest reviews, and ways into the catalogue."""

    template_name = "reviews/home.html"
    context_object_name = "reviews"

    def get_queryset(self):
        return Review.objects.for_home()

    def dispatch(self, request, *args, **kwargs):
        # The services' counts are those of the reader's region, as on their pages.
        return vary_on_region(super().dispatch(request, *args, **kwargs))

    def get_context_data(self, **kwargs):
        stories = list(self.object_list)
        decades = (
            Film.objects.annotate(decade=F("year") / 10 * 10)
            .values_list("decade")
            .annotate(film_count=Count("pk"))
            .order_by("decade")
        )
        return super().get_context_data(
            lead=stories[0] if stories else None,
            latest=stories[1:],
            decades=[(decade, f"{decade}s", n) for decade, n in decades],
            genres=Genre.objects.annotate(film_count=Count("films"))
            .filter(film_count__gt=0)
            .order_by(Lower("name"), "name"),
            services=StreamingService.objects.with_film_counts(cookie_region(self.request))
            .filter(film_count__gt=0)
            .order_by(Lower("name"), "name"),
            **kwargs,
        )


class ReviewListView(LenientPaginationMixin, ListView):
    template_name = "reviews/review_list.html"
    context_object_name = "reviews"
    paginate_by = 20

    def get_queryset(self):
        return Review.objects.published().for_listing()


class ReviewPageMixin:
    """The review's page as readers see it. A preview (``self.preview`` set) carries a banner
    and is never cached or indexed."""

    model = Review
    context_object_name = "review"
    template_name = "reviews/review_detail.html"
    preview: Preview | None = None
    shared_link = False

    def get_context_data(self, **kwargs):
        review, film = self.object, self.object.film
        # schema.org data, so search engines can show the review with its rating.
        structured = {
            "@context": "https://schema.org",
            "@type": "Review",
            "name": review.headline,
            "author": {"@type": "Person", "name": review.displayed_byline},
            "publisher": {"@type": "Organization", "name": "filmmag"},
            "url": self.request.build_absolute_uri(review.get_absolute_url()),
            "itemReviewed": {
                "@type": "Movie",
                "name": film.title,
                "dateCreated": str(film.release_date or film.year),
                "director": [{"@type": "Person", "name": p.name} for p in film.directors],
                "url": self.request.build_absolute_uri(film.get_absolute_url()),
            },
        }
        lead, poster = review.lead_picture, film.poster_picture
        if lead and lead.has("og"):
            structured["image"] = self.request.build_absolute_uri(lead.og_url)
        if poster.has("poster"):
            structured["itemReviewed"]["image"] = self.request.build_absolute_uri(
                poster.url("poster", 640)
            )
        if review.published_at is not None:  # a draft in preview may have no time yet
            structured["datePublished"] = review.published_at.isoformat(timespec="seconds")
        if review.rating is not None:
            structured["reviewRating"] = {
                "@type": "Rating",
                "ratingValue": str(review.rating),
                "bestRating": "5",
                "worstRating": "0.5",
            }
        return super().get_context_data(structured_data=structured, preview=self.preview, **kwargs)

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.preview is not None:
            mark_private(response, shared_link=self.shared_link)
        return response


class ReviewDetailView(ReviewPageMixin, SlugRedirectMixin, DetailView):
    """A published review; to its writer and to editors, logged in, any review as a preview."""

    slug_model = Review

    def redirect_queryset(self):
        return Review.objects.published() | previewable_by(self.request.user)

    def get_queryset(self):
        return Review.objects.published().for_detail()

    def get_object(self, queryset=None):
        try:
            return super().get_object(queryset)
        except Http404:
            # Only a request for a review that is not public asks who is logged in: a public
            # page stays the same for everyone.
            slug = self.kwargs["slug"]
            review = previewable_by(self.request.user).for_detail().filter(slug=slug).first()
            if review is None:
                raise
            self.preview = preview_of(review)
            return review


class PreviewLinkDetailView(ReviewPageMixin, DetailView):
    """A review opened with a shared preview link: the preview while the link is live, the
    public page once the review is, and a page saying so when the link expired or was revoked."""

    shared_link = True

    def get(self, request, *args, **kwargs):
        link = PreviewLink.objects.filter(token=kwargs["token"]).first()
        if link is None:
            raise Http404("No such preview link.")
        if not link.is_live():
            response = render(request, "reviews/preview_link_gone.html", {"link": link}, status=410)
            return mark_private(response, shared_link=True)
        public = Review.objects.published().filter(pk=OuterRef("pk"))
        self.object = get_object_or_404(
            Review.objects.for_detail().annotate(public=Exists(public)), pk=link.review_id
        )
        if self.object.public:
            return mark_private(redirect(self.object), shared_link=True)
        self.preview = preview_of(self.object, link=link)
        return self.render_to_response(self.get_context_data(object=self.object))


class TagDetailView(SlugRedirectMixin, LenientPaginationMixin, ListView):
    """Published reviews with a keyword, and films tagged with it."""

    template_name = "reviews/tag_detail.html"
    context_object_name = "reviews"
    paginate_by = 20
    slug_model = Tag

    def redirect_queryset(self):
        return Tag.objects.filter(public_use())

    def moved_url(self, tag):
        return reverse("reviews:tag_detail", kwargs={"slug": tag.slug})

    def get_queryset(self):
        self.tag = get_object_or_404(Tag.objects.filter(public_use()), slug=self.kwargs["slug"])
        return Review.objects.published().for_listing().filter(keywords=self.tag)

    def get_context_data(self, **kwargs):
        films = Film.objects.filter(tags=self.tag).order_by("title")[:48]
        return super().get_context_data(tag=self.tag, films=films, **kwargs)


def public_use():
    """Tags that a published review or a film carries: a draft's keywords stay unseen."""
    items = TaggedItem.objects.filter(tag=OuterRef("pk"))
    return Exists(
        items.filter(
            content_type=ContentType.objects.get_for_model(Review),
            object_id__in=Review.objects.published().values("pk"),
        )
    ) | Exists(items.filter(content_type=ContentType.objects.get_for_model(Film)))


class SearchView(TemplateView):
    """Site search: films, people and published reviews matching the reader's words, each
    group best first with a highlighted snippet (films.search). Any query gives a page."""

    template_name = "reviews/search.html"
    per_group = 10

    def get_context_data(self, **kwargs):
        raw = self.request.GET.get("q", "")
        query = clean_query(raw)
        context = {
            "query": query,
            "typed": tidy_query(raw),
            "shortened": len(raw) > MAX_QUERY_LENGTH,
            "groups": [],
        }
        if query:
            context["groups"] = [
                self.group("films", "Films", self.films(query)),
                self.group("people", "People", self.people(query)),
                self.group("reviews", "Reviews", self.reviews(query)),
            ]
            context["total"] = sum(len(group.results) for group in context["groups"])
            context["more_films_url"] = (
                f"{reverse('films:film_list')}?{urlencode({'q': query})}"
                if context["groups"][0].more
                else ""
            )
        return super().get_context_data(**context, **kwargs)

    def group(self, key, heading, results):
        return SearchGroup(key, heading, results[: self.per_group], len(results) > self.per_group)

    def films(self, query):
        films = Film.objects.search(query).for_search()[: self.per_group + 1]
        results = []
        for film in films:
            directors = [c.person for c in film.search_credits if c.role == Credit.Role.DIRECTOR]
            cast = [c.person for c in film.search_credits if c.role == Credit.Role.ACTOR]
            # The cast members the query names first, then the top of the bill, three in all.
            named = [p for p in cast if snippet(f"{p.name} {p.original_name}", query)]
            cast = list(dict.fromkeys([*named, *cast]))[:3]
            parts = [film.original_title] if film.original_title else []
            if directors:
                parts.append("Directed by " + ", ".join(person_names(directors)))
            if cast:
                parts.append("With " + ", ".join(person_names(cast)))
            results.append(
                SearchResult(
                    url=film.get_absolute_url(),
                    title=highlight(film.title, query),
                    meta=str(film.year),
                    snippet=highlight(" · ".join(parts), query),
                )
            )
        return results

    def people(self, query):
        people = Person.objects.search(query)[: self.per_group + 1]
        return [
            SearchResult(
                url=person.get_absolute_url(),
                title=highlight(person.name, query),
                meta=life_years(person),
                snippet=highlight(person.original_name, query),
            )
            for person in people
        ]

    def reviews(self, query):
        reviews = Review.objects.published().search(query).for_search()[: self.per_group + 1]
        return [
            SearchResult(
                url=review.get_absolute_url(),
                title=highlight(review.headline, query),
                meta=f"{review.film.title} ({review.film.year})",
                snippet=first_snippet(
                    [
                        review.standfirst,
                        review.synopsis,
                        review.critique,
                        review.criticisms,
                        review.conclusion,
                    ],
                    query,
                    fallback=review.summary,
                ),
            )
            for review in reviews
        ]


@dataclass(frozen=True)
class SearchResult:
    url: str
    title: str
    meta: str
    snippet: str


@dataclass(frozen=True)
class SearchGroup:
    key: str
    heading: str
    results: list[SearchResult]
    more: bool


def person_names(people):
    return [f"{p.name} ({p.original_name})" if p.original_name else p.name for p in people]


def life_years(person):
    if person.birth_year and person.death_year:
        return f"{person.birth_year}–{person.death_year}"
    if person.birth_year:
        return f"born {person.birth_year}"
    return ""
