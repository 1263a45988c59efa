"""The public pages of the site's database, by kind, as JSON: bench/load.py's page mix.

    DATABASE_URL=... .venv/bin/python bench/load_pages.py

URLs come from the models' get_absolute_url() and the URL names, so they are the links the
site itself prints. Large kinds (people, tags) are sampled, with a fixed seed.
"""

import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = 80


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "filmmag.settings")
    import django

    django.setup()
    json.dump(pages(), sys.stdout, indent=1)


def pages() -> dict[str, list[str]]:
    from urllib.parse import quote, urlencode

    from django.db.models import Count
    from django.urls import NoReverseMatch, reverse
    from taggit.models import Tag

    from filmmag.urls import sitemaps
    from films.models import Availability, Credit, Film, Genre, Person, StreamingService
    from reviews.models import Review
    from reviews.views import public_use

    rng = random.Random(1957)

    def sample(items):
        items = list(items)
        return items if len(items) <= SAMPLE else rng.sample(items, SAMPLE)

    def tag_url(slug):
        try:
            return reverse("reviews:tag_detail", kwargs={"slug": slug})
        except NoReverseMatch:  # a slug the URL pattern refuses: request it all the same
            return f"/tags/{quote(slug)}/"

    film_list = reverse("films:film_list")
    genres = list(Genre.objects.annotate(n=Count("films")).filter(n__gt=0))
    services = list(StreamingService.objects.annotate(n=Count("availabilities")).filter(n__gt=0))
    directors = Person.objects.filter(credits__role=Credit.Role.DIRECTOR).distinct()
    decades = sorted({year // 10 * 10 for year in Film.objects.values_list("year", flat=True)})
    words = sorted({w for t in Film.objects.values_list("title", flat=True) for w in t.split()})
    filters = (
        [{"genre": g.slug} for g in genres]
        + [{"service": s.slug} for s in services]
        + [{"offer": offer} for offer in Availability.OfferType.values]
        + [{"decade": d} for d in decades]
        + [{"director": p.slug} for p in sample(directors)]
        + [{"reviewed": "yes"}, {"reviewed": "no"}, {"page": 2}]
        + [{"sort": sort} for sort in ("-year", "year", "reviewed", "rating")]
        + [{"q": word} for word in rng.sample(words, min(10, len(words)))]
        + [
            {"genre": g.slug, "service": s.slug, "sort": "-year"}
            for g, s in zip(genres, services, strict=False)
        ]
        + [{"genre": g.slug, "decade": d} for g, d in zip(genres, decades, strict=False)]
    )
    people = list(directors) + sample(Person.objects.exclude(pk__in=directors))
    return {
        "home": [reverse("reviews:home")],
        "film list": [film_list],
        "film list, filtered": [f"{film_list}?{urlencode(f, doseq=True)}" for f in filters],
        "film": [f.get_absolute_url() for f in Film.objects.all()],
        "review": [r.get_absolute_url() for r in Review.objects.published()],
        "review list": [reverse("reviews:review_list")],
        "person": [p.get_absolute_url() for p in sample(people)],
        "genre": [g.get_absolute_url() for g in genres],
        "service": [s.get_absolute_url() for s in services],
        "tag": [tag_url(t.slug) for t in sample(Tag.objects.filter(public_use()))],
        "feed": [reverse("reviews:review_feed")],
        "sitemap": [
            reverse("django.contrib.sitemaps.views.index"),
            *(
                reverse("django.contrib.sitemaps.views.sitemap", kwargs={"section": section})
                for section in sitemaps
            ),
        ],
    }


if __name__ == "__main__":
    main()
