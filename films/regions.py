"""The reader's region: the country whose streaming offers the site counts and shows first.

Where it comes from, first match wins:

1. ``?region=GB`` in the address, so that a shared link means the same for everyone. It is
   a view of the page, not a choice: it never changes the reader's cookie.
2. the ``region`` cookie, set only by the chooser (``films:region_choose``);
3. ``settings.FILMMAG_DEFAULT_REGION`` (``DJANGO_DEFAULT_REGION``).

Pages that read the cookie send ``Vary: Cookie``. A page cache for anonymous readers can key on
``cookie_region(request)`` instead of the whole Cookie header.
"""

from dataclasses import dataclass
from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache
from django.utils.cache import patch_vary_headers
from django_countries import countries
from django_countries.fields import Country

from films.cache import stored_version

REGION_PARAM = "region"
REGION_COOKIE = "region"
REGION_COOKIE_AGE = 365 * 24 * 60 * 60
MAX_REGION_LENGTH = 2  # ISO 3166-1 alpha-2
OFFER_REGIONS_TIMEOUT = 300  # seconds at most, as the facet counts


@memoize
def _codes() -> frozenset[str]:
    return frozenset(code for code, _ in countries)


def region_clean(value: object) -> str | None:
    """``value`` as an upper-case ISO country code, or None if it is not one."""
    if not isinstance(value, str) or len(value) > MAX_REGION_LENGTH + 2:
        return None
    code = value.strip().upper()
    return code if code in _codes() else None


def default_region() -> str:
    return settings.FILMMAG_DEFAULT_REGION


def cookie_region(request) -> str:
    """The reader's own region: the cookie's, or the site's default."""
    return region_clean(request.COOKIES.get(REGION_COOKIE)) or default_region()


@dataclass(frozen=True)
class ReaderRegion:
    code: str
    invalid: str | None = None  # what the address gave, when it was not a country


def reader_region(request) -> ReaderRegion:
    """The region a page shows: the address's if it is a country, else the reader's own."""
    given = request.GET.get(REGION_PARAM)
    code = region_clean(given)
    if code is not None:
        return ReaderRegion(code)
    return ReaderRegion(cookie_region(request), invalid=given or None)


def vary_on_region(response):
    """The response depends on the region cookie."""
    patch_vary_headers(response, ["Cookie"])
    return response


def offer_regions() -> list[str]:
    """The codes of every region with at least one offer; cached per catalogue version (one
    query when it is not). The film list gets them from its facet counts instead. Read from the
    stored counts (a row per region and offer type with films), not the offers: a distinct
    over every offer took 60 ms at 300,000 offers."""
    from films.models import FacetCount

    version = stored_version()  # none stored: the next list page stores one
    key = f"offer-regions:{version.number}" if version else None
    codes = cache.get(key) if key else None
    if codes is None:
        codes = sorted(
            set(
                FacetCount.objects.filter(facet=FacetCount.Facet.OFFER, n__gt=0)
                .exclude(region="")
                .order_by()
                .values_list("region", flat=True)
            )
        )
        if key:
            cache.set(key, codes, OFFER_REGIONS_TIMEOUT)
    return codes


def regions_with(codes, current: str) -> list[Country]:
    """The chooser's options: ``codes`` and ``current`` (shown even when it has no offers, so
    the chooser always shows what is chosen), by name."""
    return sorted((Country(code) for code in {*codes, current}), key=lambda c: c.name)
