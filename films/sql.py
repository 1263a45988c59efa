"""SQL helpers that the catalogue's queries share (models, filters, search)."""

from django.db import connections, models
from django.db.models import Func


def uses_postgres(queryset: models.QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


class EqualsAny(Func):
    """``column = ANY(array)`` (PostgreSQL)."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = models.BooleanField()
