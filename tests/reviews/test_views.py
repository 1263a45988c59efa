from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.models import Review
from tests.factories import make_film, make_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def film():
    return make_film(
        "The Cranes Are Flying",
        year=1957,
        genres=["Drama", "War"],
        directors=["Mikhail Kalatozov"],
        runtime=97,
    )


@pytest.fixture
def published(film):
    return make_review(
        film,
        headline="A Soviet Cinematic Masterpiece",
        byline="Ines Marlowe",
        rating="4.5",
        synopsis="First paragraph.\n\nSecond paragraph.",
        critique="Critique text.",
        criticisms="Some slowness.",
        conclusion="See it.",
        keywords=["Soviet war dramas", "Mikhail Kalatozov films"],
    )


@pytest.fixture
def draft(film):
    return make_review(film, headline="Unfinished draft", published=False, keywords=["secret"])


@pytest.fixture
def scheduled(film):
    return make_review(
        film,
        headline="Scheduled for next week",
        published_at=timezone.now() + timedelta(days=7),
        keywords=["secret"],
    )


def test_review_page_shows_the_structured_review(client, published):
    response = client.get(published.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>A Soviet Cinematic Masterpiece</h1>" in html
    assert "By Ines Marlowe" in html
    assert "4.5 out of 5" in html
    assert "Mikhail Kalatozov" in html and "97 minutes" in html
    headings = ["Synopsis", "Critique", "Criticisms", "Conclusion"]
    positions = [html.index(f">{h}</h2>") for h in headings]
    assert positions == sorted(positions)
    assert "<p>First paragraph.</p><p>Second paragraph.</p>" in html
    assert reverse("reviews:tag_detail", kwargs={"slug": "soviet-war-dramas"}) in html


def test_review_text_is_escaped(client, film):
    review = make_review(film, synopsis="<script>alert(1)</script> & more")

    html = client.get(review.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_drafts_and_scheduled_reviews_are_404(client, draft, scheduled):
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(scheduled.get_absolute_url()).status_code == 404


def test_drafts_and_scheduled_reviews_appear_nowhere_public(
    client, film, published, draft, scheduled
):
    pages = [
        reverse("reviews:home"),
        reverse("reviews:review_list"),
        reverse("reviews:review_feed"),
        film.get_absolute_url(),
        reverse("films:film_list"),
        reverse("reviews:tag_detail", kwargs={"slug": "secret"}),
        "/sitemap.xml",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "Unfinished draft" not in html, url
        assert "Scheduled for next week" not in html, url
        assert draft.slug not in html, url
        assert scheduled.slug not in html, url


def test_film_list_reviewed_facet_ignores_drafts(client, film, draft, scheduled):
    response = client.get(reverse("films:film_list"), {"reviewed": "yes"})

    assert list(response.context["films"]) == []


def test_home_shows_latest_published_reviews_and_browsing_links(client, published):
    html = client.get(reverse("reviews:home")).content.decode()

    assert "A Soviet Cinematic Masterpiece" in html
    assert "The Cranes Are Flying" in html
    assert "First paragraph." in html  # excerpt
    assert reverse("films:genre_detail", kwargs={"slug": "war"}) in html


def test_review_list_newest_first(client, film):
    make_review(film, headline="Older", published_at=timezone.now() - timedelta(days=9))
    make_review(film, headline="Newer", published_at=timezone.now() - timedelta(days=1))

    html = client.get(reverse("reviews:review_list")).content.decode()

    assert html.index("Newer") < html.index("Older")


def test_tag_page_lists_published_reviews_with_the_keyword(client, published):
    response = client.get(reverse("reviews:tag_detail", kwargs={"slug": "soviet-war-dramas"}))

    assert response.status_code == 200
    assert "A Soviet Cinematic Masterpiece" in response.content.decode()


def test_unknown_tag_and_review_are_404(client):
    assert client.get(reverse("reviews:tag_detail", kwargs={"slug": "nope"})).status_code == 404
    assert client.get(reverse("reviews:review_detail", kwargs={"slug": "nope"})).status_code == 404


def test_feed_lists_published_reviews(client, published):
    response = client.get(reverse("reviews:review_feed"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    assert "A Soviet Cinematic Masterpiece" in response.content.decode()


def test_published_is_the_one_visibility_rule(published, draft, scheduled):
    assert list(Review.objects.published()) == [published]
    assert published.is_public() and not draft.is_public() and not scheduled.is_public()


def test_review_page_carries_structured_data_for_search_engines(client, published):
    import json
    import re

    response = client.get(published.get_absolute_url())

    html = response.content.decode()
    block = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert data["@type"] == "Review"
    assert data["itemReviewed"]["name"] == "The Cranes Are Flying"
    assert data["itemReviewed"]["director"] == [{"@type": "Person", "name": "Mikhail Kalatozov"}]
    assert data["reviewRating"]["ratingValue"] == "4.5"
    assert data["author"]["name"] == "Ines Marlowe"
    assert f'<link rel="canonical" href="http://testserver{published.get_absolute_url()}">' in html


def test_structured_data_names_the_lead_picture_and_the_poster(client, published):
    import io
    import json
    import re

    from django.core.files.base import ContentFile
    from PIL import Image

    film = published.film
    buffer = io.BytesIO()
    Image.new("RGB", (800, 1200), "navy").save(buffer, "JPEG")
    film.poster_alt = "Poster for The Cranes Are Flying (1957)"
    film.poster.save("poster.jpg", ContentFile(buffer.getvalue()))

    html = client.get(published.get_absolute_url()).content.decode()

    block = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    film.refresh_from_db()
    og = film.poster_picture.og_url
    assert data["image"] == f"http://testserver{og}"
    assert (
        data["itemReviewed"]["image"]
        == f"http://testserver{film.poster_picture.url('poster', 640)}"
    )
    assert f'<meta property="og:image" content="http://testserver{og}">' in html


def test_structured_data_cannot_break_out_of_its_script(client, film):
    review = make_review(film, headline="</script><script>alert(1)</script>")

    html = client.get(review.get_absolute_url()).content.decode()

    assert "</script><script>alert(1)" not in html


def test_a_keyword_only_drafts_use_has_no_public_page(client, draft, scheduled):
    assert client.get(reverse("reviews:tag_detail", kwargs={"slug": "secret"})).status_code == 404


def test_a_keyword_a_film_carries_has_a_page(client, film):
    film.tags.add("soviet cinema")

    response = client.get(reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}))

    assert response.status_code == 200
    assert "The Cranes Are Flying" in response.content.decode()
