"""A small magazine with real pictures on every kind of public page, for the page-wide checks
(tests/browser/test_public_pages.py, tests/test_html_validity.py).

Posters, stills, portraits, logos and a review's own lead image are small Pillow images saved
through the models' checked image fields, so their renditions are made as an editor's upload
makes them. Beside them: films without a poster (the placeholder), a review without a picture
of its own (it falls back to the film's), a transparent logo, and hostile-but-legal names
(accents, Cyrillic, CJK, quotes, a title as long as the column allows).
"""

import io
import random
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image, ImageDraw

from films.models import Film, Still
from reviews.preview import preview_link_create
from tests.factories import make_editor, make_film, make_person, make_review, make_service

LONG_TITLE = (
    "L’Année dernière à Marienbad, ou « Le Dernier Été » : "
    "„Ein sehr langer Titel“ — Ďáblova past, Łódź, Ærø, " + "Ποτέ την Κυριακή · " + "x" * 200
)[: Film._meta.get_field("title").max_length]


@dataclass
class PictureSite:
    """``pages``: page kind -> URL. ``pictures``: a picture's name -> its renditions key, the
    folder its files are served from (``/media/renditions/<k[:2]>/<key>/...``)."""

    pages: dict[str, str] = field(default_factory=dict)
    pictures: dict[str, str] = field(default_factory=dict)


def image_bytes(size, *, seed: int, image_format="JPEG", transparent=False) -> bytes:
    """A picture with something in it (a gradient and shapes, so encoders have work to do and
    screenshots tell pictures apart)."""
    rng = random.Random(seed)
    width, height = size
    top = tuple(rng.randrange(40, 220) for _ in range(3))
    bottom = tuple(rng.randrange(0, 120) for _ in range(3))
    image = Image.new("RGBA" if transparent else "RGB", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not transparent:
        for y in range(height):
            t = y / max(1, height - 1)
            draw.line(
                [(0, y), (width, y)],
                fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
            )
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(min(size) // 10, min(size) // 3)
        colour = tuple(rng.randrange(256) for _ in range(3)) + (255,)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    draw.rectangle([width // 10, height * 7 // 10, width * 9 // 10, height * 8 // 10], fill="white")
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def attach(instance, field_name: str, data: bytes, name: str, **fields) -> str:
    """Save ``data`` into the image field as an upload would; return its renditions key."""
    for attr, value in fields.items():
        setattr(instance, attr, value)
    getattr(instance, field_name).save(name, ContentFile(data), save=False)
    instance.save()
    renditions_field = {
        "poster": "poster_renditions",
        "portrait": "portrait_renditions",
        "logo": "logo_renditions",
        "lead_image": "lead_image_renditions",
        "image": "renditions",
    }[field_name]
    key = getattr(instance, renditions_field).get("key")
    assert key, f"no renditions were made for {instance}'s {field_name}"
    return key


def make_picture_site() -> PictureSite:
    site = PictureSite()
    pics = site.pictures

    criterion = make_service("Criterion Channel")
    pics["criterion logo"] = attach(
        criterion, "logo", image_bytes((320, 120), seed=1), "c.jpg", logo_alt="Criterion Channel"
    )
    mubi = make_service("Mubi")
    pics["mubi logo"] = attach(
        mubi,
        "logo",
        image_bytes((256, 256), seed=2, image_format="PNG", transparent=True),
        "m.png",
        logo_alt="Mubi",
    )
    make_service("Ciné+ Ōsaka 映画")  # no logo

    samoilova = make_person(
        "Tatiana Samoilova", original_name="Татьяна Самойлова", birth_year=1934, death_year=2014
    )
    pics["samoilova portrait"] = attach(
        samoilova,
        "portrait",
        image_bytes((480, 600), seed=3),
        "s.jpg",
        portrait_alt="Tatiana Samoilova in 1957",
        portrait_credit="© Mosfilm",
    )
    kalatozov = make_person("Mikhail Kalatozov", original_name="Михаил Калатозов")
    pics["kalatozov portrait"] = attach(
        kalatozov, "portrait", image_bytes((400, 400), seed=4), "k.jpg", portrait_alt="Kalatozov"
    )

    cranes = make_film(
        "The Cranes Are Flying",
        year=1957,
        original_title="Летят журавли",
        runtime=97,
        logline="A young woman waits for her fiancé to come back from the front.",
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        cast=[("Tatiana Samoilova", "Veronika"), ("Aleksey Batalov", "Boris")],
        availability=[
            ("Criterion Channel", "subscription"),
            ("Mubi", "subscription", "GB"),
            ("Ciné+ Ōsaka 映画", "rent"),
        ],
    )
    cranes.tags.add("soviet cinema")
    pics["cranes poster"] = attach(
        cranes,
        "poster",
        image_bytes((480, 720), seed=5),
        "cranes.jpg",
        poster_alt="Poster for The Cranes Are Flying (1957)",
        poster_credit="© Mosfilm",
    )
    for n, seed in enumerate((6, 7), start=1):
        pics[f"cranes still {n}"] = attach(
            Still(film=cranes, order=n, caption=f"Veronika on the stairs, take {n}"),
            "image",
            image_bytes((960, 540), seed=seed),
            f"still{n}.jpg",
            alt_text=f"Veronika runs up the stairs ({n})",
            credit="Photo: Sergey Urusevsky",
        )

    marienbad = make_film(
        "L’Année dernière à Marienbad “quoted” & 'single'",
        year=1961,
        original_title="L'Année dernière à Marienbad",
        genres=["Drama", "Mystery"],
        directors=["Alain Resnais"],
        availability=[("Mubi", "buy", "GB")],
    )
    pics["marienbad poster"] = attach(
        marienbad,
        "poster",
        image_bytes((400, 600), seed=8, image_format="PNG"),
        "m.png",
        poster_alt="Poster for Last Year at Marienbad",
    )
    tokyo = make_film(
        "東京物語",
        year=1953,
        original_title="Tōkyō monogatari",
        genres=["Drama"],
        directors=["小津安二郎"],
    )
    pics["tokyo poster"] = attach(
        tokyo,
        "poster",
        image_bytes((600, 900), seed=9, image_format="WEBP"),
        "t.webp",
        poster_alt="Poster for Tokyo Story (1953)",
    )
    long_film = make_film(
        LONG_TITLE,
        year=1959,
        original_title="Иваново детство",
        genres=["War"],
        directors=["Андрей Тарковский"],
    )  # no poster: the placeholder
    make_film("Иваново детство", year=1962, genres=["War", "Drama"])  # no poster either

    cranes_review = make_review(
        cranes,
        headline="Love and war in one breathless take",
        rating=4.5,
        synopsis="Veronika and Boris part when he volunteers for the front.",
        critique="Urusevsky's camera runs, climbs and spins with her grief.\n\n" * 3,
        criticisms="The last reel leans on speeches.",
        conclusion="One of the great films about waiting.",
        keywords=["soviet cinema", "long takes"],
    )
    pics["cranes lead"] = attach(
        cranes_review,
        "lead_image",
        image_bytes((1280, 720), seed=10),
        "lead.jpg",
        lead_image_alt="Veronika among the cranes",
        lead_image_caption="Veronika watches the cranes fly over Moscow.",
        lead_image_credit="© Mosfilm",
    )
    # Its lead picture is the film's poster (no still, no image of its own).
    marienbad_review = make_review(
        marienbad,
        headline="« Rien n’a changé » — a maze of “memory” & 'desire'",
        rating=3.5,
        keywords=["mémoire", "нуар", "迷宮"],
    )
    make_review(long_film, headline=LONG_TITLE[:150], rating=2)  # no picture at all
    draft = make_review(tokyo, published=False, headline="東京物語: a draft to preview")
    link = preview_link_create(review=draft, by=make_editor())

    films = reverse("films:film_list")
    site.pages = {
        "home": reverse("reviews:home"),
        "review-list": reverse("reviews:review_list"),
        "review": cranes_review.get_absolute_url(),
        "review-poster-lead": marienbad_review.get_absolute_url(),
        "tag": reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}),
        "preview-link": reverse("reviews:preview_link_detail", kwargs={"token": link.token}),
        "film-list": films,
        "film-list-filtered": f"{films}?genre=war&sort=year",
        "film-search": f"{films}?q=cranes",
        "film-list-empty": f"{films}?q=nothing+matches+this",
        "search": f"{reverse('reviews:search')}?q=cranes",
        "search-long": f"{reverse('reviews:search')}?q={'x' * 300}",
        "film": cranes.get_absolute_url(),
        "film-no-poster": long_film.get_absolute_url(),
        "person": samoilova.get_absolute_url(),
        "genre": reverse("films:genre_detail", kwargs={"slug": "war"}),
        "service": criterion.get_absolute_url(),
        "not-found": "/no-such-page/",
    }
    return site
