"""Pictures in the admin (films/admin_pictures.py): thumbnails in the lists, previews with the
focal point beside the image inputs, alt text required with a suggestion, stills inline."""

import html
import io
import re

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from films.models import Film, Person, Still, StreamingService
from films.pictures import rendition_names
from reviews.models import Review
from tests.factories import make_film, make_person, make_review, make_service
from tests.hostile import HOSTILE_NAMES, max_length, sized
from tests.query_counting import count_queries

pytestmark = pytest.mark.django_db

CRANES = "The Cranes Are Flying"
CRANES_POSTER_ALT = "Poster for The Cranes Are Flying (1957)"


def image_bytes(size=(60, 90), colour="red", image_format="PNG"):
    """Left half ``colour``, right half blue, so crops at different focal points differ."""
    image = Image.new("RGB", size, colour)
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def upload(name="upload.png", **kwargs):
    return SimpleUploadedFile(name, image_bytes(**kwargs), content_type="image/png")


def with_image(obj, field, alt, *, size=(60, 90), **fields):
    setattr(obj, f"{field}_alt" if field != "image" else "alt_text", alt)
    for name, value in fields.items():
        setattr(obj, name, value)
    getattr(obj, field).save("upload.png", ContentFile(image_bytes(size)), save=True)
    return obj


def film_with_poster(title=CRANES, year=1957, **fields):
    film = make_film(title, year=year)
    return with_image(film, "poster", f"Poster for {film}", **fields)


def add_still(film, order=0, alt="", size=(160, 90), colour="red", **fields):
    still = Still(film=film, order=order, alt_text=alt or f"A still from {film}", **fields)
    still.image.save("still.png", ContentFile(image_bytes(size, colour)), save=True)
    return still


def media_files():
    root = settings.MEDIA_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def management_form(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def film_change_data(film, *, stills=(), new_stills=(), **fields):
    """POST data for the film's change form; ``stills`` are its saved stills as they are,
    ``new_stills`` dicts of fields for rows added in the inline."""
    data = {
        "title": film.title,
        "slug": film.slug,
        "original_title": film.original_title,
        "release_date": "",
        "year": str(film.year),
        "runtime": "",
        "original_language": "",
        "logline": "",
        "tags": "",
        "poster_alt": film.poster_alt,
        "poster_credit": film.poster_credit,
        "poster_focal_x": str(film.poster_focal_x),
        "poster_focal_y": str(film.poster_focal_y),
        "loaded_version": str(film.version),
        **management_form("credits", 0),
        **management_form("availabilities", 0),
        **management_form("stills", len(stills) + len(new_stills), initial=len(stills)),
    }
    rows = [
        {
            "id": still.pk,
            "film": film.pk,
            "alt_text": still.alt_text,
            "caption": still.caption,
            "credit": still.credit,
            "order": still.order,
            "focal_x": still.focal_x,
            "focal_y": still.focal_y,
        }
        for still in stills
    ]
    rows += [{"film": film.pk, **row} for row in new_stills]
    for i, row in enumerate(rows):
        data.update({f"stills-{i}-{key}": value for key, value in row.items()})
    data.update(fields)
    return data


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def list_url(model):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def thumbnail_html(picture):
    width, height = picture.size(next(iter(picture.renditions["specs"])))
    scale = 64 / max(width, height)
    return (
        f'<img class="picture-thumb" src="{picture.thumbnail_url}" '
        f'width="{round(width * scale)}" height="{round(height * scale)}" alt="" loading="lazy">'
    )


def row_of(response, text):
    """The change list's row containing ``text``, unescaped."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", response.text, re.S)
    return html.unescape(next(row for row in rows if text in row))


def input_value(response, name):
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', response.text)
    assert match, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', match[0])
    return html.unescape(value[1]) if value else ""


# --- Thumbnails in the lists ---------------------------------------------------------------


def test_the_film_list_shows_each_posters_thumbnail_from_its_renditions(admin_client):
    film = film_with_poster()
    make_film("Летят журавли без постера", year=1957)

    response = admin_client.get(list_url(Film))

    picture = film.poster_picture
    assert "/renditions/" in picture.thumbnail_url and "poster-" in picture.thumbnail_url
    assertContains(response, thumbnail_html(picture), count=1, html=True)
    assertContains(response, 'width="43" height="64"')  # a 2:3 poster in a 64 px box
    assertNotContains(response, film.poster.url)  # never the original
    # The title, not the thumbnail, links to the film.
    assertContains(response, f'<a href="{change_url(film)}">{CRANES}</a>', html=True)


def test_people_and_services_lists_show_portraits_and_logos(admin_client):
    person = with_image(make_person("宮崎駿 “Hayao” Miyazaki"), "portrait", "", size=(80, 100))
    service = with_image(make_service("Кинопоиск"), "logo", "Кинопоиск logo", size=(120, 40))

    people = admin_client.get(list_url(Person))
    services = admin_client.get(list_url(StreamingService))

    assertContains(people, thumbnail_html(person.portrait_picture), html=True)
    assertContains(services, thumbnail_html(service.logo_picture), html=True)
    assert "portrait-" in person.portrait_picture.thumbnail_url
    assert "logo-" in service.logo_picture.thumbnail_url


def test_the_review_list_shows_the_lead_picture_and_says_when_it_is_the_films(admin_client):
    own = with_image(make_review(film_with_poster(), headline="Own"), "lead_image", "A kiss")
    still_film = film_with_poster("Ivan's Childhood", 1962)
    add_still(still_film, alt="Ivan at the well")
    from_still = make_review(still_film, headline="From the still")
    from_poster = make_review(film_with_poster("Солярис", 1972), headline="From the poster")
    make_review(make_film("No pictures at all", year=1990), headline="Bare")

    response = admin_client.get(list_url(Review))

    assertContains(response, thumbnail_html(own.lead_picture), html=True)
    row = {
        review.headline: row_of(response, review.headline)
        for review in (own, from_still, from_poster)
    }
    assert "The film's" not in row["Own"]
    assert from_still.lead_picture.thumbnail_url in row["From the still"]
    assert "The film's first still" in row["From the still"]
    assert from_poster.lead_picture.thumbnail_url in row["From the poster"]
    assert "The film's poster" in row["From the poster"]


def make_rows_with_pictures(n, start):
    for i in range(start, start + n):
        film = film_with_poster(f"Фильм «{i}»", 1950 + i)
        add_still(film, alt=f"Still {i}")
        with_image(make_person(f"Person {i}"), "portrait", f"Portrait of Person {i}")
        with_image(make_service(f"Service {i}"), "logo", f"Service {i} logo", size=(40, 20))
        make_review(film, headline=f"Own lead {i}")
        with_image(make_review(film, headline=f"Lead {i}"), "lead_image", "A frame")


def test_the_lists_queries_do_not_grow_with_their_pictures(admin_client):
    urls = [list_url(model) for model in (Film, Person, StreamingService, Review)]
    make_rows_with_pictures(1, 0)
    with_one = [count_queries(admin_client, url) for url in urls]

    make_rows_with_pictures(23, 1)
    with_24 = [count_queries(admin_client, url) for url in urls]

    assert with_24 == with_one
    response = admin_client.get(list_url(Review))
    assert response.text.count('class="picture-thumb"') == 48  # every review shows one


# --- Previews on the change forms ----------------------------------------------------------


def test_the_film_form_shows_the_whole_poster_with_its_crop_at_the_focal_point(admin_client):
    # A wide poster, so the 2:3 crop is narrower than the image: 40% of its width.
    film = film_with_poster(size=(150, 150), poster_focal_x=10, poster_focal_y=50)

    response = admin_client.get(change_url(film))

    picture = film.poster_picture
    whole = picture.url("whole")
    assert "whole-" in whole and whole != film.poster.url
    assertContains(
        response,
        f'<img class="picture-preview__image" src="{whole}" width="150" height="150" '
        f'alt="Current poster: {CRANES_POSTER_ALT}">',
        html=True,
    )
    # 2:3 of a 150 px square is 100 px wide, pushed to the left edge by the focal point.
    assertContains(
        response,
        '<rect class="picture-preview__crop" x="0.00" y="0.00" width="66.67" height="100.00"/>',
        html=True,
    )
    assertContains(response, "films/admin/pictures.js")
    assertContains(response, "films/admin/pictures.css")
    assertContains(response, 'data-focal="poster_focal"')
    assertContains(response, 'data-ratio="2/3"')


def test_each_picture_form_shows_its_current_image_from_a_rendition(admin_client):
    person = with_image(make_person("Mikhail Kalatozov"), "portrait", "Kalatozov", size=(80, 100))
    service = with_image(make_service("Max"), "logo", "Max logo", size=(120, 40))
    film = film_with_poster()
    still = add_still(film, caption="Veronika on the stairs")
    review = with_image(make_review(film), "lead_image", "Boris in the birch wood")

    for obj, picture, ratio in [
        (person, person.portrait_picture, "4/5"),
        (film, still.picture, "16/9"),
        (review, review.lead_picture, "16/9"),
    ]:
        response = admin_client.get(change_url(obj))
        assertContains(response, f'src="{picture.url("whole")}"')
        assertContains(response, f'data-ratio="{ratio}"')
    response = admin_client.get(change_url(service))
    # A logo is shown whole already and has no focal point.
    assertContains(response, f'src="{service.logo_picture.thumbnail_url}"')
    assertNotContains(response, "data-focal=")


def test_a_review_without_its_own_lead_image_shows_what_leads_it_instead(admin_client):
    film = film_with_poster()
    review = make_review(film)

    response = admin_client.get(change_url(review))

    assertContains(response, thumbnail_html(film.poster_picture), html=True)
    assertContains(
        response, "Without its own lead image, the review is led by the film&#x27;s poster"
    )


def test_a_picture_from_before_the_whole_rendition_is_shown_without_the_focal_picker(
    admin_client,
):
    film = film_with_poster()
    renditions = film.poster_renditions
    del renditions["specs"]["whole"]  # as made before SPEC_VERSION 2, until `manage.py renditions`
    Film.objects.filter(pk=film.pk).update(poster_renditions=renditions)
    film.refresh_from_db()

    response = admin_client.get(change_url(film))

    assertContains(response, f'src="{film.poster_picture.thumbnail_url}"')
    assertNotContains(response, "picture-preview__crop")
    assertNotContains(response, 'data-focal="')


# --- Alt text ------------------------------------------------------------------------------


def test_a_new_poster_without_alt_text_is_refused_with_the_suggestion_prefilled(admin_client):
    film = make_film(CRANES, year=1957)
    data = film_change_data(film, poster=upload("poster.png"), poster_alt="  ")

    response = admin_client.post(change_url(film), data)

    assert response.status_code == 200
    assertContains(
        response,
        f"Describe the image for readers who cannot see it. For example: “{CRANES_POSTER_ALT}”.",
    )
    assert input_value(response, "poster_alt") == CRANES_POSTER_ALT
    assertContains(response, "Choose the poster again")
    film.refresh_from_db()
    assert not film.poster
    assert media_files() == []

    data = film_change_data(film, poster=upload("poster.png"), poster_alt=CRANES_POSTER_ALT)
    assert admin_client.post(change_url(film), data).status_code == 302
    film.refresh_from_db()
    assert film.poster and film.poster_alt == CRANES_POSTER_ALT


def test_a_new_film_gets_its_poster_suggestion_from_what_the_editor_typed(admin_client):
    data = film_change_data(make_film("placeholder"), title="Ночь «Кабирии»", year="1957")
    data.update(slug="", loaded_version="", poster=upload("poster.png"), poster_alt="")

    response = admin_client.post(reverse("admin:films_film_add"), data)

    assert response.status_code == 200
    assert input_value(response, "poster_alt") == "Poster for Ночь «Кабирии» (1957)"
    assert not Film.objects.filter(title__startswith="Ночь").exists()


@pytest.mark.parametrize(
    "make, field, expected",
    [
        (lambda: make_person("Tatiana Samoilova"), "portrait", "Portrait of Tatiana Samoilova"),
        (lambda: make_service('The "Criterion" Channel'), "logo", 'The "Criterion" Channel logo'),
    ],
)
def test_a_portrait_or_logo_without_alt_text_gets_its_suggestion(
    admin_client, make, field, expected
):
    obj = make()
    url = change_url(obj)
    data = {"name": obj.name, "slug": obj.slug, field: upload(), f"{field}_alt": ""}
    if field == "portrait":
        data.update(portrait_focal_x="50", portrait_focal_y="50", bio="", original_name="")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert input_value(response, f"{field}_alt") == expected
    assertContains(response, "Describe the image for readers who cannot see it.")
    assert media_files() == []


@pytest.mark.parametrize("title", sized(HOSTILE_NAMES, max_length(Film, "title")))
def test_hostile_titles_make_escaped_suggestions_that_fit(admin_client, title):
    film = make_film(title, year=1957)

    response = admin_client.get(change_url(film))
    data = film_change_data(film, poster=upload(), poster_alt="")
    refused = admin_client.post(change_url(film), data)

    expected = f"Poster for {title} (1957)"
    assert len(expected) <= Film._meta.get_field("poster_alt").max_length
    assert f'data-suggestion="{escape(expected)}"' in response.text
    # The form strips the title it was sent, as it does before saving it.
    assert input_value(refused, "poster_alt") == f"Poster for {title.strip()} (1957)"
    assert "<script>alert" not in response.text and "<script>alert" not in refused.text


def test_an_image_stored_without_alt_text_is_offered_the_suggestion(admin_client):
    film = film_with_poster()
    Film.objects.filter(pk=film.pk).update(poster_alt="")  # from before alt text was required

    response = admin_client.get(change_url(film))

    assert input_value(response, "poster_alt") == CRANES_POSTER_ALT


def test_a_review_lead_image_without_alt_text_gets_a_suggestion(admin_client):
    review = make_review(make_film(CRANES, year=1957), published=False)
    data = {
        "film": review.film.pk,
        "headline": review.headline,
        "slug": review.slug,
        "byline": "",
        "author": review.author_id or "",
        "rating": "",
        "synopsis": review.synopsis,
        "critique": review.critique,
        "criticisms": "",
        "conclusion": "",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "keywords": "",
        "loaded_version": review.version,
        "lead_image": upload(size=(160, 90)),
        "lead_image_alt": "",
        "lead_image_focal_x": "50",
        "lead_image_focal_y": "50",
    }

    response = admin_client.post(change_url(review), data)

    assert response.status_code == 200
    expected = f"A still from {CRANES} (1957)"
    assert input_value(response, "lead_image_alt") == expected
    assertContains(response, f"For example: “{expected}”.")


# --- Focal point ---------------------------------------------------------------------------


def test_a_new_focal_point_saved_in_the_admin_makes_new_renditions(
    admin_client, django_capture_on_commit_callbacks
):
    film = film_with_poster(size=(180, 90))  # wide: the 2:3 crop shows a third of it
    before = film.poster_renditions

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            change_url(film), film_change_data(film, poster_focal_x="90", poster_focal_y="50")
        )

    assert response.status_code == 302
    film.refresh_from_db()
    assert (film.poster_focal_x, film.poster_focal_y) == (90, 50)
    assert film.poster_renditions["key"] != before["key"]
    # The crop moved to the right half: blue, where it was red around the centre-left.
    name = film.poster_renditions["specs"]["poster"]["files"]["jpeg"][0][1]
    with film.poster.storage.open(name) as file, Image.open(file) as crop:
        red, green, blue = crop.convert("RGB").getpixel((crop.width // 2, crop.height // 2))
    assert blue > 200 and red < 60
    # The old crops are gone; the original stays.
    storage = film.poster.storage
    assert storage.exists(film.poster.name)
    assert not any(storage.exists(name) for name in rendition_names(before))


def test_a_form_that_comes_back_outlines_the_crop_at_the_focal_point_typed(admin_client):
    film = film_with_poster(size=(150, 150))  # 2:3 crop centred: x from 16.67%
    data = film_change_data(film, poster_focal_x="100", slug="")
    data["title"] = ""  # refused: a title is required

    response = admin_client.post(change_url(film), data)

    assert response.status_code == 200
    assertContains(
        response,
        '<rect class="picture-preview__crop" x="33.33" y="0.00" width="66.67" height="100.00"/>',
        html=True,
    )


def test_a_focal_point_outside_0_to_100_is_refused(admin_client):
    film = film_with_poster()

    response = admin_client.post(change_url(film), film_change_data(film, poster_focal_x="140"))

    assert response.status_code == 200
    assertContains(response, "Ensure this value is less than or equal to 100.")


# --- Stills inline -------------------------------------------------------------------------


def test_stills_are_added_in_the_inline_and_shown_in_their_order(admin_client):
    film = make_film(CRANES, year=1957)
    data = film_change_data(
        film,
        new_stills=[
            {
                "image": upload("b.png", size=(160, 90), colour="green"),
                "alt_text": "Boris on the staircase",
                "caption": "«Журавли»",
                "credit": "© Mosfilm",
                "order": "2",
                "focal_x": "20",
                "focal_y": "80",
            },
            {
                "image": upload("a.png", size=(160, 90)),
                "alt_text": "Veronika in the rain",
                "caption": "",
                "credit": "",
                "order": "1",
                "focal_x": "",
                "focal_y": "",
            },
        ],
    )

    response = admin_client.post(change_url(film), data)

    assert response.status_code == 302
    stills = list(film.stills.all())
    assert [s.alt_text for s in stills] == ["Veronika in the rain", "Boris on the staircase"]
    assert (stills[1].caption, stills[1].credit, stills[1].focal_x) == (
        "«Журавли»",
        "© Mosfilm",
        20,
    )
    assert (stills[0].focal_x, stills[0].focal_y) == (50, 50)
    assert all(s.picture.has("still") for s in stills)

    page = admin_client.get(change_url(film)).text
    first, second = (page.index(s.picture.url("whole")) for s in stills)
    assert first < second
    assert input_value(admin_client.get(change_url(film)), "stills-0-alt_text") == (
        "Veronika in the rain"
    )


def test_a_still_without_alt_text_is_refused_with_a_suggestion(admin_client):
    film = make_film(CRANES, year=1957)
    data = film_change_data(
        film,
        new_stills=[{"image": upload(size=(160, 90)), "alt_text": "", "order": "0"}],
    )

    response = admin_client.post(change_url(film), data)

    assert response.status_code == 200
    assert input_value(response, "stills-0-alt_text") == f"A still from {CRANES} (1957)"
    assertContains(response, "Choose the still again")
    assert not film.stills.exists()
    assert media_files() == []


def test_a_still_that_is_not_an_image_is_refused_and_nothing_is_stored(admin_client):
    film = make_film(CRANES, year=1957)
    fake = SimpleUploadedFile("still.png", b"<svg onload=alert(1)>", content_type="image/png")
    data = film_change_data(film, new_stills=[{"image": fake, "alt_text": "A still", "order": "0"}])

    response = admin_client.post(change_url(film), data)

    assert response.status_code == 200
    assertContains(response, "“still.png” is not a JPEG, PNG")
    assert not film.stills.exists()
    assert media_files() == []


def test_removing_a_still_in_the_inline_deletes_it(
    admin_client, django_capture_on_commit_callbacks
):
    film = make_film(CRANES, year=1957)
    keep = add_still(film, order=0)
    gone = add_still(film, order=1, alt="Gone", colour="green")
    data = film_change_data(film, stills=[keep, gone])
    data["stills-1-DELETE"] = "on"

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(change_url(film), data).status_code == 302

    assert list(film.stills.all()) == [keep]
    storage = gone.image.storage
    assert not storage.exists(gone.image.name)
    assert not any(storage.exists(name) for name in rendition_names(gone.renditions))
