"""Outcomes of ended measures by type, provider, intensity and risk (small groups
flagged)."""

from __future__ import annotations

from django.db.models import (
    Count,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce

from cases.choices import (
    Intensity,
    RiskLevel,
)
from cases.models import (
    IntensityChange,
    RiskAssessment,
)
from measures.choices import EndReason, FollowedBy
from measures.models import Measure
from reporting.forms import ReportParams
from reporting.indicators.common import SMALL_GROUP, narrow
from spip.numbers import share

OUTCOME_COUNTS = {
    "total": Count("id"),
    "completed": Count("id", filter=Q(end_reason=EndReason.COMPLETED)),
    "revoked": Count("id", filter=Q(end_reason=EndReason.REVOKED)),
    "new_conviction": Count("id", filter=Q(end_reason=EndReason.NEW_CONVICTION)),
    "other": Count("id", filter=Q(end_reason__in=[EndReason.OTHER, ""])),
}


def _outcome_figures(row: dict) -> dict:
    return {
        **{key: row[key] for key in OUTCOME_COUNTS},
        "completed_share": share(row["completed"], row["total"]),
        "revoked_share": share(row["revoked"], row["total"]),
        "new_conviction_share": share(row["new_conviction"], row["total"]),
        "small": row["total"] < SMALL_GROUP,
    }


def outcomes(user, params: ReportParams) -> dict:
    """Measures ended in the period (transfers aside: they go on elsewhere): completed,
    revoked, new conviction, by measure type, follow-up provider, and by the intensity and
    risk level in force when the measure ended (the last change on or before that day; the
    file's value where no history was recorded). Five queries."""

    risk_then = (
        RiskAssessment.objects.filter(
            case=OuterRef("case"), assessed_on__lte=OuterRef("actual_end_date")
        )
        .order_by("-assessed_on", "-pk")
        .values("level")[:1]
    )
    intensity_then = (
        IntensityChange.objects.filter(
            case=OuterRef("case"), changed_on__lte=OuterRef("actual_end_date")
        )
        .order_by("-changed_on", "-pk")
        .values("intensity")[:1]
    )
    measures = (
        Measure.objects.counted_for(user)
        .filter(actual_end_date__gte=params.since, actual_end_date__lte=params.until)
        .exclude(end_reason=EndReason.TRANSFERRED)
        .annotate(
            risk_at_end=Coalesce(Subquery(risk_then), F("case__risk_level")),
            intensity_at_end=Coalesce(Subquery(intensity_then), F("case__intensity")),
        )
    )
    measures = narrow(measures, params)

    def grouped(*keys):
        return list(measures.values(*keys).annotate(**OUTCOME_COUNTS).order_by(*keys))

    providers = dict(FollowedBy.choices)
    intensities = dict(Intensity.choices)
    risks = dict(RiskLevel.choices)
    return {
        "total": _outcome_figures(measures.aggregate(**OUTCOME_COUNTS)),
        "measure_types": [
            {
                "code": r["measure_type__code"],
                "label": r["measure_type__label"],
                **_outcome_figures(r),
            }
            for r in grouped("measure_type__code", "measure_type__label")
        ],
        "providers": [
            {
                "followed_by": r["followed_by"],
                "label": str(providers.get(r["followed_by"], r["followed_by"]))
                + (f" — {r['partner__name']}" if r["partner__name"] else ""),
                "partner_id": r["partner_id"],
                **_outcome_figures(r),
            }
            for r in grouped("followed_by", "partner_id", "partner__name")
        ],
        "intensities": [
            {
                "intensity": r["intensity_at_end"],
                "label": str(intensities.get(r["intensity_at_end"], r["intensity_at_end"])),
                **_outcome_figures(r),
            }
            for r in grouped("intensity_at_end")
        ],
        "risk_levels": [
            {
                "risk_level": r["risk_at_end"],
                "label": str(risks.get(r["risk_at_end"], r["risk_at_end"])),
                **_outcome_figures(r),
            }
            for r in grouped("risk_at_end")
        ],
        "small_group": SMALL_GROUP,
    }
