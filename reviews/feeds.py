from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.cache import patch_cache_control
from django.utils.text import Truncator

from reviews.models import Review


class LatestReviewsFeed(Feed):
    title = "filmmag: latest reviews"
    link = reverse_lazy("reviews:review_list")
    description = "The newest film reviews published by filmmag."

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        # With Last-Modified alone, browsers and proxies may reuse the feed for a tenth of its
        # age without asking, past a scheduled review's time: they must ask each time.
        patch_cache_control(response, no_cache=True)
        return response

    def items(self):
        return Review.objects.published().for_feed()[:20]

    def item_title(self, review):
        return f"{review.film}: {review.headline}"

    def item_description(self, review):
        return Truncator(review.synopsis or review.critique).words(60)

    def item_author_name(self, review):
        return review.displayed_byline

    def item_pubdate(self, review):
        return review.published_at

    def item_updateddate(self, review):
        return review.modified_at
