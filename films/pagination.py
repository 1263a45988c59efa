class LenientPaginationMixin:
    """Out-of-range or non-numeric ``?page=`` shows the nearest real page instead of a 404.

    Shared links to page 9 of a list that has since shrunk still land somewhere useful.
    Views may set ``self.known_count`` to spare the paginator its COUNT query.
    """

    known_count = None

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        if self.known_count is not None:
            paginator.count = self.known_count  # overrides the cached_property
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()
