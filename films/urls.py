from django.urls import path

import films.converters  # noqa: F401  (registers <anyslug:>)
from films import views

app_name = "films"

urlpatterns = [
    path("films/", views.FilmListView.as_view(), name="film_list"),
    path("films/<anyslug:slug>/", views.FilmDetailView.as_view(), name="film_detail"),
    path("people/<anyslug:slug>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("genres/<anyslug:slug>/", views.GenreDetailView.as_view(), name="genre_detail"),
    path("services/<anyslug:slug>/", views.ServiceDetailView.as_view(), name="service_detail"),
    path("region/", views.RegionChooseView.as_view(), name="region_choose"),
]
