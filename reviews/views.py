from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.generic import DetailView, ListView, TemplateView
from taggit.models import Tag, TaggedItem

from films import seo
from films.fragments import CachedPageMixin, SharedPageMixin
from films.models import Credit, FacetCount, Film, Person
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
from reviews.seo import review as review_data


class HomeView(CachedPageMixin, seo.PageMetaMixin, ListView):
    """The front page: the lead story, the latest reviews, and ways into the catalogue."""

    template_name = "reviews/home.html"
    context_object_name = "reviews"
    fragment_name = "home"

    def get_queryset(self):
        return Review.objects.for_home()

    def dispatch(self, request, *args, **kwargs):
        # The services' counts are those of the reader's region, as on their pages.
        return vary_on_region(super().dispatch(request, *args, **kwargs))

    def page_context(self):
        stories = list(self.object_list)
        # The film list's own counts (FacetCount), so that the two pages agree.
        genres, services, decades = [], [], []
        for row in FacetCount.objects.for_home(cookie_region(self.request)):
            if row.facet == FacetCount.Facet.DECADE:
                decades.append((int(row.option), f"{row.option}s", row.n))
            else:
                item = row.genre if row.facet == FacetCount.Facet.GENRE else row.service
                item.film_count = row.n
                (genres if row.facet == FacetCount.Facet.GENRE else services).append(item)
        by_name = lambda item: (item.name.lower(), item.name)  # noqa: E731
        return {
            "lead": stories[0] if stories else None,
            "latest": stories[1:],
            "decades": sorted(decades),
            "genres": sorted(genres, key=by_name),
            "services": sorted(services, key=by_name),
        }

    def get_meta(self):
        lead = self.context["lead"]
        latest = f" Latest: {lead.headline} ({lead.film.title})." if lead else ""
        return seo.PageMeta(
            title="Film reviews and where to watch",
            description="filmmag reviews films old and new and tells you where to stream, rent "
            f"or buy them.{latest}",
            canonical="/",
            structured_data=seo.website(self.request),
        )


class ReviewListView(SharedPageMixin, seo.PageMetaMixin, LenientPaginationMixin, ListView):
    template_name = shared_template = "reviews/review_list.html"
    cached_partials = ("content",)
    fragment_name = "review-list"
    context_object_name = "reviews"
    paginate_by = 20

    def get_queryset(self):
        return Review.objects.published().for_listing()

    def get_meta(self):
        number = seo.page_number(self.context)
        headlines = seo.sentence_list([r.headline for r in self.context["reviews"]])
        return seo.PageMeta(
            title="Reviews" if number == 1 else f"Reviews, page {number}",
            description=f"filmmag's film reviews, newest first: {headlines}."
            if headlines
            else "filmmag's film reviews, newest first.",
            canonical=seo.with_page(self.request.path, number),
            robots=seo.list_robots(number),
        )


class ReviewPageMixin(CachedPageMixin, seo.PageMetaMixin):
    """The review's page as readers see it. A preview (``self.preview`` set) carries a banner
    and is never cached or indexed."""

    model = Review
    context_object_name = "review"
    template_name = "reviews/review_detail.html"
    preview: Preview | None = None
    shared_link = False
    cached_partials = ("head", "content")
    fragment_name = "review-page"

    def cache_parts(self):
        return None if self.preview is not None else super().cache_parts()

    def page_prefetches(self):
        return Review.objects.detail_prefetches()

    def page_context(self):
        return {"preview": self.preview}

    def get_meta(self):
        review, film = self.object, self.object.film
        return seo.PageMeta(
            title=f"{review.headline}: {film.title} ({film.year}) review",
            description=seo.describe(review.summary, review.synopsis, review.critique),
            type="article",
            picture=review.lead_picture,
            # A preview is never indexed (its response says so too: reviews.preview), and its
            # public address does not answer yet.
            canonical="" if self.preview else review.get_absolute_url(),
            robots="noindex" if self.preview else "",
            structured_data=review_data(review, self.request),
        )

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
        return Review.objects.published().select_related("film", "author")

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


class TagDetailView(
    SlugRedirectMixin, SharedPageMixin, seo.PageMetaMixin, LenientPaginationMixin, ListView
):
    """Published reviews with a keyword, and films tagged with it."""

    template_name = shared_template = "reviews/tag_detail.html"
    fragment_name = "tag-page"
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

    def get_meta(self):
        number = seo.page_number(self.context)
        reviews = seo.sentence_list([r.headline for r in self.context["reviews"]])
        films = seo.sentence_list([f.title for f in self.context["films"]])
        about = f"Reviews: {reviews}." if reviews else f"Films: {films}." if films else ""
        title = f"Keyword: {self.tag.name}"
        return seo.PageMeta(
            title=title if number == 1 else f"{title}, page {number}",
            description=f"filmmag's reviews and films filed under “{self.tag.name}”. {about}",
            canonical=seo.with_page(self.request.path, number),
            robots=seo.list_robots(number),
        )


def public_use():
    """Tags that a published review or a film carries: a draft's keywords stay unseen."""
    items = TaggedItem.objects.filter(tag=OuterRef("pk"))
    return Exists(
        items.filter(
            content_type=ContentType.objects.get_for_model(Review),
            object_id__in=Review.objects.published().values("pk"),
        )
    ) | Exists(items.filter(content_type=ContentType.objects.get_for_model(Film)))


class SearchView(SharedPageMixin, seo.PageMetaMixin, TemplateView):
    """Site search: films, people and published reviews matching the reader's words, each
    group best first with a highlighted snippet (films.search). Any query gives a page."""

    template_name = shared_template = "reviews/search.html"
    cached_partials = ("content",)
    fragment_name = "search"
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

    def get_meta(self):
        query = self.context["query"]
        return seo.PageMeta(
            title=f"Search: {query}" if query else "Search",
            description="Search filmmag's films, people and reviews.",
            canonical=self.request.path,
            # Result pages are endless near-copies of the site's own pages: followed, not indexed.
            robots="noindex, follow",
        )

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
