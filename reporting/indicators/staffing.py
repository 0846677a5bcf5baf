"""Staffing needs per service, region and nation, with a what-if computed on the fly
(never saved)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cases.workload.selectors import (
    load_percent,
    persons_per_fte,
)
from reporting.forms import ReportParams
from reporting.indicators.common import RISK_FIELDS, fold, fte_needs, head_count_norm
from reporting.indicators.network import latest_day
from reporting.models import EntityType, WorkloadSnapshot
from spip.models import InterregionalUnit


def staffing(user, params: ReportParams, what_if: dict | None = None) -> dict:
    """FTE needed to bring the load to 100 % of the policy and to reach 60 persons per CPIP,
    against the actual FTE, per service, summed per interregional unit and nation; with a
    what-if (agents added or moved, other weights) computed on the fly, never saved."""
    day = latest_day(user)
    if day is None:
        return {"day": None, "services": [], "units": [], "total": None}
    rows = list(
        WorkloadSnapshot.objects.counted_for(user)
        .filter(day=day, entity_type=EntityType.SERVICE)
        .select_related("service", "interregional_unit", "policy")
        .order_by("service__code")
    )
    if params.service_id:
        rows = [r for r in rows if r.service_id == params.service_id]
    what_if = what_if or {}
    added = _added_fte(what_if, rows)
    weights = {field: what_if.get(field) or None for _l, _c, field in RISK_FIELDS}
    norm = head_count_norm()
    lines = [
        _staffing_line(row, added.get(row.service_id, (Decimal(0), Decimal(0))), weights, norm)
        for row in rows
        if row.persons or row.fte or row.service_id in added
    ]
    units: dict[int, list[dict]] = defaultdict(list)
    for line in lines:
        units[line["unit_id"]].append(line)
    unit_names = dict(
        InterregionalUnit.objects.visible_to(user)
        .filter(pk__in=list(units))
        .values_list("pk", "name")
    )
    return {
        "day": day,
        "services": lines,
        "empty_services": len(rows) - len(lines),
        "units": [
            {"id": uid, "label": unit_names.get(uid, "—"), **_sum_staffing(unit_lines, norm)}
            for uid, unit_lines in sorted(units.items(), key=lambda kv: unit_names.get(kv[0], ""))
        ],
        "total": _sum_staffing(lines, norm),
        "norm": norm,
        "what_if": bool(added or any(weights.values())),
    }


def _added_fte(what_if: dict, rows: list[WorkloadSnapshot]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per service, the FTE and the capacity the what-if adds (negative: takes away).

    Added agents are full-time and without reductions. Moved agents take their service's
    share of capacity with them (capacity ÷ FTE), so a move conserves both totals; a
    service cannot give more FTE than it has (``ValidationError``, shown on the form)."""
    added: dict[int, tuple[Decimal, Decimal]] = {}
    if not (what_if.get("add_service") and what_if.get("agents")):
        return added
    n = Decimal(what_if["agents"])
    giver = what_if.get("from_service")
    if giver is None:
        added[what_if["add_service"].pk] = (n, n)
        return added
    row = next((r for r in rows if r.service_id == giver.pk), None)
    has = row.fte if row else Decimal(0)
    if n > has:
        raise ValidationError(
            {
                "agents": _(
                    "Le service %(service)s n'a que %(fte)s ETP de CPIP : il ne peut pas en "
                    "céder %(n)s."
                )
                % {"service": giver.name, "fte": number_format(has, 1), "n": number_format(n, 1)}
            }
        )
    moved_capacity = n * row.capacity / row.fte if row and row.fte else Decimal(0)
    added[what_if["add_service"].pk] = (n, moved_capacity)
    added[giver.pk] = (-n, -moved_capacity)
    return added


def _staffing_line(
    row: WorkloadSnapshot, added: tuple[Decimal, Decimal], weights: dict, norm: Decimal
) -> dict:
    policy = row.policy
    weighted = row.weighted_load
    if any(weights.values()):
        weighted = sum(
            (
                (weights[field] or getattr(policy, field)) * getattr(row, count)
                for _l, count, field in RISK_FIELDS
            ),
            Decimal(0),
        )
    added_fte, added_capacity = added
    capacity = row.capacity + added_capacity
    fte = row.fte + added_fte
    return {
        "id": row.service_id,
        "label": row.label,
        "code": row.service.code if row.service else "",
        "unit_id": row.interregional_unit_id,
        "persons": row.persons,
        "fte": fte,
        "capacity": capacity,
        "added": added_fte,
        "weighted_load": weighted,
        "load_percent_before": row.load_percent,
        "load_percent": load_percent(weighted, capacity),
        "persons_per_fte": persons_per_fte(row.persons, fte),
        **fte_needs(weighted=weighted, capacity=capacity, persons=row.persons, fte=fte, norm=norm),
    }


def _sum_staffing(lines: list[dict], norm: Decimal) -> dict:
    return {**fold(lines, norm), "added": sum((line["added"] for line in lines), Decimal(0))}
