from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self):
        from films.cache import catalogue_changed
        from reviews.models import Review

        # The film list counts reviewed films and sorts by rating.
        post_save.connect(catalogue_changed, sender=Review, dispatch_uid="catalogue-review")
        post_delete.connect(catalogue_changed, sender=Review, dispatch_uid="catalogue-review")
