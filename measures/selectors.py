"""Reads of measures for the pages: a case's measures with their obligations in legal order."""

from __future__ import annotations

from django.db.models import Prefetch

from measures.models import ImposedObligation, Measure, in_legal_order


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
