"""Admin change lists that stay fast at any catalogue size (shared by the catalogue's and the
reviews' admin).

At 100,000 films Django's defaults cost editors seconds: a search over a related field
(``credits__person__name``) joins every row to its related rows and then needs ``DISTINCT``
over all of them (4.6 s for "the" in Films), and a ``RelatedOnlyFieldListFilter`` lists every
related row in the sidebar (20,000 films under "By film": a page of 1.9 MB).
"""

from django.contrib import admin
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

from films.pagination import RowsByIdPaginator


class SubquerySearchMixin:
    """``search_fields`` on related rows are matched in a subquery of the model's ids
    (``pk IN (SELECT … WHERE name ILIKE …)``) instead of joining them to every row: no
    ``DISTINCT``, and Django's rules otherwise (each word must match some field; quotes keep
    words together). Fields with Django's ``^``, ``=`` or ``@`` prefixes fall back to it."""

    def get_search_results(self, request, queryset, search_term):
        fields = list(self.get_search_fields(request))
        if not search_term or any(field[0] in "^=@" for field in fields):
            return super().get_search_results(request, queryset, search_term)
        model = queryset.model
        for word in smart_split(search_term):
            if word[0] in "\"'" and word[0] == word[-1]:
                word = unescape_string_literal(word)
            matches = Q()
            for field in fields:
                lookup = {f"{field}__icontains": word}
                if "__" in field:
                    matches |= Q(pk__in=model._default_manager.filter(**lookup).values("pk"))
                else:
                    matches |= Q(**lookup)
            queryset = queryset.filter(matches)
        return queryset, False


class ScalingChangeListMixin(SubquerySearchMixin):
    """A change list that reads a page's rows by the page's ids (``RowsByIdPaginator``: the
    sort runs on narrow rows, not on reviews with their text), and searches related fields in
    subqueries."""

    paginator = RowsByIdPaginator


class RecentRelatedListFilter(admin.RelatedOnlyFieldListFilter):
    """ "By <related>": the related rows of the latest rows added (``shown`` of them), and the
    chosen one, rather than every related row there is. The others are a search away."""

    shown = 30

    def field_choices(self, field, request, model_admin):
        recent = (
            model_admin.get_queryset(request)
            .order_by("-pk")
            .values_list(f"{self.field_path}__pk", flat=True)[: self.shown * 4]
        )
        chosen = [value for value in self.lookup_val or () if str(value).isdigit()]
        wanted = list(dict.fromkeys(pk for pk in recent if pk is not None))[: self.shown]
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": [*wanted, *chosen]},
            ordering=ordering,
        )
