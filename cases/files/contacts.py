"""The stored first contact of each measure (``Measure.first_contact_on``).

The definition is ``selectors.first_contact`` (DOMAIN.md §5) and stays there: this module
only writes what it computes, set-based, into the measure rows, so that the delay
statistics, the late-start alert and the API read a column instead of running the two
lookups once per measure. Every service that changes an input calls
``first_contact_refresh``: a convocation's outcome, an interview, a history imported, a
measure recorded, measures moved to another case by a transfer.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.utils import timezone

from cases.files.selectors import first_contact
from cases.models import Convocation, Interview
from measures.models import Measure


def first_contact_refresh(
    *, measure_ids: Iterable[int] | None = None, case_ids: Iterable[int] | None = None
) -> int:
    """Recompute the stored first contact of the measures given (by id, or all those of
    the cases given; every measure when neither is). Idempotent. Returns the number of
    measures written: 1 + one UPDATE per time zone among them."""
    measures = Measure.objects.all()
    if measure_ids is not None:
        measures = measures.filter(pk__in=list(measure_ids))
    if case_ids is not None:
        measures = measures.filter(case_id__in=list(case_ids))
    return refresh(measures, Convocation.objects, Interview.objects)


def refresh(measures, convocations, interviews) -> int:
    """The UPDATE behind ``first_contact_refresh``, on any models (the backfill migration
    passes its historical ones). Days are the service's local days, as its agents see
    them: one UPDATE … SET first_contact_on = (the definition) per time zone."""
    zones = measures.values_list("case__service__time_zone", flat=True).distinct().order_by()
    written = 0
    for zone in sorted(zones):
        with timezone.override(ZoneInfo(zone)):
            written += measures.filter(case__service__time_zone=zone).update(
                first_contact_on=first_contact(
                    "case", "judgment_date", convocations=convocations, interviews=interviews
                )
            )
    return written
