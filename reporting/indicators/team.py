"""Team dashboard (DPIP: antenna; DSPIP: service): who is overloaded, why, since when;
what the team needs; the twelve-week trend."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    F,
    Max,
    Min,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from cases.choices import (
    OPEN_STATUSES,
    AlertType,
    CaseStatus,
    RiskLevel,
)
from cases.models import (
    Alert,
    Case,
)
from cases.workload.models import ReferenceNorm, WorkloadPolicy
from cases.workload.selectors import (
    case_aggregates,
    fraction_label,
    load_percent,
    persons_per_fte,
    weight_expression,
)
from reporting.forms import ReportParams
from reporting.indicators.common import HEAD_COUNT_NORM, HUNDRED, RISK_FIELDS, fte_needs, norms
from reporting.models import EntityType, WorkloadSnapshot
from reporting.selectors import team_load
from spip.access import scope_for
from spip.choices import Assignment, Role
from spip.models import Antenna
from spip.numbers import half_up

TREND_WEEKS = 12


def team_entity(user, params: ReportParams) -> tuple[str, int] | None:
    """The team a director looks at: their antenna or service, or the antenna they chose."""
    scope = scope_for(user)
    service_id = scope.service_id or params.service_id
    if scope.role == Role.DPIP and scope.antenna_id:
        return EntityType.ANTENNA, scope.antenna_id
    if params.antenna_id:
        return EntityType.ANTENNA, params.antenna_id
    if service_id:
        return EntityType.SERVICE, service_id
    return None


def load_status(percent, policy: WorkloadPolicy) -> str:
    if percent is None:
        return "none"
    if percent > policy.threshold_red:
        return "red"
    if percent > policy.threshold_amber:
        return "amber"
    return "ok"


def breakdown_of(row, policy: WorkloadPolicy) -> list[dict]:
    """n × weight per risk level, from a snapshot row and the policy that produced it."""
    lines = []
    for level, count_field, weight_field in RISK_FIELDS:
        weight = getattr(policy, weight_field)
        count = getattr(row, count_field)
        lines.append(
            {
                "risk_level": str(level),
                "label": str(RiskLevel(level).label),
                "cases": count,
                "weight": weight,
                "weight_label": fraction_label(weight),
                "load": weight * count,
            }
        )
    return lines


def team_dashboard(user, params: ReportParams) -> dict:
    """Who is overloaded, why, since when: one row per CPIP from the latest snapshot, with
    live alerts by type (outcomes not recorded among them) and arrivals. Nine queries
    whatever the team's size."""
    scope = scope_for(user)
    entity = team_entity(user, params)
    if entity is None or not scope.sees_agents_by_name:
        return {"snapshot": None, "rows": [], "entity": None}
    entity_type, entity_id = entity
    team = (
        WorkloadSnapshot.objects.counted_for(user)
        .filter(entity_type=entity_type, entity_id=entity_id)
        .select_related("policy")
        .order_by("-day")
        .first()
    )
    antennas = list(
        Antenna.objects.visible_to(user)
        .filter(service_id=_service_of(scope, params, team))
        .order_by("name")
    )
    if team is None:
        return {"snapshot": None, "rows": [], "entity": entity, "antennas": antennas}
    policy = team.policy
    agent_rows = WorkloadSnapshot.objects.visible_to(user).filter(
        day=team.day, entity_type=EntityType.AGENT, service_id=team.service_id
    )
    if entity_type == EntityType.ANTENNA:
        agent_rows = agent_rows.filter(antenna_id=entity_id)
    agent_rows = agent_rows.annotate(
        quotite=F("agent__quotite"), assignment=F("agent__assignment")
    ).order_by(F("load_percent").desc(nulls_last=True), "label")
    rows = list(agent_rows)
    if params.setting:
        rows = _restrict_to_setting(user, rows, params.setting, policy)
    agent_ids = [row.agent_id for row in rows]

    scope_cases = (
        Q(case__antenna_id=entity_id)
        if entity_type == EntityType.ANTENNA
        else Q(case__service_id=team.service_id)
    )
    alerts: dict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, alert_type, n in (
        Alert.objects.counted_for(user)
        .filter(scope_cases, closed_at__isnull=True, agent_id__in=agent_ids)
        .values_list("agent_id", "alert_type")
        .annotate(n=Count("id"))
        .order_by()
    ):
        alerts[agent_id][alert_type] = n
    window_start = team.day - timedelta(weeks=TREND_WEEKS)
    history = {
        row["agent_id"]: row
        for row in WorkloadSnapshot.objects.visible_to(user)
        .filter(
            entity_type=EntityType.AGENT,
            agent_id__in=agent_ids,
            day__gte=window_start,
            day__lte=team.day,
        )
        .values("agent_id")
        .annotate(
            first=Min("day"),
            last_ok=Max("day", filter=Q(load_percent__lte=policy.threshold_red)),
        )
        .order_by()
    }
    for row in rows:
        row.status = load_status(row.load_percent, policy)
        row.lines = breakdown_of(row, policy)
        row.reduction_percent = (
            half_up((1 - row.capacity / row.fte) * HUNDRED, Decimal(1)) if row.fte else 0
        )
        row.alerts = alerts.get(row.agent_id, {})
        row.alerts_total = sum(row.alerts.values())
        row.alert_lines = [
            (label, row.alerts[code]) for code, label in AlertType.choices if code in row.alerts
        ]
        # Past convocations without an outcome: the open alerts of that rule (its delay is
        # a setting), so the column and the alert list always agree.
        row.outcomes_missing = row.alerts.get(AlertType.OUTCOME_MISSING, 0)
    # Since when: asked only of the agents above the red threshold now.
    red = {r.agent_id for r in rows if r.status == "red"}
    first_over = _first_over_after(
        user, {a: h for a, h in history.items() if a in red}, policy, window_start, team.day
    )
    for row in rows:
        row.over_since = _over_since(row, history.get(row.agent_id), first_over)
        row.over_whole_window = bool(row.over_since and history[row.agent_id]["last_ok"] is None)
    waiting = Case.objects.counted_for(user).filter(
        status=CaseStatus.AWAITING_ALLOCATION, service_id=team.service_id
    )
    if entity_type == EntityType.ANTENNA:
        waiting = waiting.filter(antenna_id=entity_id)
    arrivals = list(
        waiting.values("antenna_id", "antenna__name")
        .annotate(n=Count("id"), oldest=Min("opened_on"))
        .order_by("antenna__name")
    )
    team_norms = norms()
    totals = _team_totals(rows)
    if not params.setting:
        # The headline is the team's snapshot itself: the same figure as the trend, the
        # homes, the services and national views, the API and the exports.
        totals["load_percent"] = team.load_percent
    return {
        "entity": entity,
        "snapshot": team,
        "policy": policy,
        "load": team_load(team),
        "setting": params.setting,
        "rows": rows,
        "over": [r for r in rows if r.status == "red"],
        "totals": totals,
        "trend": team_trend(user, entity_type, entity_id, team.day),
        "arrivals": arrivals,
        "arrivals_total": sum(a["n"] for a in arrivals),
        "alert_types": AlertType.choices,
        "antennas": antennas,
        "norms": team_norms,
        "needs": _team_needs(team, team_norms),
        "chart_max": _chart_max(rows, policy),
    }


def _team_needs(team: WorkloadSnapshot, team_norms: list[ReferenceNorm]) -> dict:
    """What the team needs: the FTE that would bring its load to 100 % (its weighted load)
    and those that would give the head-count norm, against what it has."""
    norm = next(
        (Decimal(n.persons_per_agent) for n in team_norms if n.code == HEAD_COUNT_NORM),
        Decimal(60),
    )
    return {
        "norm": norm,
        "capacity": team.capacity,
        "fte": team.fte,
        **fte_needs(
            weighted=team.weighted_load,
            capacity=team.capacity,
            persons=team.persons,
            fte=team.fte,
            norm=norm,
        ),
    }


def _service_of(scope, params: ReportParams, team) -> int | None:
    if team is not None:
        return team.service_id
    return scope.service_id or params.service_id


def _restrict_to_setting(user, rows: list, setting: str, policy: WorkloadPolicy) -> list:
    """The MO/MF filter filters cases, not agents: each CPIP's row counts only their open
    cases of that setting (a mixed CPIP's MF cases under MF), over their whole capacity.
    CPIPs without such cases are kept when assigned to that setting. One query."""

    aggregates = case_aggregates(policy)
    by_agent = {
        row["referent_id"]: row
        for row in Case.objects.counted_for(user)
        .filter(
            status__in=OPEN_STATUSES,
            setting=setting,
            referent_id__in=[r.agent_id for r in rows],
        )
        .values("referent_id")
        .annotate(
            **{k: aggregates[k] for k in ("persons", *(f for _l, f, _w in RISK_FIELDS))},
            weighted=Coalesce(Sum(weight_expression(policy)), Value(Decimal(0))),
        )
        .order_by()
    }
    kept = []
    for row in rows:
        figures = by_agent.get(row.agent_id)
        if figures is None and row.assignment not in (setting, Assignment.BOTH):
            continue
        figures = figures or {}
        row.persons = figures.get("persons", 0)
        for _level, field, _weight in RISK_FIELDS:
            setattr(row, field, figures.get(field, 0))
        row.weighted_load = figures.get("weighted", Decimal(0))
        row.load_percent = load_percent(row.weighted_load, row.capacity)
        row.persons_per_fte = persons_per_fte(row.persons, row.fte)
        kept.append(row)
    kept.sort(key=lambda r: (-(r.load_percent or 0), r.label))
    return kept


def _first_over_after(user, history: dict, policy, window_start: date, day: date) -> dict:
    """Per agent, the first snapshot above the red threshold after their last one at or
    below it (after the window's start when none was): the start of the current run.
    One query."""
    if not history:
        return {}
    runs = Q(pk__in=[])
    for agent_id, h in history.items():
        runs |= Q(agent_id=agent_id, day__gt=h["last_ok"] or window_start - timedelta(days=1))
    return dict(
        WorkloadSnapshot.objects.visible_to(user)
        .filter(
            runs, entity_type=EntityType.AGENT, day__lte=day, load_percent__gt=policy.threshold_red
        )
        .values("agent_id")
        .annotate(first=Min("day"))
        .values_list("agent_id", "first")
        .order_by()
    )


def _over_since(row, history, first_over: dict) -> date | None:
    """The first snapshot of the current run above the red threshold (None when not
    above). Over for the whole window: its first snapshot, shown as "at least since"."""
    if row.status != "red" or not history:
        return None
    return first_over.get(row.agent_id)


def _team_totals(rows) -> dict:
    totals = {
        "persons": sum(r.persons for r in rows),
        "fte": sum((r.fte for r in rows), Decimal(0)),
        "capacity": sum((r.capacity for r in rows), Decimal(0)),
        "weighted": sum((r.weighted_load for r in rows), Decimal(0)),
        "alerts": sum(r.alerts_total for r in rows),
        "outcomes_missing": sum(r.outcomes_missing for r in rows),
    }
    for _level, field, _weight in RISK_FIELDS:
        totals[field] = sum(getattr(r, field) for r in rows)
    totals["load_percent"] = load_percent(totals["weighted"], totals["capacity"])
    return totals


def _chart_max(rows, policy) -> int:
    highest = max((r.load_percent or 0 for r in rows), default=0)
    return int(max(highest, policy.threshold_red + 20, 150) // 10 * 10 + 10)


def team_trend(user, entity_type: str, entity_id: int, day: date) -> list[dict]:
    """The last snapshot of each of the past twelve weeks (one query)."""
    rows = (
        WorkloadSnapshot.objects.counted_for(user)
        .filter(
            entity_type=entity_type,
            entity_id=entity_id,
            day__gt=day - timedelta(weeks=TREND_WEEKS),
            day__lte=day,
        )
        .values("day", "load_percent", "persons_per_fte", "persons", "capacity")
        .order_by("day")
    )
    weekly: dict[tuple[int, int], dict] = {}
    for row in rows:
        weekly[row["day"].isocalendar()[:2]] = row
    return list(weekly.values())
