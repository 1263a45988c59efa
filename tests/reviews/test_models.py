from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from reviews.models import Review, allow_state_writes
from tests.factories import make_film, make_review, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rating", ["0.5", "3", "4.5", "5"])
def test_half_star_ratings_are_accepted(rating):
    review = make_review(rating=Decimal(rating))
    review.refresh_from_db()

    assert review.rating == Decimal(rating)


@pytest.mark.parametrize("rating", ["0", "4.3", "5.5"])
def test_other_ratings_are_refused_by_the_database(rating):
    film = make_film()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(film=film, headline="x", rating=Decimal(rating))


def test_database_refuses_published_review_without_time():
    review = make_review(published=False)
    with pytest.raises(IntegrityError), transaction.atomic(), allow_state_writes():
        Review.objects.filter(pk=review.pk).update(status="published", published_at=None)


def test_published_excludes_drafts_and_future_times():
    live = make_review()
    make_review(published=False)
    make_review(published_at=timezone.now() + timedelta(hours=1))

    assert list(Review.objects.published()) == [live]


def test_database_refuses_an_expiry_not_after_the_publication_time():
    review = make_review()
    with pytest.raises(IntegrityError, match="review_expires_after_publication"):
        with transaction.atomic(), allow_state_writes():
            Review.objects.filter(pk=review.pk).update(expires_at=review.published_at)


def test_published_excludes_expired_reviews():
    now = timezone.now()
    live = make_review(published_at=now - timedelta(days=2), expires_at=now + timedelta(hours=1))
    make_review(published_at=now - timedelta(days=2), expires_at=now)
    forever = make_review(published_at=now - timedelta(days=3))

    assert list(Review.objects.published()) == [live, forever]


def test_the_next_visibility_change_is_the_earliest_publication_or_expiry_to_come():
    now = timezone.now()
    make_review(published_at=now - timedelta(days=1), expires_at=now + timedelta(days=5))
    make_review(published_at=now + timedelta(days=3))
    make_review(published=False, published_at=now + timedelta(days=1))  # a draft: no change
    make_review(published_at=now - timedelta(days=9), expires_at=now - timedelta(days=2))

    assert Review.objects.next_visibility_change(now) == now + timedelta(days=3)
    assert Review.objects.next_visibility_change(now + timedelta(days=3)) == now + timedelta(days=5)
    assert Review.objects.next_visibility_change(now + timedelta(days=5)) is None


def test_slug_is_unique_and_readable():
    film = make_film("Vertigo", year=1958)
    first = make_review(film, headline="Dizzy heights")
    second = make_review(film, headline="Dizzy heights")

    assert first.slug == "vertigo-1958-dizzy-heights"
    assert second.slug == "vertigo-1958-dizzy-heights-2"


def test_byline_falls_back_to_the_author():
    author = make_user("ines", first_name="Ines", last_name="Marlowe")

    assert make_review(author=author).displayed_byline == "Ines Marlowe"
    assert make_review(author=author, byline="I. M.").displayed_byline == "I. M."
