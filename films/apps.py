from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save


class FilmsConfig(AppConfig):
    name = "films"
    verbose_name = "Catalogue"

    def ready(self):
        from taggit.models import TaggedItem

        from films import counts, slugs
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

        # The counts of the whole catalogue (films/counts.py): recounted before the
        # version changes below, so that no reader caches counts from before the recount.
        for model, receivers in {
            Film: (counts.film_pre_save, counts.film_post_save, counts.film_post_delete),
            Credit: (counts.credit_pre_save, counts.credit_post_save, counts.credit_post_delete),
            Availability: (counts.offer_pre_save, counts.offer_post_save, counts.offer_post_delete),
        }.items():
            before_save, after_save, after_delete = receivers
            uid = f"facet-counts-{model.__name__}"
            pre_save.connect(before_save, sender=model, dispatch_uid=uid)
            post_save.connect(after_save, sender=model, dispatch_uid=uid)
            post_delete.connect(after_delete, sender=model, dispatch_uid=uid)
        pre_delete.connect(counts.film_pre_delete, sender=Film, dispatch_uid="facet-counts-Film")
        m2m_changed.connect(
            counts.film_genres_changed, sender=Film.genres.through, dispatch_uid="facet-counts"
        )
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
