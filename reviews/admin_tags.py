"""The admin for tags, shared by film tags and review keywords: rename, merge with the usage
counts shown first, and likely duplicates.

Replaces django-taggit's own TagAdmin. The merge itself is ``films.tags.tags_merge()``.
"""

from urllib.parse import urlencode

import taggit.admin  # noqa: F401  (registers taggit's TagAdmin first, so it can be replaced)
from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from taggit.models import Tag, TaggedItem

from films.admin import InUseListFilter
from films.models import Film, SlugHistory
from films.slugs import is_usable, unique_slug
from films.tags import (
    TAG_NAME_MAX_LENGTH,
    TagMergeError,
    tag_duplicate_groups,
    tags_merge,
    tags_named,
)
from reviews.models import Review

# Enough for any tidy-up an editor does by hand; a longer list in the address is cut here.
MAX_MERGE = 100

admin.site.unregister(Tag)


def with_usage(queryset):
    """Each tag with ``film_count`` and ``review_count``: one join, two filtered counts."""
    items = "taggit_taggeditem_items"
    film, review = (ContentType.objects.get_for_model(model) for model in (Film, Review))
    return queryset.annotate(
        film_count=Count(items, filter=Q(**{f"{items}__content_type": film})),
        review_count=Count(items, filter=Q(**{f"{items}__content_type": review})),
    )


def merge_url(tags, **params) -> str:
    query = urlencode({"ids": ",".join(str(tag.pk) for tag in tags), **params})
    return f"{reverse('admin:taggit_tag_merge')}?{query}"


def ids_from(value: str) -> list[int]:
    """Tag ids from "3,5,8", ignoring anything that is not one, at most MAX_MERGE of them."""
    ids = dict.fromkeys(int(part) for part in value.split(",") if part.strip().isdigit())
    return [pk for pk in ids if pk < 2**63][:MAX_MERGE]


class TagInUseListFilter(InUseListFilter):
    relation = "taggit_taggeditem_items"

    def lookups(self, request, model_admin):
        return [("yes", "In use"), ("no", "Unused")]


class TagForm(forms.ModelForm):
    """Renaming: the slug follows the name unless the editor types one; a name that another
    tag has, in any case, is refused with the offer to merge into that tag instead."""

    class Meta:
        model = Tag
        fields = ["name", "slug"]
        help_texts = {
            "name": "As shown on the site. Films and reviews that carry the tag follow.",
            "slug": (
                "Part of the tag page's address. Leave as it is to follow the name; "
                "the old address keeps working (it redirects)."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        clash = next((tag for tag in tags_named(name) if tag.pk != self.instance.pk), None)
        if clash is None:
            return name
        if self.instance.pk is None:
            raise ValidationError(f"The tag “{clash.name}” already exists.", code="exists")
        # Merging is the rename the editor meant, done on a page that shows what it moves.
        offer = merge_url([self.instance, clash], into=clash.pk, name=name)
        raise ValidationError(
            format_html(
                "The tag “{}” already exists. "
                '<a href="{}">Merge “{}” into it</a> instead: its films and reviews move there.',
                clash.name,
                offer,
                self.instance.name,
            ),
            code="exists",
        )

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug and not is_usable(slug):
            raise ValidationError(
                "Use only letters a–z, digits, hyphens and underscores.", code="invalid"
            )
        old = SlugHistory.objects.filter(
            content_type=ContentType.objects.get_for_model(Tag), slug=slug
        ).exclude(object_id=self.instance.pk)
        if slug and old.exists():
            raise ValidationError(
                "That address redirects to another tag's page; choose another.", code="taken"
            )
        return slug

    def clean(self):
        cleaned_data = super().clean()
        name, slug = cleaned_data.get("name"), cleaned_data.get("slug")
        follows_name = "name" in self.changed_data and "slug" not in self.changed_data
        if name and (not slug or (self.instance.pk and follows_name)):
            cleaned_data["slug"] = unique_slug(Tag, name, exclude_pk=self.instance.pk)
        return cleaned_data


class MergeForm(forms.Form):
    into = forms.ChoiceField(label="Keep", widget=forms.RadioSelect)
    name = forms.CharField(
        label="New name",
        required=False,
        max_length=TAG_NAME_MAX_LENGTH,
        help_text="Used when “A new name” is chosen above.",
    )

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.tags = {str(tag.pk): tag for tag in tags}
        self.fields["into"].choices = [
            *((pk, f"“{tag.name}”") for pk, tag in self.tags.items()),
            ("new", "A new name:"),
        ]

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("into") == "new" and not cleaned_data.get("name", "").strip():
            self.add_error("name", "Type the name of the tag to keep.")
        return cleaned_data

    def target(self) -> Tag | str:
        into = self.cleaned_data["into"]
        return self.cleaned_data["name"] if into == "new" else self.tags[into]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagForm
    list_display = ["name", "slug", "film_count", "review_count"]
    list_filter = [TagInUseListFilter]
    search_fields = ["name", "slug"]
    ordering = ["name"]
    actions = ["merge_selected"]
    # No prepopulated slug: the slug policy (films.slugs) makes it on save, as for keywords
    # typed on a review, and the admin's script would transliterate differently.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("merge/", view(self.merge_view), name="taggit_tag_merge"),
            path("duplicates/", view(self.duplicates_view), name="taggit_tag_duplicates"),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        return with_usage(super().get_queryset(request))

    def get_fields(self, request, obj=None):
        return ["name", "slug", "usage", "old_addresses"] if obj else ["name", "slug"]

    def get_readonly_fields(self, request, obj=None):
        return ["usage", "old_addresses"] if obj else []

    def has_merge_permission(self, request) -> bool:
        """Merging changes one tag and deletes the others."""
        return self.has_change_permission(request) and self.has_delete_permission(request)

    @admin.display(description="films", ordering="film_count")
    def film_count(self, tag):
        return tag.film_count

    @admin.display(description="reviews", ordering="review_count")
    def review_count(self, tag):
        return tag.review_count

    @admin.display(description="used by")
    def usage(self, tag):
        return f"{tag.film_count} film(s), {tag.review_count} review(s)"

    @admin.display(description="old addresses")
    def old_addresses(self, tag):
        old = SlugHistory.objects.filter(
            content_type=ContentType.objects.get_for_model(Tag), object_id=tag.pk
        ).values_list("slug", flat=True)
        return format_html_join(", ", "{}", ((slug,) for slug in old)) or "–"

    @admin.action(description="Merge selected tags…", permissions=["merge"])
    def merge_selected(self, request, queryset):
        return redirect(merge_url(queryset.order_by("pk")[:MAX_MERGE]))

    def merge_view(self, request):
        if not self.has_merge_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        tags = list(
            with_usage(Tag.objects.filter(pk__in=ids_from(data.get("ids", "")))).order_by(
                "name", "pk"
            )
        )
        changelist = reverse("admin:taggit_tag_changelist")
        if len(tags) < 2:
            self.message_user(
                request, "Choose at least two tags to merge (tick them in the list).", "warning"
            )
            return redirect(changelist)
        by_use = sorted(tags, key=lambda tag: (-(tag.film_count + tag.review_count), tag.pk))
        initial = {"into": str(by_use[0].pk)}
        if data.get("into") in {str(tag.pk) for tag in tags}:
            initial["into"] = data["into"]
        if name := data.get("name", "")[:TAG_NAME_MAX_LENGTH]:
            if name not in {tag.name for tag in tags}:
                initial = {"into": "new", "name": name}
        form = MergeForm(
            request.POST if request.method == "POST" else None, tags=tags, initial=initial
        )
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    result = tags_merge(tags=tags, into=form.target(), by=request.user)
                    names = ", ".join(f"“{tag.name}”" for tag in result.merged)
                    self.log_deletions(request, result.merged)
                    self.log_change(request, result.target, f"Merged {names} into this tag.")
            except TagMergeError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    f"Merged {names} into “{result.target.name}”: every film and review that "
                    "carried them carries it, and their old addresses redirect to its page.",
                    messages.SUCCESS,
                )
                return redirect(changelist)
        totals = dict(
            TaggedItem.objects.filter(tag__in=tags)
            .values_list("content_type")
            .annotate(n=Count("object_id", distinct=True))
            .order_by()
        )
        film, review = (ContentType.objects.get_for_model(model) for model in (Film, Review))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Merge tags",
            "tags": tags,
            "form": form,
            "ids": ",".join(str(tag.pk) for tag in tags),
            "total_films": totals.get(film.pk, 0),
            "total_reviews": totals.get(review.pk, 0),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/taggit/tag/merge.html", context)

    def duplicates_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        groups = tag_duplicate_groups()
        ids = [tag.pk for group in groups for tag in group]
        usage = {tag.pk: tag for tag in with_usage(Tag.objects.filter(pk__in=ids))}
        can_merge = self.has_merge_permission(request)
        rows = [
            {
                "tags": [usage[tag.pk] for tag in group if tag.pk in usage],
                "merge_url": merge_url(group) if can_merge else None,
            }
            for group in groups
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Likely duplicate tags",
            "groups": [row for row in rows if len(row["tags"]) > 1],
        }
        return TemplateResponse(request, "admin/taggit/tag/duplicates.html", context)
