from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Value, When
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from reversion.admin import VersionAdmin
from taggit.managers import TaggableManager

from films.admin_lists import ScalingChangeListMixin
from films.admin_pictures import (
    PictureFormMixin,
    PictureInlineFormSet,
    PictureSlot,
    thumbnail_column,
)
from films.forms import KeywordsField, OptimisticLockingForm
from films.images import PictureNotSaved, files_removed_on_failure
from films.models import (
    POSTER_FIELDS,
    REVIEW_KEY_FIELDS,
    Availability,
    Credit,
    Film,
    Genre,
    Person,
    SlugHistory,
    Still,
    StreamingService,
)


class DecadeListFilter(admin.SimpleListFilter):
    """Films by decade of release, offering only the decades that have films."""

    title = "decade"
    parameter_name = "decade"

    def lookups(self, request, model_admin):
        years = Film.objects.order_by().values_list("year", flat=True).distinct()
        decades = sorted({year // 10 * 10 for year in years}, reverse=True)
        return [(str(decade), f"{decade}s") for decade in decades]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            decade = int(self.value())
        except ValueError as e:
            raise IncorrectLookupParameters(e) from e
        return queryset.filter(year__gte=decade, year__lt=decade + 10)


class InUseListFilter(admin.SimpleListFilter):
    """Rows with or without films, to find unused entries worth tidying away."""

    title = "use"
    parameter_name = "in_use"
    relation = "films"

    def lookups(self, request, model_admin):
        return [("yes", "With films"), ("no", "Without films")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        # A subquery, so the join neither repeats rows nor inflates the admin's counts.
        used = queryset.model._default_manager.filter(**{f"{self.relation}__isnull": False})
        if self.value() == "yes":
            return queryset.filter(pk__in=used.values("pk"))
        return queryset.exclude(pk__in=used.values("pk"))


class ServiceInUseListFilter(InUseListFilter):
    relation = "availabilities"


class PersonInUseListFilter(InUseListFilter):
    relation = "credits"

    def lookups(self, request, model_admin):
        return [("yes", "With credits"), ("no", "Without credits")]


def role_rank():
    """Sorts credits in the order of ``Credit.Role`` (directors first), not alphabetically."""
    return Case(
        *(When(role=role, then=Value(rank)) for rank, role in enumerate(Credit.Role.values)),
        output_field=IntegerField(),
    )


class CreditInline(admin.TabularInline):
    model = Credit
    fields = ["person", "role", "character", "order"]
    autocomplete_fields = ["person"]
    extra = 1

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("person")
            .order_by(role_rank(), "order", "pk")
        )


class CurrentOfferFormSet(forms.BaseInlineFormSet):
    """The film's current offers. Ticking "Delete" closes an offer (it left the service today)
    and keeps it as history; only a row first seen today is deleted outright, as a correction
    of today's entry. A row saved with a change counts as checked today."""

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            data = getattr(form, "cleaned_data", {})
            if not data or data.get("DELETE"):
                continue
            key = (data.get("service"), data.get("offer_type"), data.get("region"))
            if key in seen:
                raise ValidationError(
                    "Please correct the duplicate data: the same service, offer type and region "
                    "is listed twice.",
                    code="duplicate",
                )
            seen.add(key)

    def save_existing(self, form, obj, commit=True):
        obj.last_checked = timezone.localdate()
        return super().save_existing(form, obj, commit=commit)

    def delete_existing(self, obj, commit=True):
        if commit:
            obj.close()


class AvailabilityInline(admin.TabularInline):
    """Where to watch the film now; past offers are listed below, read-only."""

    model = Availability
    formset = CurrentOfferFormSet
    fields = ["service", "offer_type", "region", "url", "first_seen", "last_checked"]
    readonly_fields = ["first_seen", "last_checked"]
    autocomplete_fields = ["service"]
    verbose_name = "current offer"
    verbose_name_plural = "where to watch now (“Delete” closes an offer and keeps it as history)"
    extra = 1

    def get_queryset(self, request):
        # The film too: each row's heading is str(availability), which names it.
        return super().get_queryset(request).current().select_related("film", "service")


POSTER = PictureSlot(
    "poster",
    "poster_alt",
    "poster_renditions",
    shape="poster",
    suggestion="suggested_poster_alt",
    focal="poster_focal",
    label="poster",
)
STILL = PictureSlot(
    "image",
    "alt_text",
    "renditions",
    shape="still",
    suggestion="suggested_alt",
    focal="focal",
    label="still",
)
PORTRAIT = PictureSlot(
    "portrait",
    "portrait_alt",
    "portrait_renditions",
    shape="portrait",
    suggestion="suggested_portrait_alt",
    focal="portrait_focal",
    label="portrait",
)
LOGO = PictureSlot(
    "logo",
    "logo_alt",
    "logo_renditions",
    shape="logo",
    suggestion="suggested_logo_alt",
    label="logo",
)


class FilmAdminForm(PictureFormMixin, OptimisticLockingForm):
    picture_slots = (POSTER,)


class StillForm(PictureFormMixin, forms.ModelForm):
    picture_slots = (STILL,)


class PersonAdminForm(PictureFormMixin, forms.ModelForm):
    picture_slots = (PORTRAIT,)


class StreamingServiceAdminForm(PictureFormMixin, forms.ModelForm):
    picture_slots = (LOGO,)


class StillInline(admin.StackedInline):
    """A film's stills, in their order on its page."""

    model = Still
    form = StillForm
    formset = PictureInlineFormSet
    fields = ["image", "alt_text", "caption", "credit", ("focal_x", "focal_y"), "order"]
    ordering = ["order", "pk"]
    extra = 0


class FilmographyInline(admin.TabularInline):
    """A person's credits, read-only: credits are edited on the film."""

    model = Credit
    fields = ["film", "role", "character"]
    verbose_name = "credit"
    verbose_name_plural = "filmography"
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("film", "person")
            .order_by("film__year", "film__title", role_rank(), "order")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PictureStorageAdminMixin:
    """For an admin whose forms upload pictures: when the picture store fails (films.images.
    PictureNotSaved), the editor gets the form back with the reason instead of a server error.

    The save ran in the admin's transaction, so it is rolled back, and the files it stored are
    removed. The form is then shown again from the same POST without its files (they may
    have been consumed), with the reason as an error that keeps it from saving.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with files_removed_on_failure():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except PictureNotSaved as error:
            if request.method != "POST" or hasattr(request, "_picture_error"):
                raise
            request._picture_error = str(error)
            request._files = MultiValueDict()
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        message = getattr(request, "_picture_error", None)
        if message is None:
            return form

        def clean(self):
            form.clean(self)
            raise ValidationError(message, code="storage")

        return type(form)(form.__name__, (form,), {"clean": clean})


class OptimisticVersionAdmin(VersionAdmin):
    """django-reversion's admin (history, revert) for a model with an optimistic-locking
    ``version`` (see films.forms), a public slug and a poster.

    The revert form starts from the old revision but keeps the row's current version, slug and
    poster: saving it writes the next version, so forms opened before it go stale (revisions
    leave the version out, and a revert would write the default); the page keeps its address
    (the slug history sees no raw write, so an old slug would strand the current URL); and the
    poster stays, as revisions leave it out (its file is removed once replaced). The review
    keys stay too: they follow the film's reviews, which a revert does not touch.
    """

    revert_keeps = ("version", "slug", *POSTER_FIELDS, *REVIEW_KEY_FIELDS)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        rows = self.model._default_manager.filter(pk=unquote(object_id))
        request._kept_by_revert = rows.values(*self.revert_keeps).first()
        return super().revision_view(request, object_id, version_id, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        kept = getattr(request, "_kept_by_revert", None)
        if object_id is not None and kept:
            # Within the revert's transaction, after the revert: rolled back with it.
            self.model._default_manager.filter(pk=unquote(object_id)).update(**kept)
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Film)
class FilmAdmin(ScalingChangeListMixin, PictureStorageAdminMixin, OptimisticVersionAdmin):
    formfield_overrides = {TaggableManager: {"form_class": KeywordsField}}
    form = FilmAdminForm
    list_display = [
        thumbnail_column("poster_picture", "poster"),
        "title",
        "year",
        "director_names",
        "genre_names",
    ]
    list_display_links = ["title"]
    list_filter = [DecadeListFilter, "genres", "availabilities__service"]
    search_fields = [
        "title",
        "original_title",
        "credits__person__name",
        "credits__person__original_name",
    ]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["genres"]
    inlines = [CreditInline, AvailabilityInline, StillInline]
    readonly_fields = ["past_offers"]
    fieldsets = [
        ("Film", {"fields": ["title", "slug", "original_title", "genres"]}),
        (
            "Release",
            {"fields": ["release_date", "year", "runtime", "countries", "original_language"]},
        ),
        (
            "Poster & logline",
            {
                "fields": [
                    "poster",
                    "poster_alt",
                    "poster_credit",
                    ("poster_focal_x", "poster_focal_y"),
                    "logline",
                ]
            },
        ),
        # loaded_version is hidden: it guards against overwriting another editor's save.
        ("Keywords", {"fields": ["tags", "loaded_version"]}),
        # Read-only, so the form posts nothing for it (an inline would need its own formset).
        ("Past offers", {"fields": ["past_offers"], "classes": ["collapse"]}),
    ]
    # No date_hierarchy: many films have only a year, which the decade filter covers.

    def get_queryset(self, request):
        return super().get_queryset(request).with_directors().prefetch_related("genres")

    @admin.display(description="left their service")
    def past_offers(self, film):
        """The film's closed offers, each linked to its page under Catalogue → Offers, where a
        mistake is corrected (a wrong date, or a closure undone by emptying "left on")."""
        if film.pk is None:
            return "–"
        offers = film.availabilities.filter(ended__isnull=False).select_related("service")
        rows = format_html_join(
            "",
            '<li><a href="{}">{} – {}, {}</a>: {} to {}</li>',
            (
                (
                    reverse("admin:films_availability_change", args=[offer.pk]),
                    offer.service.name,
                    offer.get_offer_type_display(),
                    offer.region.code,
                    date_format(offer.first_seen),
                    date_format(offer.ended),
                )
                for offer in offers.order_by("-ended", "service__name")
            ),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "None."

    @admin.display(description="directors")
    def director_names(self, film):
        return ", ".join(person.name for person in film.directors)

    @admin.display(description="genres")
    def genre_names(self, film):
        return ", ".join(genre.name for genre in film.genres.all())


@admin.register(Person)
class PersonAdmin(ScalingChangeListMixin, PictureStorageAdminMixin, admin.ModelAdmin):
    form = PersonAdminForm
    list_display = [
        thumbnail_column("portrait_picture", "portrait"),
        "name",
        "original_name",
        "birth_year",
        "death_year",
    ]
    list_display_links = ["name"]
    list_filter = ["credits__role", PersonInUseListFilter]
    search_fields = ["name", "original_name"]
    prepopulated_fields = {"slug": ["name"]}
    fields = [
        "name",
        "slug",
        "original_name",
        ("birth_year", "death_year"),
        "bio",
        "portrait",
        "portrait_alt",
        "portrait_credit",
        ("portrait_focal_x", "portrait_focal_y"),
    ]
    inlines = [FilmographyInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "film_count"]
    list_filter = [InUseListFilter]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    # Meta.ordering does not apply to annotated (grouped) queries such as the film count.
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(film_count=Count("films"))

    @admin.display(description="films", ordering="film_count")
    def film_count(self, genre):
        return genre.film_count


@admin.register(StreamingService)
class StreamingServiceAdmin(PictureStorageAdminMixin, admin.ModelAdmin):
    form = StreamingServiceAdminForm
    list_display = [thumbnail_column("logo_picture", "logo"), "name", "website", "film_count"]
    list_display_links = ["name"]
    fields = ["name", "slug", "website", "logo", "logo_alt"]
    list_filter = ["availabilities__offer_type", ServiceInUseListFilter]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_film_counts()

    @admin.display(description="films", ordering="film_count")
    def film_count(self, service):
        return service.film_count


@admin.register(SlugHistory)
class SlugHistoryAdmin(admin.ModelAdmin):
    """Old addresses that redirect to a page's current one. Recorded automatically when a
    slug changes; deleting a row makes that old address a 404."""

    list_display = ["slug", "content_type", "current_page", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["slug"]
    list_select_related = ["content_type"]
    date_hierarchy = "created_at"
    readonly_fields = ["content_type", "object_id", "slug", "created_at"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("target")

    @admin.display(description="now at")
    def current_page(self, old):
        return str(old.target) if old.target else "(deleted)"


class OfferStateListFilter(admin.SimpleListFilter):
    """Open offers, those nobody has checked for ``FILMMAG_OFFER_STALE_DAYS`` days, or past ones."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        days = settings.FILMMAG_OFFER_STALE_DAYS
        return [
            ("current", "Current"),
            ("stale", f"Not checked for {days} days"),
            ("closed", "Left the service"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "current":
                return queryset.current()
            case "stale":
                return queryset.stale()
            case "closed":
                return queryset.filter(ended__isnull=False)
        return queryset


@admin.register(Availability)
class AvailabilityAdmin(ScalingChangeListMixin, admin.ModelAdmin):
    """Every offer with its history. "Not checked for N days" lists the links to check again:
    open each, then "Mark as checked today". Saving an offer counts as a check too.

    Only superusers delete an offer, for a row that should never have existed; anyone who may
    change offers corrects one here (service, dates, or a closure undone by emptying "left
    on") or closes it with "Close: left the service today"."""

    list_display = [
        "film",
        "service",
        "offer_type",
        "region",
        "link",
        "first_seen",
        "last_checked",
        "ended",
    ]
    list_display_links = ["film"]
    list_filter = [OfferStateListFilter, "offer_type", "service", "region"]
    list_select_related = ["film", "service"]
    search_fields = ["film__title", "film__original_title", "service__name", "url"]
    autocomplete_fields = ["film", "service"]
    date_hierarchy = "last_checked"
    ordering = ["last_checked", "film__title", "pk"]
    fields = [
        "film",
        "service",
        "offer_type",
        "region",
        "url",
        ("first_seen", "last_checked", "ended"),
    ]
    actions = ["mark_checked", "close_offers"]

    @admin.display(description="link", ordering="url")
    def link(self, offer):
        if not offer.url:
            return "–"
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', offer.url, offer.url
        )

    def save_model(self, request, obj, form, change):
        # Saving an open offer, changed or not, means someone looked at it: a check.
        # (Compared by value: a field with a callable default, like this one, counts as changed
        # whenever the form's hidden initial value is missing.)
        typed = form.cleaned_data.get("last_checked") != form.initial.get("last_checked")
        if change and obj.ended is None and not typed:
            obj.last_checked = max(timezone.localdate(), obj.first_seen)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    @admin.action(description="Mark as checked today", permissions=["change"])
    def mark_checked(self, request, queryset):
        # last_checked is shown to editors only: no page or cached count depends on it.
        today = timezone.localdate()
        n = queryset.current().filter(first_seen__lte=today).update(last_checked=today)
        self.message_user(request, f"{n} offer{pluralize(n)} marked as checked today.")

    @admin.action(description="Close: left the service today", permissions=["change"])
    def close_offers(self, request, queryset):
        offers = list(queryset.current().select_related("film", "service"))
        for offer in offers:  # one by one: the signals keep the public counts current
            offer.close()
        self.message_user(request, f"{len(offers)} offer{pluralize(len(offers))} closed.")
