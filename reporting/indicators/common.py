"""What the indicators share: the filters, the norms, the staffing arithmetic."""

from __future__ import annotations

from decimal import Decimal

from cases.choices import (
    RiskLevel,
)
from cases.workload.models import ReferenceNorm
from cases.workload.selectors import (
    load_percent,
    persons_per_fte,
)
from reporting.forms import ReportParams
from spip.numbers import half_up

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")
SMALL_GROUP = 10
RISK_FIELDS = (
    (RiskLevel.HIGH, "cases_high", "weight_high"),
    (RiskLevel.MODERATE, "cases_moderate", "weight_moderate"),
    (RiskLevel.LOW, "cases_low", "weight_low"),
    (RiskLevel.NOT_ASSESSED, "cases_not_assessed", "weight_not_assessed"),
)


def narrow(queryset, params: ReportParams):
    """The entity and setting filters, on a queryset that reaches the case by ``case__``."""
    if params.service_id:
        queryset = queryset.filter(case__service_id=params.service_id)
    if params.antenna_id:
        queryset = queryset.filter(case__antenna_id=params.antenna_id)
    if params.setting:
        queryset = queryset.filter(case__setting=params.setting)
    return queryset


def fte_needs(*, weighted: Decimal, capacity: Decimal, persons: int, fte: Decimal, norm) -> dict:
    """The FTE that bring the load to 100 % (the weighted load itself) and those that give
    ``norm`` persons per CPIP, and the gap to what is there (positive: a shortfall)."""
    needed_norm = Decimal(persons) / norm
    return {
        "needed_load_fte": half_up(weighted),
        "gap_load_fte": half_up(weighted - capacity),
        "needed_norm_fte": half_up(needed_norm),
        "gap_norm_fte": half_up(needed_norm - fte),
    }


def fold(lines: list[dict], norm: Decimal) -> dict:
    """Lines (services, regions) summed, with their load %, ratio and needs recomputed."""
    persons = sum(line["persons"] for line in lines)
    fte = sum((line["fte"] for line in lines), Decimal(0))
    capacity = sum((line["capacity"] for line in lines), Decimal(0))
    weighted = sum((line["weighted_load"] for line in lines), Decimal(0))
    return {
        "persons": persons,
        "fte": fte,
        "capacity": capacity,
        "weighted_load": weighted,
        "load_percent": load_percent(weighted, capacity),
        "persons_per_fte": persons_per_fte(persons, fte),
        **fte_needs(weighted=weighted, capacity=capacity, persons=persons, fte=fte, norm=norm),
    }


def norms() -> list[ReferenceNorm]:
    return list(ReferenceNorm.objects.order_by("persons_per_agent"))


HEAD_COUNT_NORM = "EUROPE"


def head_count_norm() -> Decimal:
    """Persons per CPIP the staffing need is measured against (the European norm, 60)."""
    norm = ReferenceNorm.objects.filter(code=HEAD_COUNT_NORM).first()
    return Decimal(norm.persons_per_agent if norm else 60)


# --- Team dashboard (DPIP: antenna; DSPIP: service) -----------------------------------


# --- Delays: sentence → convocation → first interview ----------------------------------


# --- Missed convocations ---------------------------------------------------------------


# --- Outcomes ---------------------------------------------------------------------------


# --- Network: services side by side (DISP, DAP; a DSPIP sees their own line) -----------


# --- Staffing needs and what-if ---------------------------------------------------------
