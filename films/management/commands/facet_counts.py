from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from films.counts import facet_counts_rebuild
from films.models import FacetCount


def _stored() -> set[tuple]:
    return set(FacetCount.objects.values_list("facet", "region", "option", "n"))


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Count the film list's options for the whole catalogue again (FacetCount), after writes "
        "that sent no signals: bulk imports, raw SQL. --check only reports the differences."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Change nothing; exit 1 if a count is off."
        )

    def handle(self, *args, check, **options):
        before = _stored()
        try:
            with transaction.atomic():
                rows = facet_counts_rebuild()
                after = _stored()
                if check:
                    raise _DryRun
        except _DryRun:
            pass
        off = sorted(before ^ after)
        for facet, region, option, n in off:
            state = "stored" if (facet, region, option, n) in before else "counted"
            self.stdout.write(f"{facet} {option or '-'} {region or ''}: {state} {n}")
        if check:
            if off:
                raise CommandError(f"{len(off)} counts differ from the catalogue.")
            self.stdout.write("Every count is current.")
        else:
            self.stdout.write(f"{rows} counts stored ({len(off)} rows changed).")
