from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class FilmsConfig(AppConfig):
    name = "films"
    verbose_name = "Catalogue"

    def ready(self):
        from taggit.models import TaggedItem

        from films import slugs
        from films.cache import catalogue_changed
        from films.images import configure_pillow
        from films.models import (
            Availability,
            Credit,
            Film,
            Genre,
            Person,
            SlugHistory,
            Still,
            StreamingService,
        )

        slugs.register(Film, kind="film", source=lambda film: film.title)
        slugs.register(Person, kind="person", source=lambda person: person.name)
        slugs.register(Genre, kind="genre", source=lambda genre: genre.name)
        slugs.register(StreamingService, kind="service", source=lambda service: service.name)

        # Every row a public page shows: saving or deleting one gives a new catalogue version,
        # which the cached counts and pages are keyed on. TaggedItem links films (and reviews)
        # to their keywords; SlugHistory decides which old addresses redirect.
        catalogue = (
            Film,
            Genre,
            Person,
            Credit,
            StreamingService,
            Availability,
            Still,
            SlugHistory,
            TaggedItem,
        )
        for model in catalogue:
            post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"catalogue-{model}")
            post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"catalogue-{model}")
        m2m_changed.connect(catalogue_changed, sender=Film.genres.through, dispatch_uid="genres")
        m2m_changed.connect(catalogue_changed, sender=TaggedItem, dispatch_uid="tagged-items")
        configure_pillow()
