"""Workload snapshots: risk-weighted caseload ratios per level and day, as set-based SQL.

load % = Σ weight(risk) ÷ capacity × 100, where capacity = quotité × (1 − active
reductions), both in full-time equivalents (DOMAIN.md §6). Counts come from a handful of
GROUP BY queries; Python only folds the agent rows (≤ 4,000) into the higher levels and
writes one snapshot row per entity per day, upserted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import connection, models
from django.db.models import Count, Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from cases.choices import OPEN_STATUSES
from cases.models import Alert, Case
from cases.workload.models import WorkloadPolicy
from cases.workload.selectors import (
    agents_with_capacity,
    capacity_of,
    case_aggregates,
    load_percent,
    persons_per_fte,
)
from measures.models import Measure
from reporting.indicators.delays import regional_delay_figures
from reporting.models import COUNT_FIELDS, DelaysSnapshot, EntityType, WorkloadSnapshot
from reporting.stats import delays_for_snapshots, judged_in_last_twelve_months
from spip.models import Agent, Antenna, InterregionalUnit, Service

SNAPSHOT_EXTRA_DEFAULTS: dict[str, Any] = {
    "open_alerts": 0,
    "measure_mix": {},
    "delay_measures": 0,
    "delay_within": 0,
    "delay_late": 0,
    "delay_median_days": None,
    "delay_p90_days": None,
}

# Days of stored national and regional delays kept (``DelaysSnapshot``).
DELAYS_KEPT_DAYS = 31

DELAY_FIELDS = tuple(name for name in SNAPSHOT_EXTRA_DEFAULTS if name.startswith("delay_"))


@dataclass
class Tally:
    """The figures of one entity before they become a snapshot row."""

    label: str = ""
    owners: dict = field(default_factory=dict)
    counts: dict = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))
    weighted: Decimal = Decimal(0)
    fte: Decimal = Decimal(0)
    capacity: Decimal = Decimal(0)
    awaiting_weighted: Decimal = Decimal(0)
    extra: dict = field(default_factory=dict)


def compute(
    *, day: date | None = None, service_ids: list[int] | None = None, delays: bool = True
) -> dict[str, int]:
    """Upsert the snapshots of ``day`` (agents, antennas, services, and, for a national run,
    interregional units and the nation). Returns the number of rows per level.

    ``delays=False`` keeps the stored delays (a reassignment changes loads, not delays)."""
    day = day or timezone.localdate()
    policy = WorkloadPolicy.objects.in_force(day)
    if policy is None:
        raise RuntimeError(f"No workload policy in force on {day}")
    national = service_ids is None
    cases = Case.objects.filter(status__in=OPEN_STATUSES)
    measures = Measure.objects.filter(actual_end_date__isnull=True, case__status__in=OPEN_STATUSES)
    agents = Agent.objects.all()
    if not national:
        cases = cases.filter(service_id__in=service_ids or [])
        measures = measures.filter(case__service_id__in=service_ids or [])
        agents = agents.filter(service_id__in=service_ids or [])

    tallies: dict[tuple[str, int], Tally] = defaultdict(Tally)
    aggregates = case_aggregates(policy)

    # 1. Agents: their caseload (referent) and their capacity.
    agent_rows = list(
        agents_with_capacity(day, agents)
        .select_related("user")
        .values(
            "id",
            "quotite",
            "reduction",
            "antenna_id",
            "service_id",
            "service__interregional_unit_id",
            "user__first_name",
            "user__last_name",
            "user__username",
        )
    )
    by_agent: dict[int, Any] = {
        row["referent_id"]: row
        for row in cases.filter(referent__isnull=False)
        .values("referent_id")
        .annotate(**aggregates)
        .order_by()
    }
    measures_by_agent = dict(
        measures.values_list("case__referent_id").annotate(n=Count("id")).order_by()
    )
    in_post = {row["id"] for row in agent_rows}
    for row in agent_rows:
        tally = tallies[(EntityType.AGENT, row["id"])]
        name = (
            f"{row['user__first_name']} {row['user__last_name']}".strip() or row["user__username"]
        )
        tally.label = name
        tally.owners = {
            "agent_id": row["id"],
            "antenna_id": row["antenna_id"],
            "service_id": row["service_id"],
            "interregional_unit_id": row["service__interregional_unit_id"],
        }
        tally.fte = row["quotite"]
        tally.capacity = capacity_of(row["quotite"], row["reduction"])
        _absorb(tally, by_agent.get(row["id"]), measures_by_agent.get(row["id"], 0))
        # 2. A team's load is its CPIPs' caseloads over their capacity: each agent's
        # figures roll up to their antenna and service.
        for key in _parents(row["antenna_id"], row["service_id"]):
            _add(tallies[key], tally)

    # 3. Beside it, the open cases no CPIP in post follows (arrivals to allocate, files of
    # agents who left), per antenna and service of the case.
    unfollowed = cases.filter(~Q(referent_id__in=in_post) | Q(referent__isnull=True))
    for entity_type, case_key in (
        (EntityType.ANTENNA, "antenna_id"),
        (EntityType.SERVICE, "service_id"),
    ):
        for row in (
            unfollowed.values(case_key)
            .annotate(n=Count("id"), weighted=aggregates["weighted"])
            .order_by()
        ):
            tally = tallies[(entity_type, row[case_key])]
            tally.counts["awaiting_allocation"] = row["n"]
            tally.awaiting_weighted = row["weighted"] or Decimal(0)
        mix: dict[int, dict[str, int]] = defaultdict(dict)
        for key, code, n in (
            measures.values_list(f"case__{case_key}", "measure_type__code")
            .annotate(n=Count("id"))
            .order_by()
        ):
            mix[key][code] = n
        for key, codes in mix.items():
            tallies[(entity_type, key)].extra["measure_mix"] = codes

    _count_open_alerts(tallies, service_ids)
    if delays:
        # A service's recompute refreshes its own row's delays; the stored national and
        # regional pages (``DelaysSnapshot``) wait for the next national run.
        by_service = _store_delays(day) if national else delays_for_snapshots(service_ids, day)
        for service_id, figures in by_service.items():
            tallies[(EntityType.SERVICE, service_id)].extra.update(
                delay_measures=figures["measures"],
                delay_within=figures["within"],
                delay_late=figures["late"],
                delay_median_days=figures["appointment_median"],
                delay_p90_days=figures["appointment_p90"],
            )

    _label_and_own(tallies, national, service_ids)
    counts = _upsert(day, policy, tallies, keep=() if delays else DELAY_FIELDS)
    counts.update(roll_up(day, policy, every_unit=national))
    return counts


def _store_delays(day: date) -> dict[int, dict]:
    """The twelve-month delays of the nation and of each interregional direction, stored
    as their pages show them (``DelaysSnapshot``), upserted. Returns the nation's figures
    per service, which the service snapshots carry: one computation for both."""
    computed_at = timezone.now()
    nation, regions = regional_delay_figures(judged_in_last_twelve_months(day), today=day)
    rows = [
        DelaysSnapshot(
            day=day,
            entity_type=EntityType.NATION,
            entity_id=0,
            figures=nation,
            computed_at=computed_at,
        ),
        *(
            DelaysSnapshot(
                day=day,
                entity_type=EntityType.INTERREGIONAL,
                entity_id=unit_id,
                interregional_unit_id=unit_id,
                figures=figures,
                computed_at=computed_at,
            )
            for unit_id, figures in regions.items()
        ),
    ]
    DelaysSnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["day", "entity_type", "entity_id"],
        update_fields=["figures", "computed_at", "interregional_unit"],
    )
    # Only today's figures are read: a month is kept, for a look back at a recent day.
    DelaysSnapshot.objects.filter(day__lte=day - timedelta(days=DELAYS_KEPT_DAYS)).delete()
    return {line["id"]: line for line in nation["services"]}


def _count_open_alerts(tallies, service_ids) -> None:
    """Open alerts per agent who now holds them (``Alert.agent``), and per antenna and
    service of their case: one GROUP BY, folded here. Regions and the nation sum their
    services (``roll_up``)."""

    alerts = Alert.objects.filter(closed_at__isnull=True)
    if service_ids is not None:
        alerts = alerts.filter(case__service_id__in=service_ids)
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for agent_id, antenna_id, service_id, n in (
        alerts.values_list("agent_id", "case__antenna_id", "case__service_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if agent_id is not None:
            counts[(EntityType.AGENT, agent_id)] += n
        counts[(EntityType.ANTENNA, antenna_id)] += n
        counts[(EntityType.SERVICE, service_id)] += n
    for key, n in counts.items():
        if key in tallies or key[0] != EntityType.AGENT:
            tallies[key].extra["open_alerts"] = n


def _add(team: Tally, agent: Tally) -> None:
    team.fte += agent.fte
    team.capacity += agent.capacity
    team.weighted += agent.weighted
    for name in COUNT_FIELDS:
        if name != "awaiting_allocation":
            team.counts[name] += agent.counts[name]


def _parents(antenna_id, service_id):
    if antenna_id:
        yield (EntityType.ANTENNA, antenna_id)
    if service_id:
        yield (EntityType.SERVICE, service_id)


def _absorb(tally: Tally, row: dict | None, measures: int) -> None:
    tally.counts["measures"] = measures
    if not row:
        return
    for name in COUNT_FIELDS:
        if name in row:
            tally.counts[name] = row[name]
    tally.weighted = row["weighted"] or Decimal(0)


def _label_and_own(tallies, national: bool, service_ids) -> None:
    """Names and owner columns of the non-agent rows, in one query per level."""
    wanted = defaultdict(set)
    for entity_type, entity_id in tallies:
        wanted[entity_type].add(entity_id)
    if not national:
        wanted[EntityType.SERVICE] |= set(service_ids or [])
        for antenna_id in Antenna.objects.filter(service_id__in=service_ids).values_list(
            "id", flat=True
        ):
            wanted[EntityType.ANTENNA].add(antenna_id)
    else:
        wanted[EntityType.SERVICE] |= set(Service.objects.values_list("id", flat=True))
    for antenna in Antenna.objects.filter(id__in=wanted[EntityType.ANTENNA]).select_related(
        "service"
    ):
        tally = tallies[(EntityType.ANTENNA, antenna.id)]
        tally.label = antenna.name
        tally.owners = {
            "antenna_id": antenna.id,
            "service_id": antenna.service_id,
            "interregional_unit_id": antenna.service.interregional_unit_id,
        }
    for service in Service.objects.filter(id__in=wanted[EntityType.SERVICE]):
        tally = tallies[(EntityType.SERVICE, service.id)]
        tally.label = service.name
        tally.owners = {
            "service_id": service.id,
            "interregional_unit_id": service.interregional_unit_id,
        }


def _upsert(day: date, policy: WorkloadPolicy, tallies, keep=()) -> dict[str, int]:
    """One row per tally, inserted or updated in place (the day's key), ``keep``'s columns
    left as stored. The rows go to the database as prepared values, not model instances:
    only the columns whose type needs it (decimals, JSON, dates) are prepared, by their
    field, as ``bulk_create`` would."""
    now = timezone.now()
    fields = [f for f in WorkloadSnapshot._meta.concrete_fields if not f.primary_key]
    prepare = {
        f.attname: partial(f.get_db_prep_save, connection=connection)
        for f in fields
        if isinstance(f, models.DecimalField | models.JSONField | models.DateField)
    }
    rows = []
    for (entity_type, entity_id), tally in tallies.items():
        persons = tally.counts["persons"]
        values = {
            "day": day,
            "entity_type": str(entity_type),
            "entity_id": entity_id,
            "label": tally.label[:200] or "—",
            "agent_id": None,
            "antenna_id": None,
            "service_id": None,
            "interregional_unit_id": None,
            "policy_id": policy.pk,
            "weighted_load": tally.weighted,
            "awaiting_weighted": tally.awaiting_weighted,
            "fte": tally.fte,
            "capacity": tally.capacity,
            "load_percent": load_percent(tally.weighted, tally.capacity),
            "persons_per_fte": persons_per_fte(persons, tally.fte),
            "computed_at": now,
            **SNAPSHOT_EXTRA_DEFAULTS,
            **tally.extra,
            **tally.counts,
            **tally.owners,
        }
        rows.append(
            [
                prepare[f.attname](values[f.attname]) if f.attname in prepare else values[f.attname]
                for f in fields
            ]
        )
    updated = [
        "label",
        "policy",
        "weighted_load",
        "awaiting_weighted",
        "fte",
        "capacity",
        "load_percent",
        "persons_per_fte",
        "computed_at",
        "agent",
        "antenna",
        "service",
        "interregional_unit",
        *COUNT_FIELDS,
        *(name for name in SNAPSHOT_EXTRA_DEFAULTS if name not in keep),
    ]
    ops = connection.ops
    column = {f.name: str(f.column) for f in fields}
    conflict = ops.on_conflict_suffix_sql(
        fields,
        OnConflict.UPDATE,
        [column[name] for name in updated],
        [column[name] for name in ("day", "entity_type", "entity_id")],
    )
    table = ops.quote_name(WorkloadSnapshot._meta.db_table)
    columns = ", ".join(ops.quote_name(str(f.column)) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch_size = max(min(1000, ops.bulk_batch_size(fields, rows)), 1)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            # Table and column names are the model's own; every value is bound.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                f"{', '.join([row_sql] * len(batch))} {conflict}",
                [value for row in batch for value in row],
            )
    counts: dict[str, int] = defaultdict(int)
    for entity_type, _ in tallies:
        counts[str(entity_type)] += 1
    return dict(counts)


SUMMED = (
    *COUNT_FIELDS,
    "weighted_load",
    "awaiting_weighted",
    "fte",
    "capacity",
    "open_alerts",
    "delay_measures",
    "delay_within",
    "delay_late",
)


def roll_up(day: date, policy: WorkloadPolicy, *, every_unit: bool) -> dict[str, int]:
    """The interregional units and the nation of ``day``, as the sums of their services'
    rows, so that a region always equals the sum of its services (a recompute of one
    service refreshes its region and the nation too). Medians do not add up: a region has
    none. ``every_unit``: write every unit (the nightly run); otherwise only the units
    that already have a row that day (a service's recompute)."""
    units = {unit.pk: unit.name for unit in InterregionalUnit.objects.all()}
    if not every_unit:
        kept = set(
            WorkloadSnapshot.objects.filter(
                day=day, entity_type=EntityType.INTERREGIONAL
            ).values_list("entity_id", flat=True)
        )
        if not kept:
            return {}
        units = {pk: name for pk, name in units.items() if pk in kept}
    tallies: dict[tuple[str, int], Tally] = {
        (EntityType.INTERREGIONAL, pk): Tally(label=name, owners={"interregional_unit_id": pk})
        for pk, name in units.items()
    }
    tallies[(EntityType.NATION, 0)] = Tally(label="France")
    for row in WorkloadSnapshot.objects.filter(day=day, entity_type=EntityType.SERVICE).values(
        "interregional_unit_id", "measure_mix", *SUMMED
    ):
        keys = [(EntityType.NATION, 0)]
        if (EntityType.INTERREGIONAL, row["interregional_unit_id"]) in tallies:
            keys.append((EntityType.INTERREGIONAL, row["interregional_unit_id"]))
        for key in keys:
            tally = tallies[key]
            for name in COUNT_FIELDS:
                tally.counts[name] += row[name]
            tally.weighted += row["weighted_load"]
            tally.awaiting_weighted += row["awaiting_weighted"]
            tally.fte += row["fte"]
            tally.capacity += row["capacity"]
            for name in ("open_alerts", "delay_measures", "delay_within", "delay_late"):
                tally.extra[name] = tally.extra.get(name, 0) + row[name]
            mix = tally.extra.setdefault("measure_mix", {})
            for code, n in row["measure_mix"].items():
                mix[code] = mix.get(code, 0) + n
    return _upsert(day, policy, tallies)
