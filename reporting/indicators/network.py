"""Services side by side (DISP, DAP; a DSPIP sees their own line), from the latest
snapshots: persons per CPIP and its distribution, load, arrivals, delays, alerts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    Max,
)

from cases.models import (
    Alert,
)
from measures.models import MeasureType
from reporting.forms import ReportParams
from reporting.indicators.common import fold, fte_needs, head_count_norm, norms
from reporting.models import EntityType, WorkloadSnapshot
from reporting.stats import (
    distribution,
)
from spip.choices import Assignment
from spip.numbers import share

NETWORK_SORTS = {
    "code": lambda r: r["code"],
    "persons_per_fte": lambda r: -(r["persons_per_fte"] or 0),
    "load_percent": lambda r: -(r["load_percent"] or 0),
    "gap_fte": lambda r: -(r["gap_load_fte"] or 0),
    "delay": lambda r: -(r["delay_median_days"] or 0),
    "alerts": lambda r: -(r["open_alerts"] or 0),
}


def latest_day(user) -> date | None:
    return (
        WorkloadSnapshot.objects.counted_for(user)
        .filter(entity_type=EntityType.SERVICE)
        .aggregate(day=Max("day"))["day"]
    )


def network(user, params: ReportParams, *, sort: str = "code") -> dict:
    """One line per service from the latest snapshots: persons per CPIP with the
    distribution across agents (min, quartiles, max) against the norms, load %, measure mix,
    delays, live alerts, and the staffing gap. No personal data. Six queries."""
    day = latest_day(user)
    if day is None:
        return {"day": None, "services": [], "units": [], "nation": None, "norms": norms()}
    snapshots = WorkloadSnapshot.objects.counted_for(user).filter(day=day)
    service_rows = snapshots.filter(entity_type=EntityType.SERVICE).select_related("service")
    if params.service_id:
        service_rows = service_rows.filter(service_id=params.service_id)
    per_agent = defaultdict(list)
    agents = snapshots.filter(entity_type=EntityType.AGENT, fte__gt=0)
    if params.setting:
        agents = agents.filter(agent__assignment__in=[params.setting, Assignment.BOTH])
    for service_id, ratio in agents.values_list("service_id", "persons_per_fte"):
        per_agent[service_id].append(ratio)
    norm = head_count_norm()
    services = [_network_line(row, per_agent.get(row.service_id, []), norm) for row in service_rows]
    # Alerts are live (they open and close every hour, and follow their case): counted
    # now, not at the last recompute.
    live_alerts = dict(
        Alert.objects.counted_for(user)
        .filter(closed_at__isnull=True)
        .values_list("case__service_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for line in services:
        line["open_alerts"] = live_alerts.get(line["id"], 0)
    empty = sum(1 for s in services if not (s["persons"] or s["fte"]))
    services = [s for s in services if s["persons"] or s["fte"]]
    services.sort(key=NETWORK_SORTS.get(sort, NETWORK_SORTS["code"]))
    per_unit: dict[int, list] = defaultdict(list)
    unit_alerts: dict[int, int] = defaultdict(int)
    for line in services:
        per_unit[line["unit_id"]].extend(per_agent.get(line["id"], []))
        unit_alerts[line["unit_id"]] += line["open_alerts"]
    units = []
    if not params.service_id:
        units = [
            {
                **_network_line(row, per_unit.get(row.entity_id, []), norm),
                "open_alerts": unit_alerts.get(row.entity_id, 0),
            }
            for row in snapshots.filter(entity_type=EntityType.INTERREGIONAL).order_by("label")
            if row.persons or row.fte
        ]
    every_agent = [v for values in per_agent.values() for v in values]
    types = _measure_type_labels(user)
    return {
        "day": day,
        "services": services,
        "chart": sorted(services, key=NETWORK_SORTS["persons_per_fte"]),
        "units": units,
        "overall": _overall(services, every_agent, norm),
        "empty_services": empty,
        "norm": norm,
        "norms": norms(),
        "measure_types": types,
        "mix_codes": _mix_codes(services, types),
        "sort": sort if sort in NETWORK_SORTS else "code",
    }


def _network_line(row: WorkloadSnapshot, agent_ratios: list, norm: Decimal) -> dict:
    mix_total = sum(row.measure_mix.values()) or 0
    return {
        "id": row.entity_id,
        "code": row.service.code if row.service and row.entity_type == EntityType.SERVICE else "",
        "label": row.label,
        "unit_id": row.interregional_unit_id,
        "persons": row.persons,
        "measures": row.measures,
        "cases_mo": row.cases_mo,
        "cases_mf": row.cases_mf,
        "fte": row.fte,
        "capacity": row.capacity,
        "weighted_load": row.weighted_load,
        "persons_per_fte": row.persons_per_fte,
        "load_percent": row.load_percent,
        # Beside the load, never inside it: the cases nobody follows yet.
        "awaiting_allocation": row.awaiting_allocation,
        "distribution": distribution(agent_ratios),
        "mix": {code: share(n, mix_total) for code, n in row.measure_mix.items()},
        "open_alerts": row.open_alerts,
        "delay_measures": row.delay_measures,
        "delay_median_days": row.delay_median_days,
        "delay_p90_days": row.delay_p90_days,
        "delay_within_share": share(row.delay_within, row.delay_within + row.delay_late),
        **fte_needs(
            weighted=row.weighted_load,
            capacity=row.capacity,
            persons=row.persons,
            fte=row.fte,
            norm=norm,
        ),
    }


def _overall(services: list[dict], agent_ratios: list, norm: Decimal) -> dict:
    return {
        **fold(services, norm),
        "services": len(services),
        "distribution": distribution(agent_ratios),
        "services_distribution": distribution([s["persons_per_fte"] for s in services]),
        "above_norm": sum(1 for s in services if (s["persons_per_fte"] or 0) > norm),
    }


def _measure_type_labels(user) -> dict[str, str]:

    return dict(MeasureType.objects.visible_to(user).values_list("code", "label"))


def _mix_codes(services: list[dict], types: dict) -> list[str]:
    """The measure types present, most frequent first (columns of the mix table)."""
    counts: dict[str, float] = defaultdict(float)
    for service in services:
        for code, pct in service["mix"].items():
            counts[code] += pct or 0
    return sorted(counts, key=lambda code: -counts[code])
