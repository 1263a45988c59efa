from django.contrib.sitemaps import Sitemap

from reviews.models import Review


class ReviewSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return Review.objects.published().order_by("-published_at")

    def lastmod(self, review):
        return review.modified_at
