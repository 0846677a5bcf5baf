"""Reads of measures: a case's measures with their obligations in legal order; the
deadline of the first community appointment after a release."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from measures import deadlines
from measures.choices import DeadlineTarget, DeadlineTrigger
from measures.models import DeadlineRule, ImposedObligation, Measure, in_legal_order


def measures_of_case(user, case) -> list[Measure]:
    """The case's measures the user may read, each with ``obligations_in_order`` (the
    obligations grouped under their article, in the order of the code). Two queries."""
    measures = list(
        Measure.objects.visible_to(user)
        .filter(case=case)
        .select_related("measure_type", "court")
        .prefetch_related(
            Prefetch(
                "obligations", queryset=ImposedObligation.objects.select_related("obligation_type")
            )
        )
        .order_by("judgment_date", "id")
    )
    for measure in measures:
        measure.obligations_in_order = in_legal_order(measure.obligations.all())
    return measures


ONE_MONTH_DAYS = 30


@dataclass(frozen=True)
class ReleaseDeadline:
    last_day: date
    label: str


def release_deadline(case, released_on: date) -> ReleaseDeadline:
    """The last day of the first community appointment after a release from prison: the
    741-1 CPP rule for the case's open measures it names (8 days), otherwise a month; run
    to a working day of the case's service."""
    types = Measure.objects.filter(case=case, actual_end_date__isnull=True).values("measure_type")
    rule = (
        DeadlineRule.objects.valid_on(released_on)
        .filter(
            trigger=DeadlineTrigger.RELEASE,
            target=DeadlineTarget.SPIP_CONVOCATION,
            unit="days",
            measure_types__in=types,
        )
        .order_by("amount")
        .first()
    )
    subdivision = case.service.holiday_subdivision
    if rule is not None:
        return ReleaseDeadline(
            deadlines.last_day(rule, released_on, subdivision),
            f"{rule.label} ({rule.amount} jours, {rule.legal_reference})",
        )
    return ReleaseDeadline(
        deadlines.next_working_day(released_on + timedelta(days=ONE_MONTH_DAYS), subdivision),
        _("Sortie : premier rendez-vous dans le mois"),
    )
