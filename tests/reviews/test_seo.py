"""What the review pages and the home page tell search engines and link previews: the Review
and WebSite JSON-LD (read with extruct), Open Graph, canonical and robots."""

import io
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from tests.factories import make_film, make_review
from tests.page_meta import read_head

pytestmark = pytest.mark.django_db


@pytest.fixture
def review():
    film = make_film(
        "The Cranes Are Flying",
        original_title="Летят журавли",
        release_date=date(1957, 10, 12),
        directors=["Mikhail Kalatozov"],
    )
    return make_review(
        film,
        headline="A Soviet Cinematic Masterpiece",
        standfirst="Kalatozov’s war film soars.",
        byline="Ines Marlowe",
        rating="4.5",
        synopsis="Veronika and Boris.\n\nThe war comes.",
        critique="Urusevsky's camera flies.",
        criticisms="The ending is rushed.\n\nThe score insists.",
        conclusion="See it.",
        keywords=["soviet cinema"],
    )


def test_the_review_page_is_an_article_with_its_own_address(client, review):
    head = read_head(client.get(review.get_absolute_url() + "?utm_source=x&gclid=y"))

    url = f"http://testserver{review.get_absolute_url()}"
    assert head.title == (
        "A Soviet Cinematic Masterpiece: The Cranes Are Flying (1957) review · filmmag"
    )
    assert head.description == "Kalatozov’s war film soars."
    assert head.canonical == url and head.og["og:url"] == url
    assert head.robots is None
    assert head.og["og:type"] == "article"
    assert (
        head.og["og:title"] == "A Soviet Cinematic Masterpiece: The Cranes Are Flying (1957) review"
    )


def test_the_review_data_is_the_reviews(client, review):
    [data] = read_head(client.get(review.get_absolute_url())).json_ld

    assert data["@context"] == "https://schema.org" and data["@type"] == "Review"
    assert data["name"] == "A Soviet Cinematic Masterpiece"
    assert data["description"] == "Kalatozov’s war film soars."
    assert data["url"] == f"http://testserver{review.get_absolute_url()}"
    assert data["author"] == {"@type": "Person", "name": "Ines Marlowe"}
    assert data["publisher"]["@type"] == "Organization"
    assert data["publisher"]["name"] == "filmmag"
    assert data["publisher"]["url"] == "http://testserver/"
    assert data["datePublished"] == review.published_at.isoformat(timespec="seconds")
    assert data["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": "4.5",
        "bestRating": "5",
        "worstRating": "0.5",
    }
    assert data["reviewBody"] == (
        "Veronika and Boris.\n\nThe war comes.\n\nUrusevsky's camera flies.\n\n"
        "The ending is rushed.\n\nThe score insists.\n\nSee it."
    )
    assert data["negativeNotes"] == {
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "The ending is rushed."},
            {"@type": "ListItem", "position": 2, "name": "The score insists."},
        ],
    }
    assert data["itemReviewed"] == {
        "@type": "Movie",
        "name": "The Cranes Are Flying",
        "alternateName": "Летят журавли",
        "url": "http://testserver/films/the-cranes-are-flying/",
        "datePublished": "1957-10-12",
        "director": [
            {
                "@type": "Person",
                "name": "Mikhail Kalatozov",
                "url": "http://testserver/people/mikhail-kalatozov/",
            }
        ],
    }


def test_an_unrated_review_without_criticisms_leaves_them_out(client, review):
    plain = make_review(review.film, headline="Notes", rating=None, criticisms="")

    [data] = read_head(client.get(plain.get_absolute_url())).json_ld

    assert "reviewRating" not in data and "negativeNotes" not in data


def test_the_review_shares_its_lead_picture(client, review):
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), "teal").save(buffer, "JPEG")
    review.lead_image_alt = "Veronika on the stairs"
    review.lead_image.save("lead.jpg", ContentFile(buffer.getvalue()))

    head = read_head(client.get(review.get_absolute_url()))

    review.refresh_from_db()
    og = "http://testserver" + review.lead_picture.og_url
    assert head.og["og:image"] == og and head.json_ld[0]["image"] == og
    assert head.og["og:image:alt"] == "Veronika on the stairs"
    assert head.twitter_card == "summary_large_image"


@pytest.mark.parametrize(
    "text",
    [
        "</script><script>alert(1)</script>",
        "</SCRIPT ><img src=x onerror=alert(1)>",
        "<!-- <script> -->",
        "]]> & &amp; \u2028\u2029 \x1b",  # (PostgreSQL stores no NUL)
    ],
)
def test_no_review_text_can_break_out_of_the_json_ld(client, review, text):
    hostile = make_review(
        review.film,
        headline=text[:200],
        byline=text[:120],
        synopsis=text,
        criticisms=text,
        conclusion=text,
    )

    response = client.get(hostile.get_absolute_url())
    head = read_head(response)

    [data] = head.json_ld  # one block, whole
    assert data["name"] == text[:200]
    assert text in data["reviewBody"]
    assert data["author"]["name"] == text[:120]
    html = response.content.decode()
    start = html.index('<script type="application/ld+json">')
    block = html[start : html.index("</script>", start)]
    assert "<" not in block[len('<script type="application/ld+json">') :]
    assert ">" not in block[len('<script type="application/ld+json">') :]
    assert "&" not in block


def test_a_review_description_is_cut_at_a_word_within_160_characters(client, review):
    long = make_review(review.film, headline="Long", synopsis="The war comes to Moscow. " * 20)

    head = read_head(client.get(long.get_absolute_url()))

    assert len(head.description) <= 160 and head.description.endswith(" war…")
    assert ("The war comes to Moscow. " * 20).startswith(head.description[:-1] + " ")


def test_a_preview_is_not_indexed(admin_client, review):
    draft = make_review(review.film, headline="Not yet", published=False)

    head = read_head(admin_client.get(draft.get_absolute_url()))

    assert head.robots == "noindex" and head.canonical is None
    assert "datePublished" not in head.json_ld[0]


def test_the_home_page_is_the_website_with_its_search(client, review):
    head = read_head(client.get(reverse("reviews:home"), {"utm_source": "x"}))

    assert head.canonical == "http://testserver/" and head.og["og:type"] == "website"
    assert head.description.endswith(
        "Latest: A Soviet Cinematic Masterpiece (The Cranes Are Flying)."
    )
    [site] = head.json_ld
    assert site["@type"] == "WebSite" and site["url"] == "http://testserver/"
    assert site["potentialAction"] == {
        "@type": "SearchAction",
        "target": {
            "@type": "EntryPoint",
            "urlTemplate": "http://testserver/search/?q={search_term_string}",
        },
        "query-input": "required name=search_term_string",
    }


def test_later_pages_of_review_lists_are_followed_not_indexed(client, review):
    for n in range(21):
        make_review(review.film, headline=f"Review {n}", keywords=["soviet cinema"])

    first = read_head(client.get(reverse("reviews:review_list")))
    second = read_head(client.get(reverse("reviews:review_list"), {"page": 2, "ref": "x"}))
    tag = read_head(client.get("/tags/soviet-cinema/", {"page": "2"}))

    assert first.robots is None and first.canonical == "http://testserver/reviews/"
    assert second.robots == "noindex, follow"
    assert second.canonical == "http://testserver/reviews/?page=2"
    assert second.title == "Reviews, page 2 · filmmag"
    assert tag.robots == "noindex, follow"
    assert tag.canonical == "http://testserver/tags/soviet-cinema/?page=2"
