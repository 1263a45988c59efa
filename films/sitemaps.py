from django.contrib.sitemaps import Sitemap

from films.models import Film, Genre, Person


class FilmSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return Film.objects.order_by("pk")

    def lastmod(self, film):
        return film.updated_at


class PersonSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return Person.objects.filter(credits__isnull=False).distinct().order_by("pk")


class GenreSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return Genre.objects.order_by("pk")
