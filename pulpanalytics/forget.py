"""Deletion on request: every row held for a system, in one transaction."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from pulpanalytics.models import Component, Erasure, Report, System, SystemMonth
from pulpanalytics.wording import how_many


@dataclass(frozen=True)
class Forgotten:
    systems: int
    reports: int
    components: int

    def __str__(self) -> str:
        counts = [
            (self.systems, "system"),
            (self.reports, "report"),
            (self.components, "component"),
        ]
        return ", ".join(how_many(n, word) for n, word in counts)


@transaction.atomic
def forget_systems(*, system_hashes: Iterable[str]) -> Forgotten:
    """Delete the registry rows, raw reports, components and activity months of these systems
    (keyed hashes), and note when (an Erasure: the cohorts stop counting them at once).

    Summaries hold only counts over many systems, and the rate limits only hashed client
    addresses, so nothing else holds a system.
    """
    systems = System.objects.filter(system_hash__in=list(system_hashes))
    # Components first: their foreign key to the report is DO_NOTHING (see models.Component).
    components, _ = Component.objects.filter(report__system__in=systems).delete()
    reports, _ = Report.objects.filter(system__in=systems).delete()
    SystemMonth.objects.filter(system__in=systems).delete()
    forgotten, _ = systems.delete()
    if forgotten:
        Erasure.objects.create(done_at=timezone.now(), systems=forgotten)
    return Forgotten(systems=forgotten, reports=reports, components=components)
