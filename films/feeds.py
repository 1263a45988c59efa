"""Feeds of a streaming service's arrivals ("New on …") and departures ("Recently left"),
in RSS 2.0 and Atom. An entry is one offer (a film, an offer type, a region)."""

from datetime import date, datetime, time
from urllib.parse import urljoin

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from films.fragments import SharedFeedMixin
from films.models import Availability, StreamingService

FEED_LENGTH = 30


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class ServiceOffersFeed(SharedFeedMixin, Feed):
    """Base: ``kind`` is "new" or "left"."""

    kind = ""

    def link(self, service):
        return service.get_absolute_url()

    def feed_url(self, service):
        return reverse(self.request_url_name, kwargs={"slug": service.slug})

    def get_object(self, request, slug):
        service = get_object_or_404(StreamingService.objects.only("pk", "name", "slug"), slug=slug)
        service.site_url = request.build_absolute_uri("/")  # for the entries' ids
        return service

    def items(self, service):
        rows = Availability.objects
        if self.kind == "new":
            offers = list(rows.for_new_feed(service)[:FEED_LENGTH])
        else:
            offers = list(rows.for_left_feed(service)[:FEED_LENGTH])
        for offer in offers:
            # Several offers of one film share its page: the row and the event make the entry.
            offer.guid = urljoin(
                service.site_url, f"{offer.film.get_absolute_url()}#offer-{offer.pk}-{self.kind}"
            )
        return offers

    def item_title(self, offer):
        return f"{offer.film}: {offer.get_offer_type_display()}, {offer.region.name}"

    def item_link(self, offer):
        return offer.film.get_absolute_url()

    def item_guid(self, offer):
        return offer.guid

    item_guid_is_permalink = False

    def item_pubdate(self, offer):
        return _day_start(offer.ended if self.kind == "left" else offer.first_seen)

    def item_updateddate(self, offer):
        return self.item_pubdate(offer)


class ServiceNewFeed(ServiceOffersFeed):
    kind = "new"
    request_url_name = "films:service_new_feed"

    def title(self, service):
        return f"filmmag: new on {service.name}"

    def description(self, service):
        return f"Films that have just arrived on {service.name}, by offer type and region."

    def item_description(self, offer):
        return (
            f"On {offer.service.name} since {offer.first_seen.day} {offer.first_seen:%B %Y} "
            f"({offer.get_offer_type_display().lower()}, {offer.region.name})."
        )


class ServiceLeftFeed(ServiceOffersFeed):
    kind = "left"
    request_url_name = "films:service_left_feed"

    def title(self, service):
        return f"filmmag: recently left {service.name}"

    def description(self, service):
        return f"Films that have left {service.name}, by offer type and region."

    def item_description(self, offer):
        return (
            f"Left {offer.service.name} on {offer.ended.day} {offer.ended:%B %Y} "
            f"({offer.get_offer_type_display().lower()}, {offer.region.name}), after being "
            f"there since {offer.first_seen.day} {offer.first_seen:%B %Y}."
        )


class AtomFeedMixin:
    feed_type = Atom1Feed

    def subtitle(self, service):
        return self.description(service)


class ServiceNewAtomFeed(AtomFeedMixin, ServiceNewFeed):
    request_url_name = "films:service_new_atom"


class ServiceLeftAtomFeed(AtomFeedMixin, ServiceLeftFeed):
    request_url_name = "films:service_left_atom"
