"""A merged keyword stays merged when a review document that still names it is imported."""

from pathlib import Path

import pytest
from django.conf import settings
from taggit.models import Tag

from films.tags import tags_merge
from reviews.models import Review
from reviews.parser import parse_document
from reviews.services import review_import

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR) / "reviews/demo/reviews/the-cranes-are-flying.txt"


@pytest.fixture
def document():
    return parse_document(FIXTURE.read_bytes(), filename=FIXTURE.name)


def test_importing_a_document_again_after_a_merge_does_not_bring_the_merged_keyword_back(
    document,
):
    document.keywords = ["Soviet cinema", "cranes"]
    review_import(document=document)
    kept = Tag.objects.create(name="Soviet film")
    tags_merge(tags=[Tag.objects.get(name="Soviet cinema"), kept], into=kept)

    report = review_import(document=document)

    assert sorted(Review.objects.get().keywords.names()) == ["Soviet film", "cranes"]
    assert not Tag.objects.filter(name="Soviet cinema").exists()
    assert not report.changed


def test_a_new_document_naming_a_merged_keyword_gets_the_kept_one(document):
    merged, kept = Tag.objects.create(name="soviet cinema"), Tag.objects.create(name="Soviet film")
    tags_merge(tags=[merged, kept], into=kept)
    document.keywords = ["Soviet Cinema", "cranes"]

    review_import(document=document)

    assert sorted(Review.objects.get().keywords.names()) == ["Soviet film", "cranes"]
