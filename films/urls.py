from django.urls import path

from films import views

app_name = "films"

urlpatterns = [
    path("films/", views.FilmListView.as_view(), name="film_list"),
    path("films/<slug:slug>/", views.FilmDetailView.as_view(), name="film_detail"),
    path("people/<slug:slug>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("genres/<slug:slug>/", views.GenreDetailView.as_view(), name="genre_detail"),
    path("services/<slug:slug>/", views.ServiceDetailView.as_view(), name="service_detail"),
]
