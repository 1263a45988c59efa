from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, ListView
from taggit.models import Tag, TaggedItem

from films.models import Film, Genre, StreamingService
from films.pagination import LenientPaginationMixin
from films.slugs import SlugRedirectMixin
from reviews.models import Review


class HomeView(ListView):
    template_name = "reviews/home.html"
    context_object_name = "reviews"

    def get_queryset(self):
        return Review.objects.published().for_listing()[:6]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            genres=Genre.objects.annotate(film_count=Count("films"))
            .filter(film_count__gt=0)
            .order_by("name"),
            services=StreamingService.objects.annotate(
                film_count=Count("availabilities__film", distinct=True)
            )
            .filter(film_count__gt=0)
            .order_by("name"),
            **kwargs,
        )


class ReviewListView(LenientPaginationMixin, ListView):
    template_name = "reviews/review_list.html"
    context_object_name = "reviews"
    paginate_by = 20

    def get_queryset(self):
        return Review.objects.published().for_listing()


class ReviewDetailView(SlugRedirectMixin, DetailView):
    context_object_name = "review"
    slug_model = Review

    def redirect_queryset(self):
        return Review.objects.published()

    def get_queryset(self):
        return Review.objects.published().for_detail()

    def get_context_data(self, **kwargs):
        review, film = self.object, self.object.film
        # schema.org data, so search engines can show the review with its rating.
        structured = {
            "@context": "https://schema.org",
            "@type": "Review",
            "name": review.headline,
            "author": {"@type": "Person", "name": review.displayed_byline},
            "datePublished": review.published_at.isoformat(timespec="seconds"),
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
        if review.rating is not None:
            structured["reviewRating"] = {
                "@type": "Rating",
                "ratingValue": str(review.rating),
                "bestRating": "5",
                "worstRating": "0.5",
            }
        return super().get_context_data(structured_data=structured, **kwargs)


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
