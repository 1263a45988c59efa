import io
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from films.models import Availability, Still
from reviews.models import Review
from tests.factories import make_film, make_review, make_service
from tests.query_counting import count_queries

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
        "/sitemap-reviews.xml",
        "/sitemap-tags.xml",
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
    assert '<p class="standfirst">See it.</p>' in html  # the conclusion's first sentence
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
    assert data["itemReviewed"]["director"] == [
        {
            "@type": "Person",
            "name": "Mikhail Kalatozov",
            "url": "http://testserver/people/mikhail-kalatozov/",
        }
    ]
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


def test_a_keyword_only_films_carry_shows_their_posters_and_no_empty_reviews_section(client, film):
    film.tags.add("soviet cinema")

    response = client.get(reverse("reviews:tag_detail", kwargs={"slug": "soviet-cinema"}))

    assertNotContains(response, "No published reviews with this keyword.")
    assertNotContains(response, 'id="tag-reviews"')
    assertContains(
        response,
        '<div class="poster-placeholder film-card__poster" aria-hidden="true">'
        '<span class="poster-placeholder__title">The Cranes Are Flying</span>'
        '<span class="poster-placeholder__year">1957</span></div>',
        html=True,
    )
    assertContains(
        response,
        '<p class="film-card__title">'
        '<a href="/films/the-cranes-are-flying/">The Cranes Are Flying</a> '
        '<span class="film-card__year">1957</span></p>',
        html=True,
    )


# --- The magazine's look: lead story, standfirst, lead picture, "Filed under" ----------------


def jpeg(size=(640, 360), colour="navy"):

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def add_still(film, **fields):

    still = Still(film=film, alt_text=f"A still from {film.title}", **fields)
    still.image.save("still.jpg", ContentFile(jpeg()), save=True)
    return still


def add_poster(film):

    film.poster_alt = f"Poster for {film.title}"
    film.poster.save("poster.jpg", ContentFile(jpeg((400, 600))), save=True)


def img_tags(html):

    return re.findall(r"<img [^>]*>", html)


def test_home_leads_with_the_newest_review_its_picture_and_standfirst(client, film, published):
    still = add_still(film, caption="Veronika on the stairs", credit="© Mosfilm")
    older_film = make_film("Ivan's Childhood", year=1962)
    add_still(older_film)
    make_review(
        older_film,
        headline="A boy at war",
        published_at=timezone.now() - timedelta(days=5),
        conclusion="Harrowing. Essential.",
    )

    response = client.get(reverse("reviews:home"))

    lead_url = published.get_absolute_url()
    assertContains(
        response,
        f'<h2 class="lead-story__headline" id="lead-heading">'
        f'<a href="{lead_url}">A Soviet Cinematic Masterpiece</a></h2>',
        html=True,
    )
    assertContains(response, '<p class="standfirst">See it.</p>', html=True)
    assertContains(response, "By Ines Marlowe")
    html = response.content.decode()
    lead_img, card_img = img_tags(html)
    assert still.picture.url("still", 640) in lead_img
    assert 'fetchpriority="high"' in lead_img and 'loading="lazy"' not in lead_img
    assert 'width="640" height="360"' in lead_img and 'sizes="' in lead_img
    assert 'srcset="' in lead_img
    assert 'loading="lazy"' in card_img and 'alt=""' in card_img
    assert html.index("A Soviet Cinematic Masterpiece") < html.index("A boy at war")
    assertContains(
        response,
        '<p class="review-card__standfirst">Harrowing.</p>',
        html=True,
    )


def test_a_review_without_a_still_leads_with_the_film_poster(client, film, published):
    add_poster(film)

    html = client.get(reverse("reviews:home")).content.decode()

    (img,) = img_tags(html)
    assert "lead-story__image--poster" in img
    assert 'alt="Poster for The Cranes Are Flying"' in img


def test_home_offers_genres_services_with_logos_and_decades(client, film, published):

    service = make_service("Criterion Channel", logo_alt="Criterion Channel logo")
    service.logo.save("logo.png", ContentFile(jpeg((256, 128), "white")), save=True)
    Availability.objects.create(film=film, service=service, offer_type="subscription")
    make_film("Solaris", year=1972, genres=["Science fiction"])

    response = client.get(reverse("reviews:home"))

    films = reverse("films:film_list")
    assertContains(
        response,
        f'<a href="{films}?decade=1950">1950s <span class="chips__count">(1)</span></a>',
        html=True,
    )
    assertContains(response, f'<a href="{films}?decade=1970">1970s', html=False)
    html = response.content.decode()
    assert service.get_absolute_url() in html
    (logo,) = [img for img in img_tags(html) if "services__logo" in img]
    assert 'alt=""' in logo  # the service's name is beside it
    decade = client.get(f"{films}?decade=1950")
    assert [f.title for f in decade.context["films"]] == ["The Cranes Are Flying"]


def test_home_query_count_does_not_grow_with_pictures(client):

    def add(n):
        for _ in range(n):
            film = make_film(genres=["Drama"])
            add_still(film)
            add_still(film, order=1)
            make_review(film)

    add(2)
    expected = count_queries(client, reverse("reviews:home"))
    add(6)
    assert count_queries(client, reverse("reviews:home")) == expected == 3
    assert count_queries(client, reverse("reviews:review_list")) == 3


def test_review_page_shows_the_editors_standfirst_under_the_headline(client, film):

    review = make_review(
        film,
        standfirst="Kalatozov’s “cranes” fly — «журавли» and 鶴 alike.",
        conclusion="Not this. Nor this.",
    )

    response = client.get(review.get_absolute_url())

    assertContains(
        response,
        '<p class="standfirst">Kalatozov’s “cranes” fly — «журавли» and 鶴 alike.</p>',
        html=True,
    )
    assertContains(
        response,
        '<meta name="description" content="Kalatozov’s “cranes” fly — «журавли» and 鶴 alike.">',
        html=True,
    )
    card = client.get(reverse("reviews:review_list"))
    assertContains(
        card,
        '<p class="review-card__standfirst">Kalatozov’s “cranes” fly — «журавли» and 鶴 alike.</p>',
        html=True,
    )


def test_without_a_standfirst_the_conclusions_first_sentence_stands_in(client, film):

    review = make_review(
        film,
        conclusion="Dr. Zhivago fans, take note: it’s 97 min. of U.S.-style grief. Or not.",
    )
    no_conclusion = make_review(film, headline="Short notice", conclusion="")

    response = client.get(review.get_absolute_url())

    assertContains(
        response,
        '<p class="standfirst">Dr. Zhivago fans, take note: it’s 97 min. of U.S.-style grief.</p>',
        html=True,
    )
    assertNotContains(client.get(no_conclusion.get_absolute_url()), 'class="standfirst"')


def test_editor_text_in_the_standfirst_is_escaped(client, film):
    review = make_review(film, standfirst="<img src=x onerror=alert(1)> & more")

    html = client.get(review.get_absolute_url()).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" in html


def test_review_page_shows_its_lead_image_as_a_figure_with_caption_and_credit(client, film):

    review = make_review(film)
    review.lead_image_alt = "Veronika runs through the burning city"
    review.lead_image_caption = "Veronika (Tatiana Samoilova) in the one-take run"
    review.lead_image_credit = "© Mosfilm / “Photo” <Archive>"
    review.lead_image.save("lead.jpg", ContentFile(jpeg((1280, 720))), save=True)
    add_still(film, caption="Not this still")

    response = client.get(review.get_absolute_url())

    assertContains(
        response,
        "<figcaption><span class='review__caption'>Veronika (Tatiana Samoilova) in the one-take "
        "run</span> <span class='credit'>© Mosfilm / “Photo” &lt;Archive&gt;</span></figcaption>",
        html=True,
    )
    html = response.content.decode()
    (img,) = [img for img in img_tags(html) if "review__image" in img]
    assert 'alt="Veronika runs through the burning city"' in img
    assert 'fetchpriority="high"' in img and 'width="1280" height="720"' in img
    assert "Not this still" not in html


def test_a_still_leads_the_review_with_its_own_caption_and_credit(client, film, published):

    add_still(film, caption="Boris and Veronika", credit="Photo: Mosfilm")

    response = client.get(published.get_absolute_url())

    assertContains(
        response,
        '<figcaption><span class="review__caption">Boris and Veronika</span> '
        '<span class="credit">Photo: Mosfilm</span></figcaption>',
        html=True,
    )


def test_filed_under_leaves_out_keywords_that_repeat_the_title(client):

    film = make_film("Amélie", original_title="Le Fabuleux Destin d'Amélie Poulain", year=2001)
    keywords = [
        "Amelie 2001 movie review",
        "AMÉLIE streaming",
        "Le fabuleux destin d’Amélie Poulain Netflix",
        "Audrey Tautou",
        "Paris films",
    ]
    review = make_review(film, keywords=keywords)

    response = client.get(review.get_absolute_url())

    assertContains(
        response,
        '<footer class="review__keywords"><h2>Filed under</h2><ul class="tags">'
        '<li><a href="/tags/audrey-tautou/">Audrey Tautou</a></li>'
        '<li><a href="/tags/paris-films/">Paris films</a></li></ul></footer>',
        html=True,
    )
    assertNotContains(response, ">Amelie 2001 movie review</a>")
    html = response.content.decode()

    (content,) = re.findall(r'<meta name="keywords" content="([^"]*)">', html)
    assert sorted(content.split(", ")) == sorted(keywords)
    hidden = client.get(reverse("reviews:tag_detail", kwargs={"slug": "amelie-streaming"}))
    assert hidden.status_code == 200
    assertContains(hidden, review.headline)


def test_a_review_whose_keywords_all_repeat_the_title_has_no_filed_under(client, film):

    review = make_review(film, keywords=["The Cranes Are Flying 1957 review"])

    assertNotContains(client.get(review.get_absolute_url()), "Filed under")


def test_review_list_cards_show_their_pictures_the_first_not_lazily(client):
    for n in range(3):
        film = make_film(f"Film {n}")
        add_still(film)
        make_review(film, published_at=timezone.now() - timedelta(days=n + 1))

    response = client.get(reverse("reviews:review_list"))

    first, *others = img_tags(response.content.decode())
    assert len(others) == 2
    assert 'loading="lazy"' not in first and 'class="review-card__image"' in first
    assert all('loading="lazy"' in img for img in others)
