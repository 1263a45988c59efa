from django.urls import path

import films.converters  # noqa: F401  (registers <anyslug:>)
from films import feeds, views

app_name = "films"

urlpatterns = [
    path("films/", views.FilmListView.as_view(), name="film_list"),
    path("films/<anyslug:slug>/", views.FilmDetailView.as_view(), name="film_detail"),
    path("people/<anyslug:slug>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("genres/<anyslug:slug>/", views.GenreDetailView.as_view(), name="genre_detail"),
    path("services/<anyslug:slug>/", views.ServiceDetailView.as_view(), name="service_detail"),
    path("services/<anyslug:slug>/new/feed/", feeds.ServiceNewFeed(), name="service_new_feed"),
    path("services/<anyslug:slug>/new/atom/", feeds.ServiceNewAtomFeed(), name="service_new_atom"),
    path("services/<anyslug:slug>/left/feed/", feeds.ServiceLeftFeed(), name="service_left_feed"),
    path(
        "services/<anyslug:slug>/left/atom/", feeds.ServiceLeftAtomFeed(), name="service_left_atom"
    ),
    path("region/", views.RegionChooseView.as_view(), name="region_choose"),
]
