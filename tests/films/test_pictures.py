"""Renditions (films/pictures.py): made once on save, in every shape and format, without the
upload's metadata, and shown with no query per picture."""

import io

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory
from django.test.testcases import assert_and_parse_html
from django.urls import reverse
from PIL import Image

from films.images import FORMATS
from films.models import Film, Person, Still, StreamingService
from films.pictures import SPECS, crop_box, generate, rendition_names
from tests.factories import make_film
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

GPS = 0x8825
ORIENTATION = 0x0112


def photo(
    image_format="JPEG", size=(1200, 1800), *, left="red", right="blue", exif=True, mode="RGB"
):
    """Left half one colour, right half another; with a GPS position, a camera owner and an
    orientation of 6 (the camera was turned: show it rotated 90° clockwise)."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    options = {}
    if exif:
        tags = Image.Exif()
        tags[0x013B] = "Jane Doe"  # Artist
        tags[ORIENTATION] = 6
        tags[GPS] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
        options["exif"] = tags.tobytes()
    image.save(out, image_format, **options)
    return out.getvalue()


def film_with_poster(data=None, *, title="Vertigo", **fields):
    film = make_film(title, year=1958)
    film.poster_alt = f"Poster for {film}"
    for name, value in fields.items():
        setattr(film, name, value)
    film.poster.save("upload.bin", ContentFile(data or photo(exif=False)), save=True)
    return film


def rendition_files(pic, spec):
    return pic.renditions["specs"][spec]["files"]


def open_rendition(name):
    with default_storage.open(name, "rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


@pytest.mark.parametrize("image_format", list(FORMATS))
def test_each_format_gets_every_rendition_at_its_size_without_metadata(image_format):
    # 1800 × 1200 stored sideways (orientation 6): upright it is 1200 × 1800, a 2:3 poster.
    film = film_with_poster(photo(image_format, size=(1800, 1200)))
    pic = film.poster_picture

    files = rendition_files(pic, "poster")
    assert set(files) == {"webp", "jpeg"}
    for fmt, names in files.items():
        assert [w for w, _ in names] == [160, 320, 480, 640, 960]
        for width, name in names:
            image = open_rendition(name)
            assert image.format == {"webp": "WEBP", "jpeg": "JPEG"}[fmt]
            assert image.size == (width, width * 3 // 2)
            assert not image.getexif(), f"{name} kept EXIF"
            assert "exif" not in image.info and "xmp" not in image.info
    og = open_rendition(rendition_files(pic, "og")["jpeg"][0][1])
    assert og.size == (1200, 630) and not og.getexif()


def test_the_orientation_is_applied_before_the_metadata_goes():
    # Stored 1800 wide with red on the left; orientation 6 turns it upright, red on top.
    film = film_with_poster(photo(size=(1800, 1200), left="red", right="blue"))
    image = open_rendition(rendition_files(film.poster_picture, "poster")["jpeg"][-1][1])

    top, bottom = image.getpixel((image.width // 2, 5)), image.getpixel((image.width // 2, 900))
    assert top[0] > 200 and top[2] < 60, "the top should be red"
    assert bottom[2] > 200 and bottom[0] < 60, "the bottom should be blue"


def test_the_stored_upload_keeps_no_gps_or_owner_but_its_orientation_applied():
    film = film_with_poster(photo(size=(1800, 1200)))

    with default_storage.open(film.poster.name, "rb") as file:
        stored = Image.open(io.BytesIO(file.read()))
        assert stored.size == (1200, 1800)
        assert not stored.getexif()
        assert not stored.getexif().get_ifd(GPS)


def test_an_image_without_metadata_is_stored_byte_for_byte():
    data = photo("PNG", exif=False)
    film = film_with_poster(data)

    with default_storage.open(film.poster.name, "rb") as file:
        assert file.read() == data


@pytest.mark.parametrize(("focal_x", "colour"), [(0, "red"), (100, "blue")])
def test_the_crop_keeps_the_focal_point(focal_x, colour):
    # A wide still cropped to a 2:3 poster: the left or the right of it, as the editor chose.
    film = film_with_poster(photo(size=(3000, 1000), exif=False), poster_focal_x=focal_x)
    image = open_rendition(rendition_files(film.poster_picture, "poster")["jpeg"][0][1])

    r, _, b = image.getpixel((image.width // 2, image.height // 2))[:3]
    assert (r > 200 and b < 60) if colour == "red" else (b > 200 and r < 60)


def test_crop_box_stays_inside_the_image():
    assert crop_box((1000, 1000), (2, 3), (100, 100)) == (333, 0, 1000, 1000)
    assert crop_box((1000, 1000), (16, 9), (0, 0)) == (0, 0, 1000, 562)
    assert crop_box((1000, 1000), (16, 9), (50, 50)) == (0, 219, 1000, 781)


def test_a_new_focal_point_makes_new_renditions_and_removes_the_old(
    django_capture_on_commit_callbacks,
):
    film = film_with_poster(photo(size=(3000, 1000), exif=False))
    old = {
        name
        for names in rendition_files(film.poster_picture, "poster").values()
        for _, name in names
    }

    with django_capture_on_commit_callbacks(execute=True):
        film.poster_focal_x = 10
        film.save()

    new = {
        name
        for names in rendition_files(film.poster_picture, "poster").values()
        for _, name in names
    }
    assert old.isdisjoint(new)
    assert all(default_storage.exists(name) for name in new)
    assert not any(default_storage.exists(name) for name in old)


def test_saving_other_fields_makes_nothing_again(monkeypatch):
    film = film_with_poster()
    monkeypatch.setattr("films.pictures.generate", lambda *a, **k: pytest.fail("regenerated"))

    film.runtime = 128
    film.save()


def test_deleting_the_film_removes_its_renditions(django_capture_on_commit_callbacks):
    film = film_with_poster()
    names = [
        name for names in rendition_files(film.poster_picture, "og").values() for _, name in names
    ]

    with django_capture_on_commit_callbacks(execute=True):
        film.delete()

    assert names and not any(default_storage.exists(name) for name in names)


def test_the_same_upload_gives_the_same_renditions_byte_for_byte(tmp_path):
    """Renditions are encoded on threads; each file must still get its own format's options
    (a JPEG saved while a WebP of the same image was being saved once took the WebP's)."""
    storage = FileSystemStorage(location=tmp_path)
    source = storage.save("poster.png", ContentFile(photo("PNG", size=(1000, 1500), exif=False)))
    made = []
    for _ in range(3):
        renditions = generate(storage, source, "poster", (30, 70))
        made.append({name: storage.open(name).read() for name in rendition_names(renditions)})
        for name in made[-1]:
            storage.delete(name)
    assert made[0] == made[1] == made[2]
    for name, data in made[0].items():
        image = Image.open(io.BytesIO(data))
        assert image.format == {".jpg": "JPEG", ".webp": "WEBP"}[name[name.rindex(".") :]]
        if image.format == "JPEG":
            assert "progressive" in image.info  # the JPEG options, not the WebP's


def test_a_small_image_is_never_upscaled():
    film = film_with_poster(photo("PNG", size=(200, 300), exif=False))

    assert [w for w, _ in rendition_files(film.poster_picture, "poster")["jpeg"]] == [160]


def test_an_image_smaller_than_every_width_is_shown_at_its_own_size():
    film = film_with_poster(photo("PNG", size=(100, 150), exif=False))

    assert [w for w, _ in rendition_files(film.poster_picture, "poster")["jpeg"]] == [100]


def test_a_transparent_logo_keeps_its_transparency_with_a_png_fallback():
    service = StreamingService.objects.create(name="Kanopy", logo_alt="Kanopy logo")
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (0, 0, 300, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    service.logo.save("logo.png", ContentFile(out.getvalue()), save=True)

    files = rendition_files(service.logo_picture, "logo")
    assert set(files) == {"webp", "png"}
    assert [w for w, _ in files["png"]] == [64, 128, 256]
    logo = open_rendition(files["png"][-1][1])
    assert logo.size == (256, 85) and logo.mode == "RGBA"
    assert logo.getpixel((250, 40))[3] == 0


def test_avif_can_be_switched_on(settings):
    if "AVIF" not in FORMATS:
        pytest.skip("this Pillow has no AVIF")
    settings.FILMMAG_IMAGE_FORMATS = ("avif", "webp")
    film = film_with_poster()
    files = rendition_files(film.poster_picture, "poster")

    assert set(files) == {"avif", "webp", "jpeg"}
    assert open_rendition(files["avif"][0][1]).format == "AVIF"
    html = render('{% load pictures %}{% picture pic "poster" %}', pic=film.poster_picture)
    assert html.index('type="image/avif"') < html.index('type="image/webp"')


def test_a_stored_file_that_cannot_be_read_leaves_the_film_saved_without_renditions(caplog):
    film = film_with_poster()
    with default_storage.open(film.poster.name, "wb") as file:
        file.write(b"broken")
    film.poster_focal_x = 20
    film.save()

    film.refresh_from_db()
    assert film.poster_renditions == {} and not film.poster_picture
    assert "Could not make the renditions" in caplog.text


def test_alt_text_is_required_with_an_image_and_a_suggestion_is_given():
    film = film_with_poster()
    film.poster_alt = " "

    with pytest.raises(ValidationError) as error:
        film.full_clean()
    assert "Poster for Vertigo (1958)" in str(error.value.message_dict["poster_alt"])


def test_the_renditions_command_makes_what_is_missing():
    film = film_with_poster()
    Film.objects.filter(pk=film.pk).update(poster_renditions={})

    call_command("renditions", verbosity=0)

    film.refresh_from_db()
    assert film.poster_picture.has("poster")


# --- Showing ------------------------------------------------------------------------------------


def assertHTMLEqual(html, expected):  # noqa: N802 - as in Django's SimpleTestCase
    assert assert_and_parse_html(None, html, None, "") == assert_and_parse_html(
        None, expected, None, ""
    )


def render(source, **context):
    request = RequestFactory().get("/")
    return Template(source).render(Context({"request": request, **context}))


def test_picture_renders_sources_with_srcset_sizes_and_dimensions():
    film = film_with_poster()
    pic = film.poster_picture
    html = render(
        '{% load pictures %}{% picture pic "poster" sizes="12rem" class="poster" %}', pic=pic
    )

    webp = ", ".join(
        f"{default_storage.url(n)} {w}w" for w, n in rendition_files(pic, "poster")["webp"]
    )
    jpeg = ", ".join(
        f"{default_storage.url(n)} {w}w" for w, n in rendition_files(pic, "poster")["jpeg"]
    )
    src = default_storage.url(rendition_files(pic, "poster")["jpeg"][3][1])
    assertHTMLEqual(
        html,
        f'<picture><source type="image/webp" srcset="{webp}" sizes="12rem">'
        f'<img src="{src}" srcset="{jpeg}" sizes="12rem" width="960" height="1440" '
        f'alt="Poster for Vertigo (1958)" decoding="async" loading="lazy" class="poster">'
        "</picture>",
    )


def test_the_lead_image_is_eager_with_high_priority():
    html = render(
        '{% load pictures %}{% picture pic "poster" loading="eager" fetchpriority="high" %}',
        pic=film_with_poster().poster_picture,
    )

    assert 'fetchpriority="high"' in html and "loading=" not in html


def test_a_film_without_a_poster_gets_the_placeholder_with_its_title_and_year():
    film = make_film("Stalker", year=1979)
    html = render("{% load pictures %}{% poster film %}", film=film)

    assert "<img" not in html
    assert 'aria-label="No poster yet: Stalker (1979)"' in html and "Stalker" in html


def test_open_graph_image_is_the_1200_by_630_rendition(client):
    film = film_with_poster()
    html = client.get(film.get_absolute_url()).content.decode()

    og = rendition_files(film.poster_picture, "og")["jpeg"][0][1]
    assert (
        f'<meta property="og:image" content="http://testserver{default_storage.url(og)}">' in html
    )
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta property="og:image:height" content="630">' in html


def test_the_film_page_shares_its_first_still_over_its_poster(client):
    film = film_with_poster()
    still = Still(film=film, alt_text="Lina on the stairs", order=1)
    still.image.save("still.jpg", ContentFile(photo(size=(1600, 900), exif=False)), save=True)

    response = client.get(film.get_absolute_url())

    og = rendition_files(still.picture, "og")["jpeg"][0][1]
    assert f'content="http://testserver{default_storage.url(og)}"' in response.text


def test_a_reviews_lead_picture_falls_back_to_a_still_then_the_poster():
    from tests.factories import make_review

    film = film_with_poster()
    review = make_review(film)
    assert review.lead_picture.alt == "Poster for Vertigo (1958)"

    still = Still(film=film, alt_text="A still", order=0)
    still.image.save("still.jpg", ContentFile(photo(size=(1600, 900), exif=False)), save=True)
    review = type(review).objects.get(pk=review.pk)
    assert review.lead_picture.alt == "A still"

    review.lead_image_alt = "The writer's own"
    review.lead_image.save("lead.jpg", ContentFile(photo(size=(1600, 900), exif=False)))
    assert review.lead_picture.alt == "The writer's own"
    assert review.lead_picture.has("still") and review.lead_picture.has("og")


def test_the_film_lists_queries_do_not_grow_with_its_pictures(client):
    url = reverse("films:film_list")
    films = [film_with_poster(title="Film 0")]
    films += [make_film(f"Film {i}", year=1958) for i in range(1, 24)]
    cache.clear()  # both counts with cold caches (the tests never commit, so saves clear none)
    one = count_queries(client, url)
    assert client.get(url).text.count("<picture>") == 1
    for film in films[1:]:
        film.poster_alt = f"Poster for {film}"
        film.poster.save("p.png", ContentFile(photo("PNG", size=(300, 450), exif=False)))

    cache.clear()
    assert count_queries(client, url) == one
    assert client.get(url).text.count("<picture>") == 24


def test_a_persons_portrait_is_rendered_in_4_to_5():
    person = Person.objects.create(name="Tatiana Samoilova", portrait_alt="Tatiana Samoilova")
    person.portrait.save("p.jpg", ContentFile(photo(size=(800, 800), exif=False)), save=True)

    files = rendition_files(person.portrait_picture, "portrait")
    assert [(w, open_rendition(n).size) for w, n in files["jpeg"]] == [
        (96, (96, 120)),
        (192, (192, 240)),
        (384, (384, 480)),
    ]
    assert SPECS["portrait"].ratio == (4, 5)
