"""The counts of the whole catalogue (``FacetCount``): kept current as the catalogue changes.

The unfiltered film list and the home page show how many films each genre, director, decade,
service and offer type has. Counting them over 100,000 films takes about a second; reading
them from a table of a few thousand rows takes a millisecond. So each save or delete of a
film, credit, offer or a film's genres recounts the options it touches, before and after the
change (a film moved from the 1950s to the 1960s changes both decades), in the same
transaction: one indexed count per option, from scratch, so a missed signal cannot leave a
count off for good, only until the option's next change or a rebuild.

Writes that send no signals (bulk_create, QuerySet.update, raw SQL) end with
``facet_counts_rebuild()``: the demo loader does, and ``manage.py facet_counts --rebuild``.

On PostgreSQL every recount first takes one transaction-level advisory lock: two transactions
that change the catalogue at once recount one after the other, and the second counts what the
first committed (read committed), so neither leaves a count that misses the other's change.
SQLite serialises writers anyway.
"""

from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count, F, Q

from films.models import Availability, Credit, FacetCount, Film

Facet = FacetCount.Facet
type Key = tuple[str, str, str]  # (facet, region, option)

LOCK_ID = 0x66616365  # "face": any fixed number, the same in every process

FILM_FIELDS = {"year", "release_date"}
CREDIT_FIELDS = {"film", "person", "role"}
OFFER_FIELDS = {"film", "service", "offer_type", "region", "ended"}
FILM_GENRES = Film.genres.through


def decade_of(year: int) -> int:
    return year // 10 * 10


def film_keys(year) -> set[Key]:
    keys = {(Facet.FILMS, "", "")}
    if year is not None:
        keys.add((Facet.DECADE, "", str(decade_of(year))))
    return keys


def credit_keys(person_id, role) -> set[Key]:
    return {(Facet.DIRECTOR, "", str(person_id))} if role == Credit.Role.DIRECTOR else set()


def offer_keys(region, service_id, offer_type) -> set[Key]:
    region = str(region)
    return {(Facet.SERVICE, region, str(service_id)), (Facet.OFFER, region, offer_type)}


def genre_keys(genre_ids) -> set[Key]:
    return {(Facet.GENRE, "", str(pk)) for pk in genre_ids}


def combo_keys(genre_ids, offers, *, any_genre=True) -> set[Key]:
    """The COMBO cells that films in ``genre_ids`` with ``offers`` [(region, service id, offer
    type)] count in: each genre's with the service and offer type, the service alone and the
    offer type alone, and (``any_genre``) any genre's with the service and offer type and the
    service alone (any genre's offer type alone is the OFFER facet's count)."""
    keys = set()
    for region, service, offer in offers:
        region = str(region)
        cells = [f"{g}.{service}.{offer}" for g in genre_ids]
        cells += [f"{g}.{service}." for g in genre_ids]
        cells += [f"{g}.0.{offer}" for g in genre_ids]
        if any_genre:
            cells += [f"0.{service}.{offer}", f"0.{service}."]
        keys.update((Facet.COMBO, region, cell) for cell in cells)
    return keys


def genres_of(film_ids) -> set[int]:
    return set(FILM_GENRES.objects.filter(film_id__in=film_ids).values_list("genre_id", flat=True))


def offers_of(film_ids) -> set[tuple[str, int, str]]:
    """The distinct (region, service, offer type) of the films' current offers."""
    rows = Availability.objects.current().filter(film_id__in=film_ids).order_by()
    return set(rows.values_list("region", "service_id", "offer_type").distinct())


# --- counting ---------------------------------------------------------------------------------


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])


def _row(facet: str, region: str, option: str, n: int) -> FacetCount:
    row = FacetCount(facet=facet, region=region, option=option, n=n)
    if facet == Facet.GENRE:
        row.genre_id = int(option)
    elif facet == Facet.DIRECTOR:
        row.person_id = int(option)
    elif facet == Facet.SERVICE:
        row.service_id = int(option)
    elif facet == Facet.COMBO:
        genre, service, _ = option.split(".")
        row.genre_id, row.service_id = int(genre) or None, int(service) or None
    return row


def _count(keys: set[Key]) -> dict[Key, int]:
    """{key: films} for ``keys``, a query per facet (and region, and decade)."""
    by_facet = defaultdict(set)
    for facet, region, option in keys:
        by_facet[facet, region].add(option)
    counts = dict.fromkeys(keys, 0)
    current = Availability.objects.current()
    for (facet, region), options in by_facet.items():
        if facet == Facet.FILMS:
            counts[facet, region, ""] = Film.objects.count()
        elif facet == Facet.COMBO:
            for option in options:
                counts[facet, region, option] = _combo_count(region, option)
        elif facet == Facet.DECADE:
            for option in options:
                start = int(option)
                n = Film.objects.filter(year__gte=start, year__lte=start + 9).count()
                counts[facet, region, option] = n
        else:
            if facet == Facet.GENRE:
                rows = FILM_GENRES.objects.filter(genre_id__in=options).values_list("genre_id")
                rows = rows.annotate(n=Count("film_id"))
            elif facet == Facet.DIRECTOR:
                rows = Credit.objects.filter(role=Credit.Role.DIRECTOR, person_id__in=options)
                rows = rows.values_list("person_id").annotate(n=Count("film_id", distinct=True))
            elif facet == Facet.SERVICE:
                rows = current.filter(region=region, service_id__in=options)
                rows = rows.values_list("service_id").annotate(n=Count("film_id", distinct=True))
            else:
                rows = current.filter(region=region, offer_type__in=options)
                rows = rows.values_list("offer_type").annotate(n=Count("film_id", distinct=True))
            for option, n in rows.order_by():
                counts[facet, region, str(option)] = n
    return counts


def _combo_count(region: str, option: str) -> int:
    genre, service, offer = option.split(".")
    rows = Availability.objects.current().filter(region=region)
    if service != "0":
        rows = rows.filter(service_id=int(service))
    if offer:
        rows = rows.filter(offer_type=offer)
    if genre != "0":
        films = FILM_GENRES.objects.filter(genre_id=int(genre)).values("film_id")
        rows = rows.filter(film_id__in=films)
    return rows.values("film_id").distinct().count()


def facet_counts_recount(keys: set[Key]) -> None:
    """Count the options ``keys`` again and store them: a row per option that has films."""
    if not keys:
        return
    with transaction.atomic():
        _lock()
        counts = _count(keys)
        gone = [key for key, n in counts.items() if not n]
        if gone:
            FacetCount.objects.filter(_any_key(gone)).delete()
        rows = [_row(*key, n) for key, n in counts.items() if n]
        if rows:
            FacetCount.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["facet", "region", "option"],
                update_fields=["n"],
            )


def _any_key(keys):
    condition = Q(pk__in=[])
    for facet, region, option in keys:
        condition |= Q(facet=facet, region=region, option=option)
    return condition


def facet_counts_rebuild() -> int:
    """Count every option again from scratch, after writes that sent no signals, and store the
    counts that differ (none when all are current); returns the number of rows."""
    current = Availability.objects.current().order_by()
    with transaction.atomic():
        _lock()
        counts = {(Facet.FILMS, "", ""): Film.objects.count()}
        decades = (
            Film.objects.annotate(decade=F("year") / 10 * 10)
            .values_list("decade")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts.update(((Facet.DECADE, "", str(decade)), n) for decade, n in decades)
        genres = FILM_GENRES.objects.values_list("genre_id").annotate(n=Count("film_id"))
        counts.update(((Facet.GENRE, "", str(pk)), n) for pk, n in genres.order_by())
        directors = (
            Credit.objects.filter(role=Credit.Role.DIRECTOR)
            .values_list("person_id")
            .annotate(n=Count("film_id", distinct=True))
            .order_by()
        )
        counts.update(((Facet.DIRECTOR, "", str(pk)), n) for pk, n in directors)
        services = current.values_list("region", "service_id").annotate(
            n=Count("film_id", distinct=True)
        )
        counts.update(((Facet.SERVICE, str(r), str(pk)), n) for r, pk, n in services)
        offers = current.values_list("region", "offer_type").annotate(
            n=Count("film_id", distinct=True)
        )
        counts.update(((Facet.OFFER, str(r), offer), n) for r, offer, n in offers)
        counts.update(_all_combo_counts(current))
        counts = {key: n for key, n in counts.items() if n}

        stored = {
            (facet, region, option): (pk, n)
            for pk, facet, region, option, n in FacetCount.objects.values_list(
                "pk", "facet", "region", "option", "n"
            )
        }
        gone = [pk for key, (pk, _) in stored.items() if key not in counts]
        if gone:
            FacetCount.objects.filter(pk__in=gone).delete()
        changed = [
            _row(*key, n) for key, n in counts.items() if stored.get(key, (None, None))[1] != n
        ]
        FacetCount.objects.bulk_create(
            changed,
            batch_size=5000,
            update_conflicts=True,
            unique_fields=["facet", "region", "option"],
            update_fields=["n"],
        )
    return len(counts)


def _all_combo_counts(current) -> dict[Key, int]:
    """Every COMBO cell (combo_keys()), five grouped counts of the current offers."""
    counts = {}
    with_genre = current.filter(film__genres__isnull=False)
    groupings = [
        (with_genre, ("film__genres", "service_id", "offer_type"), "{}.{}.{}"),
        (with_genre, ("film__genres", "service_id"), "{}.{}."),
        (with_genre, ("film__genres", "offer_type"), "{}.0.{}"),
        (current, ("service_id", "offer_type"), "0.{}.{}"),
        (current, ("service_id",), "0.{}."),
    ]
    for rows, columns, cell in groupings:
        grouped = rows.values_list("region", *columns).annotate(n=Count("film_id", distinct=True))
        for region, *values, n in grouped.order_by():
            counts[Facet.COMBO, str(region), cell.format(*values)] = n
    return counts


# --- signal receivers (films/apps.py) ---------------------------------------------------------


def _counted(update_fields, fields) -> bool:
    return update_fields is None or bool(fields & set(update_fields))


def film_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if instance.pk is not None and _counted(update_fields, FILM_FIELDS):
        years = Film.objects.filter(pk=instance.pk).values_list("year", flat=True)
        instance._counts_before = {k for year in years for k in film_keys(year)}


def film_post_save(sender, instance, created=False, update_fields=None, **kwargs):
    if created or _counted(update_fields, FILM_FIELDS):
        before = instance.__dict__.pop("_counts_before", set())
        facet_counts_recount(before | film_keys(instance.year))


def film_pre_delete(sender, instance, **kwargs):
    # Its offers and genres go with it, in an order of Django's: their cells are known now.
    genres = genres_of([instance.pk])
    instance._counts_before = genre_keys(genres) | combo_keys(genres, offers_of([instance.pk]))


def film_post_delete(sender, instance, **kwargs):
    before = instance.__dict__.pop("_counts_before", set())
    facet_counts_recount(before | film_keys(instance.year))


def credit_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if instance.pk is not None and _counted(update_fields, CREDIT_FIELDS):
        old = Credit.objects.filter(pk=instance.pk).values_list("person_id", "role")
        instance._counts_before = {k for row in old for k in credit_keys(*row)}


def credit_post_save(sender, instance, created=False, update_fields=None, **kwargs):
    if created or _counted(update_fields, CREDIT_FIELDS):
        before = instance.__dict__.pop("_counts_before", set())
        facet_counts_recount(before | credit_keys(instance.person_id, instance.role))


def credit_post_delete(sender, instance, **kwargs):
    facet_counts_recount(credit_keys(instance.person_id, instance.role))


def offer_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if instance.pk is not None and _counted(update_fields, OFFER_FIELDS):
        old = Availability.objects.filter(pk=instance.pk).values_list(
            "film_id", "region", "service_id", "offer_type"
        )
        instance._counts_before = {
            key
            for film, *offer in old
            for key in offer_keys(*offer) | combo_keys(genres_of([film]), [offer])
        }


def offer_post_save(sender, instance, created=False, update_fields=None, **kwargs):
    if created or _counted(update_fields, OFFER_FIELDS):
        before = instance.__dict__.pop("_counts_before", set())
        offer = (instance.region, instance.service_id, instance.offer_type)
        now = offer_keys(*offer) | combo_keys(genres_of([instance.film_id]), [offer])
        facet_counts_recount(before | now)


def offer_post_delete(sender, instance, **kwargs):
    offer = (instance.region, instance.service_id, instance.offer_type)
    # A film being deleted has lost its genres already, maybe: film_pre_delete has its cells.
    facet_counts_recount(offer_keys(*offer) | combo_keys(genres_of([instance.film_id]), [offer]))


def film_genres_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A film's genres (or a genre's films) changed: recount the genres concerned, and their
    COMBO cells with the films' offers."""
    if action == "pre_clear":
        if reverse:
            films = FILM_GENRES.objects.filter(genre_id=instance.pk).values("film_id")
            instance._genres_before = genres = {instance.pk}
        else:
            films = [instance.pk]
            instance._genres_before = genres = genres_of(films)
        instance._combo_before = combo_keys(genres, offers_of(films), any_genre=False)
    elif action == "post_clear":
        before = instance.__dict__.pop("_combo_before", set())
        facet_counts_recount(genre_keys(instance.__dict__.pop("_genres_before", set())) | before)
    elif action in ("post_add", "post_remove"):
        genres, films = ({instance.pk}, pk_set or ()) if reverse else (pk_set or (), [instance.pk])
        cells = combo_keys(genres, offers_of(films), any_genre=False) if genres and films else set()
        facet_counts_recount(genre_keys(genres) | cells)
