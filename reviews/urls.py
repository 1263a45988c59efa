from django.urls import path

import films.converters  # noqa: F401  (registers <anyslug:>)
from reviews import views
from reviews.feeds import LatestReviewsFeed

app_name = "reviews"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("reviews/", views.ReviewListView.as_view(), name="review_list"),
    path("reviews/feed/", LatestReviewsFeed(), name="review_feed"),
    path("reviews/<anyslug:slug>/", views.ReviewDetailView.as_view(), name="review_detail"),
    # A shared preview link: the token is secrets.token_urlsafe()'s alphabet, that of <slug:>.
    path(
        "preview/<slug:token>/",
        views.PreviewLinkDetailView.as_view(),
        name="preview_link_detail",
    ),
    path("tags/<anyslug:slug>/", views.TagDetailView.as_view(), name="tag_detail"),
    path("search/", views.SearchView.as_view(), name="search"),
]
