from django.apps import AppConfig
from django.db.models import Prefetch
from django.db.models.signals import post_delete, post_save


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self):
        from django.contrib.auth import get_user_model
        from taggit.models import Tag

        from films import slugs
        from films.cache import (
            catalogue_changed,
            register_due_refresh,
            register_next_change,
            schedule_changed,
        )
        from films.models import register_film_page_prefetch
        from films.sitemaps import register_activity
        from reviews.models import Review, film_review_keys_refresh_due
        from reviews.sitemaps import latest_review_change

        slugs.register(
            Review,
            kind="review",
            source=lambda review: f"{review.film.title} {review.film.year} {review.headline}",
        )
        # Keywords and film tags share taggit's Tag; their pages live in this app.
        slugs.register(Tag, kind="keyword", source=lambda tag: tag.name)

        # The film list counts reviewed films and sorts by rating, and a scheduled publication
        # or an expiry changes both when its time comes, with no write.
        register_next_change(Review.objects.next_visibility_change)
        # The films' stored sort keys follow when that time comes, before anyone reads them.
        register_due_refresh(film_review_keys_refresh_due)
        # A film's page lists its published reviews (as film.published_reviews), and genre and
        # service pages rate films.
        register_film_page_prefetch(_film_page_reviews)
        register_activity(latest_review_change)
        post_save.connect(schedule_changed, sender=Review, dispatch_uid="catalogue-review")
        post_delete.connect(schedule_changed, sender=Review, dispatch_uid="catalogue-review")
        # A renamed or deleted tag changes tag pages and the pages that link to them.
        post_save.connect(catalogue_changed, sender=Tag, dispatch_uid="catalogue-tag")
        post_delete.connect(catalogue_changed, sender=Tag, dispatch_uid="catalogue-tag")
        # Bylines show their author's name. A new user, a log-in (last_login) or a rehashed
        # password shows nowhere, and must not throw every cached page away.
        user = get_user_model()
        post_save.connect(author_changed, sender=user, dispatch_uid="catalogue-author")
        post_delete.connect(catalogue_changed, sender=user, dispatch_uid="catalogue-author")


UNSEEN_USER_FIELDS = frozenset({"last_login", "password"})


def author_changed(created=False, update_fields=None, **kwargs):
    from films.cache import catalogue_changed

    if created or (update_fields is not None and set(update_fields) <= UNSEEN_USER_FIELDS):
        return
    catalogue_changed()


def _film_page_reviews() -> Prefetch:
    from reviews.models import Review

    return Prefetch("reviews", queryset=Review.objects.for_film_page(), to_attr="published_reviews")
