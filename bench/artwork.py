"""Pictures for the demo magazine when it has none of its own, for `make lighthouse` and
`make bench` (image bytes per page).

    DATABASE_URL=... DJANGO_MEDIA_ROOT=... .venv/bin/python bench/artwork.py

When any film already has a poster (the demo's own artwork), nothing is added. Otherwise every
film gets a 1000x1500 poster, every reviewed film a 1920x1080 still, the directors of reviewed
films a portrait and every service a transparent logo, saved through the models' image fields
as an upload is, so their renditions are made. The images are generated: soft shapes under
texture, which compresses about as a photograph does (a flat drawing would flatter the byte
counts). Prints a JSON summary: the pictures added and the showcase review and film pages.
"""

import io
import json
import os
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent


def photo(size: tuple[int, int], *, seed: int, transparent: bool = False) -> Image.Image:
    """A photograph-like image: coloured shapes, blurred, with texture (RGBA shapes on nothing
    when ``transparent``, like a logo)."""
    rng = random.Random(seed)
    width, height = size
    small = (max(8, width // 8), max(8, height // 8))
    if transparent:
        image = Image.new("RGBA", small, (0, 0, 0, 0))
    else:
        image = Image.new("RGB", small)
        top = [rng.randrange(30, 230) for _ in range(3)]
        bottom = [rng.randrange(0, 120) for _ in range(3)]
        draw = ImageDraw.Draw(image)
        for y in range(small[1]):
            t = y / (small[1] - 1)
            colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
            draw.line([(0, y), (small[0], y)], fill=colour)
    draw = ImageDraw.Draw(image)
    for _ in range(9):
        x, y = rng.randrange(small[0]), rng.randrange(small[1])
        r = rng.randrange(min(small) // 12 + 1, min(small) // 3 + 2)
        colour = (*(rng.randrange(256) for _ in range(3)), 255)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    image = image.resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(3))
    if transparent:
        return image
    # Texture at two scales, so detail survives the scaling down to a 160 px poster as a
    # photograph's does (fine grain alone averages out, and flatters the small renditions).
    for scale, weight in ((12, 0.2), (3, 0.12)):
        small = (max(1, width // scale), max(1, height // scale))
        texture = (
            Image.effect_noise(small, 64).convert("RGB").resize(size, Image.Resampling.BICUBIC)
        )
        image = Image.blend(image, texture, weight)
    return image


def encoded(image: Image.Image, image_format: str = "JPEG") -> bytes:
    out = io.BytesIO()
    options = {"quality": 90} if image_format == "JPEG" else {}
    image.save(out, image_format, **options)
    return out.getvalue()


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "filmmag.settings")
    import django

    django.setup()
    from django.core.files.base import ContentFile

    from films.models import Credit, Film, Person, Still, StreamingService
    from reviews.models import Review

    def save(instance, field: str, data: bytes, name: str, **fields):
        for attr, value in fields.items():
            setattr(instance, attr, value)
        getattr(instance, field).save(name, ContentFile(data), save=False)
        instance.save()

    added = {"posters": 0, "stills": 0, "portraits": 0, "logos": 0}
    if not Film.objects.exclude(poster="").exists():
        reviewed = set(Review.objects.published().values_list("film_id", flat=True))
        for n, film in enumerate(Film.objects.order_by("pk")):
            save(film, "poster", encoded(photo((1000, 1500), seed=n)), "poster.jpg",
                 poster_alt=film.suggested_poster_alt)  # fmt: skip
            added["posters"] += 1
            if film.pk in reviewed:
                still = Still(film=film, alt_text=f"A scene from {film.title}")
                save(still, "image", encoded(photo((1920, 1080), seed=1000 + n)), "still.jpg")
                added["stills"] += 1
        directors = Person.objects.filter(
            credits__role=Credit.Role.DIRECTOR, credits__film__in=reviewed, portrait=""
        ).distinct()
        for n, person in enumerate(directors):
            save(person, "portrait", encoded(photo((800, 1000), seed=2000 + n)), "p.jpg",
                 portrait_alt=f"{person.name}")  # fmt: skip
            added["portraits"] += 1
        for n, service in enumerate(StreamingService.objects.filter(logo="")):
            logo = photo((512, 256), seed=3000 + n, transparent=True)
            save(service, "logo", encoded(logo, "PNG"), "logo.png", logo_alt=service.name)
            added["logos"] += 1

    review = (
        Review.objects.published().select_related("film").order_by("-published_at", "pk").first()
    )
    json.dump(
        {
            "added": added,
            "posters": Film.objects.exclude(poster="").count(),
            "films": Film.objects.count(),
            "review": review.get_absolute_url() if review else None,
            "film": review.film.get_absolute_url() if review else None,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
