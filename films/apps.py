from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class FilmsConfig(AppConfig):
    name = "films"
    verbose_name = "Catalogue"

    def ready(self):
        from films import slugs
        from films.cache import catalogue_changed
        from films.images import configure_pillow
        from films.models import Availability, Credit, Film, Genre, Person, StreamingService

        slugs.register(Film, kind="film", source=lambda film: film.title)
        slugs.register(Person, kind="person", source=lambda person: person.name)
        slugs.register(Genre, kind="genre", source=lambda genre: genre.name)
        slugs.register(StreamingService, kind="service", source=lambda service: service.name)

        for model in (Film, Genre, Person, Credit, StreamingService, Availability):
            post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"catalogue-{model}")
            post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"catalogue-{model}")
        m2m_changed.connect(catalogue_changed, sender=Film.genres.through, dispatch_uid="genres")
        configure_pillow()
