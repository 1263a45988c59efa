import base64
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from films.cache import catalogue_version
from films.models import Credit, Film, Person
from reviews.admin_import import IMPORT_PERMISSIONS
from reviews.models import Review
from tests.factories import make_film, make_user

pytestmark = pytest.mark.django_db

URL = "/admin/reviews/review/import/"
CRANES = Path(settings.BASE_DIR) / "reviews/demo/reviews/the-cranes-are-flying.txt"
# An unknown header: the parser warns about it and imports the rest.
WITH_WARNING = CRANES.read_text(encoding="utf-8").replace(
    "Genre: Drama", "Rating: five stars\nGenre: Drama", 1
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(client):
    user = make_user("editor", superuser=True)
    client.force_login(user)
    return user


def upload(name="the-cranes-are-flying.txt", content=None):
    content = WITH_WARNING.encode() if content is None else content
    return SimpleUploadedFile(name, content, content_type="text/plain")


def preview(client, **data):
    return client.post(URL, {"step": "preview", "text": "", **data})


def hidden(response, name):
    return re.search(rf'name="{name}" value="([^"]*)"', response.content.decode()).group(1)


def nothing_written():
    return not (Film.objects.exists() or Review.objects.exists() or Person.objects.exists())


def test_the_url_is_named_and_the_change_list_links_to_it(client, editor):
    assert reverse("admin:reviews_review_import") == URL

    response = client.get(reverse("admin:reviews_review_changelist"))

    assert response.status_code == 200
    assert f'href="{URL}"' in response.content.decode()
    assert "Import review document" in response.content.decode()


def test_the_upload_page_has_breadcrumbs_and_no_inline_script(client, editor):
    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<ol class="breadcrumbs">' in page
    assert 'href="/admin/reviews/review/"' in page
    assert 'enctype="multipart/form-data"' in page
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", page))
    assert " style=" not in page and "onclick" not in page


def test_upload_preview_confirm_imports_a_draft_with_the_ticked_credit(client, editor):
    response = preview(client, document=upload())

    assert response.status_code == 200
    assert nothing_written()  # a preview writes nothing
    assert "<h1>Import review document</h1>" in response.content.decode()
    assert "Unknown header “Rating: five stars” ignored." in response.content.decode()
    assert "Will create the film." in response.content.decode()
    assert "Will create a draft review." in response.content.decode()
    assert "<h2>Where to watch (US)</h2>" in response.content.decode()
    assert "<tr><td>Criterion Channel</td><td>Subscription</td></tr>" in response.content.decode()
    credits = response.context["confirm_form"].parsed.suggested_credits
    assert [c.person for c in credits][:3] == [
        "Tatiana Samoilova",
        "Aleksey Batalov",
        "Sergei Urusevsky",
    ]
    checkboxes = re.findall(
        r'<input type="checkbox" name="credits"[^>]*>', response.content.decode()
    )
    assert len(checkboxes) == len(credits)
    assert not any("checked" in box for box in checkboxes)
    assert "Veronika (Tatiana Samoilova)" in response.content.decode()  # the evidence

    response = client.post(
        URL,
        {
            "step": "confirm",
            "payload": hidden(response, "payload"),
            "filename": hidden(response, "filename"),
            "credits": ["0"],
        },
    )

    review = Review.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reviews_review_change", args=[review.pk])
    assert review.status == Review.Status.DRAFT
    assert review.author == editor
    assert review.film.title == "The Cranes Are Flying"
    non_directors = review.film.credits.exclude(role=Credit.Role.DIRECTOR)
    assert [(c.person.name, c.role, c.character) for c in non_directors] == [
        ("Tatiana Samoilova", "actor", "Veronika")
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Imported “A Soviet Cinematic Masterpiece”: created" in page


def test_a_preview_keeps_the_film_lists_cached_counts(client, editor):
    version = catalogue_version()

    response = preview(client, document=upload())

    assert "Will create the film." in response.text
    assert catalogue_version() == version


def test_the_document_is_parsed_again_on_confirm(client, editor):
    """The hidden field carries the document, not a summary: a changed payload is what counts."""
    other = WITH_WARNING.replace("A Soviet Cinematic Masterpiece", "Wings of Grief", 1)

    client.post(
        URL,
        {
            "step": "confirm",
            "payload": base64.b64encode(other.encode()).decode(),
            "filename": "x.txt",
        },
    )

    assert Review.objects.get().headline == "Wings of Grief"
    assert not Credit.objects.exclude(role=Credit.Role.DIRECTOR).exists()


def test_pasted_text_works_like_an_upload(client, editor):
    response = preview(client, text=CRANES.read_text(encoding="utf-8"))

    assert response.status_code == 200
    assert "A Soviet Cinematic Masterpiece" in response.content.decode()

    response = client.post(
        URL, {"step": "confirm", "payload": hidden(response, "payload"), "filename": ""}
    )

    assert response.status_code == 302
    assert Review.objects.get().critique.count("\n\n") == 5
    assert not Credit.objects.exclude(role=Credit.Role.DIRECTOR).exists()


def test_the_preview_says_when_the_film_already_exists(client, editor):
    make_film("The Cranes Are Flying", year=1957)

    response = preview(client, document=upload())

    assert (
        "Will update the existing film The Cranes Are Flying (1957)." in response.content.decode()
    )
    assert Film.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"document": upload("poster.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")}, "binary"),
        ({"document": upload("big.txt", b"x" * 1_000_001)}, "the limit is 1 MB"),
        ({"document": upload("empty.txt", b"")}, "The submitted file is empty."),
        ({"document": upload("latin.txt", "Les Misérables".encode("latin-1"))}, "not UTF-8"),
        ({"text": "   \n  "}, "Choose a review document to upload, or paste its text."),
        ({}, "Choose a review document to upload, or paste its text."),
        ({"document": upload(), "text": "Vertigo (1958)"}, "not both"),
        ({"text": "Just a line of text"}, "has no sections"),
    ],
    ids=["binary", "over-1mb", "empty-file", "not-utf8", "blank-text", "nothing", "both", "junk"],
)
def test_bad_input_shows_an_error_and_writes_nothing(client, editor, data, message):
    response = preview(client, **data)

    assert response.status_code == 200
    assert "Please correct the error below." in response.content.decode()
    assert message in response.content.decode()
    assert "confirm_form" not in response.context
    assert nothing_written()


def with_keyword_line(line):
    text = CRANES.read_text(encoding="utf-8").rstrip("\n")
    return text.rsplit("\n", 1)[0] + "\n" + line + "\n"


@pytest.mark.parametrize(
    ("keyword_line", "message"),
    [
        (", ".join(f"keyword {i}" for i in range(10_000)), "has 10,000 keywords"),
        ("war, love, <script>alert(1)</script>", "has HTML markup (“&lt;script&gt;"),
        ("war, love, " + "k" * 150, "has a keyword of 150 characters"),
    ],
    ids=["10000-keywords", "markup", "150-characters"],
)
@pytest.mark.parametrize("how", ["upload", "paste"])
def test_a_bad_keyword_line_is_refused_naming_the_problem(
    client, editor, keyword_line, message, how
):
    text = with_keyword_line(keyword_line)
    data = {"document": upload("review.txt", text.encode())} if how == "upload" else {"text": text}

    response = preview(client, **data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "confirm_form" not in response.context
    assert nothing_written()


def test_an_upload_larger_than_memory_buffering_is_refused_by_its_size(client, editor, settings):
    # Over FILE_UPLOAD_MAX_MEMORY_SIZE Django streams the upload to a temporary file.
    size = settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 500_000

    response = preview(client, document=upload("huge.txt", b"x" * size))

    assert f"“huge.txt” is {size:,} bytes; the limit is 1 MB." in response.content.decode()
    assert nothing_written()


@pytest.mark.parametrize(
    "payload", ["not base64 at all!", "", base64.b64encode(b"\x00\x01").decode()]
)
def test_a_damaged_payload_on_confirm_is_an_error_not_a_500(client, editor, payload):
    response = client.post(URL, {"step": "confirm", "payload": payload, "filename": "x.txt"})

    assert response.status_code == 200
    assert "Please correct the error below." in response.content.decode()
    assert nothing_written()


def test_an_unknown_credit_choice_redisplays_the_preview(client, editor):
    payload = base64.b64encode(CRANES.read_bytes()).decode()

    response = client.post(URL, {"step": "confirm", "payload": payload, "credits": ["99"]})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert nothing_written()


def test_staff_without_the_add_review_permission_are_refused(client):
    user = make_user("viewer", staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_review"))
    client.force_login(user)

    assert client.get(URL).status_code == 403
    assert preview(client, document=upload()).status_code == 403
    assert nothing_written()


def staff_with(*perms, username="writer"):
    """A staff user holding exactly ``perms`` ("app_label.codename")."""
    user = make_user(username, staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def import_button_shown(client):
    response = client.get(reverse("admin:reviews_review_changelist"))
    assert response.status_code == 200
    return f'href="{URL}"' in response.text


def test_staff_with_only_the_add_review_permission_are_refused(client):
    """An import also creates catalogue rows and rewrites existing (even published) reviews."""
    client.force_login(staff_with("reviews.view_review", "reviews.add_review"))

    assert client.get(URL).status_code == 403
    assert preview(client, document=upload()).status_code == 403
    payload = base64.b64encode(CRANES.read_bytes()).decode()
    assert client.post(URL, {"step": "confirm", "payload": payload}).status_code == 403
    assert nothing_written()
    assert not import_button_shown(client)


def test_staff_with_the_import_permissions_may_import(client):
    client.force_login(staff_with(*IMPORT_PERMISSIONS))

    assert client.get(URL).status_code == 200
    response = preview(client, document=upload())
    response = client.post(
        URL, {"step": "confirm", "payload": hidden(response, "payload"), "filename": ""}
    )

    assert response.status_code == 302
    assert Review.objects.get().film.title == "The Cranes Are Flying"
    assert import_button_shown(client)


@pytest.mark.parametrize("missing", IMPORT_PERMISSIONS)
def test_staff_lacking_any_one_import_permission_are_refused_and_see_no_button(client, missing):
    others = [perm for perm in IMPORT_PERMISSIONS if perm != missing]
    client.force_login(staff_with("reviews.view_review", *others))

    assert client.get(URL).status_code == 403
    assert not import_button_shown(client)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
