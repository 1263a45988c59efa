from django.urls import path

import films.converters  # noqa: F401  (registers <anyslug:>)
from reviews import views
from reviews.feeds import (
    FilmListReviewsFeed,
    GenreReviewsFeed,
    LatestReviewsFeed,
    PersonReviewsFeed,
    ServiceReviewsFeed,
    TagReviewsFeed,
)

app_name = "reviews"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("reviews/", views.ReviewListView.as_view(), name="review_list"),
    path("reviews/feed/", LatestReviewsFeed(), name="review_feed"),
    path("reviews/feed/atom/", LatestReviewsFeed(atom=True), name="review_atom_feed"),
    path("reviews/<anyslug:slug>/", views.ReviewDetailView.as_view(), name="review_detail"),
    # A shared preview link: the token is secrets.token_urlsafe()'s alphabet, that of <slug:>.
    path(
        "preview/<slug:token>/",
        views.PreviewLinkDetailView.as_view(),
        name="preview_link_detail",
    ),
    path("tags/<anyslug:slug>/", views.TagDetailView.as_view(), name="tag_detail"),
    path("search/", views.SearchView.as_view(), name="search"),
    # The feeds of the catalogue's pages: they list reviews, so they live here. Each is its
    # page's address plus feed/ (RSS 2.0) or feed/atom/; "feed" is a reserved slug, so
    # films/feed/ is never a film's page (films/slugs.py).
    path("films/feed/", FilmListReviewsFeed(), name="film_list_feed"),
    path("films/feed/atom/", FilmListReviewsFeed(atom=True), name="film_list_atom_feed"),
    path("genres/<anyslug:slug>/feed/", GenreReviewsFeed(), name="genre_feed"),
    path("genres/<anyslug:slug>/feed/atom/", GenreReviewsFeed(atom=True), name="genre_atom_feed"),
    path("services/<anyslug:slug>/feed/", ServiceReviewsFeed(), name="service_feed"),
    path(
        "services/<anyslug:slug>/feed/atom/",
        ServiceReviewsFeed(atom=True),
        name="service_atom_feed",
    ),
    path("people/<anyslug:slug>/feed/", PersonReviewsFeed(), name="person_feed"),
    path("people/<anyslug:slug>/feed/atom/", PersonReviewsFeed(atom=True), name="person_atom_feed"),
    path("tags/<anyslug:slug>/feed/", TagReviewsFeed(), name="tag_feed"),
    path("tags/<anyslug:slug>/feed/atom/", TagReviewsFeed(atom=True), name="tag_atom_feed"),
]
