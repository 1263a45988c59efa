"""A review page's schema.org ``Review`` (the rest of the page's metadata: films/seo.py)."""

from films import seo
from films.templatetags.filmmag_tags import paragraphs


def review(review, request) -> dict:
    """From the review as ``Review.objects.for_detail()`` loads it: no query of its own."""
    film = review.film
    sections = [review.synopsis, review.critique, review.criticisms, review.conclusion]
    criticisms = paragraphs(review.criticisms)
    lead = review.lead_picture
    data = seo.compact(
        {
            "@type": "Review",
            "name": review.headline,
            "description": review.summary,
            "url": request.build_absolute_uri(review.get_absolute_url()),
            "image": request.build_absolute_uri(lead.og_url) if lead and lead.has("og") else None,
            "inLanguage": "en",
            "author": {"@type": "Person", "name": review.displayed_byline},
            "publisher": seo.organization(request),
            "datePublished": review.published_at.isoformat(timespec="seconds")
            if review.published_at
            else None,  # a draft in preview may have no time yet
            "dateModified": review.modified_at.isoformat(timespec="seconds"),
            "itemReviewed": seo.movie_ref(film, request),
            "reviewRating": seo.rating(review.rating),
            "reviewBody": "\n\n".join(text.strip() for text in sections if text.strip()),
            # The house format's "Criticisms" section is the review's list of faults.
            "negativeNotes": {
                "@type": "ItemList",
                "itemListElement": [
                    {"@type": "ListItem", "position": n, "name": text}
                    for n, text in enumerate(criticisms, start=1)
                ],
            }
            if criticisms
            else None,
            "keywords": ", ".join(tag.name for tag in review.keywords.all()),
        }
    )
    return {"@context": "https://schema.org", **data}
