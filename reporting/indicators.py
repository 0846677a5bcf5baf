"""The dashboards' indicators: one selector per indicator, used by the page, its export and
the reports API, so the three always show the same numbers.

Populations come from ``counted_for(user)`` (numbers) and rows that name someone from
``visible_to(user)``; each selector answers in a fixed number of queries, whatever the
number of agents or cases.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from cases.choices import (
    OPEN_STATUSES,
    AlertType,
    CaseStatus,
    ConvocationStatus,
    ConvocationType,
    Intensity,
    RiskLevel,
)
from cases.models import (
    Alert,
    Case,
    Convocation,
    IntensityChange,
    Notification,
    NotificationStatus,
    RiskAssessment,
)
from cases.workload.models import ReferenceNorm, WorkloadPolicy
from cases.workload.selectors import (
    case_aggregates,
    fraction_label,
    load_percent,
    persons_per_fte,
    weight_expression,
)
from measures.choices import EndReason, FollowedBy
from measures.models import Measure, MeasureType
from reporting.forms import ReportParams
from reporting.models import EntityType, WorkloadSnapshot
from reporting.selectors import team_load
from reporting.stats import (
    custody_count,
    delay_facts,
    delay_summary,
    distribution,
    is_late,
    last_twelve_months,
)
from spip.access import scope_for
from spip.choices import Assignment, Role
from spip.models import Agent, Antenna, InterregionalUnit, Service
from spip.numbers import half_up, share

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")
TREND_WEEKS = 12
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
    first_over = _first_over_after(user, history, policy, window_start, team.day)
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


# --- Delays: sentence → convocation → first interview ----------------------------------


def _measure_population(user, params: ReportParams):
    measures = Measure.objects.counted_for(user).filter(
        judgment_date__gte=params.since, judgment_date__lte=params.until
    )
    measures = narrow(measures, params)
    return measures


LATE_PAGE = 200


def delays(user, params: ReportParams) -> dict:
    """Median and 9th decile of the days from sentence to the first SPIP appointment and to
    the first interview, the share within the statutory deadline, per service and antenna,
    with the monthly trend. One query for the figures (``late_cases`` lists the measures
    outside the deadline)."""
    today = timezone.localdate()
    measures = _measure_population(user, params)
    month = Cast(ExtractYear("judgment_date") * 100 + ExtractMonth("judgment_date"), IntegerField())
    levels = {
        "service": F("case__service_id"),
        "antenna": F("case__antenna_id"),
        "month": month,
        "total": Value(0, output_field=IntegerField()),
    }
    summary = delay_summary(delay_facts(measures, today=today, groups=levels), levels)
    custody = custody_count(measures, today=today)
    by_service, by_antenna, by_month = summary["service"], summary["antenna"], summary["month"]
    total = summary["total"].get(0)
    services = dict(
        Service.objects.visible_to(user).filter(pk__in=list(by_service)).values_list("pk", "name")
    )
    antennas = dict(
        Antenna.objects.visible_to(user).filter(pk__in=list(by_antenna)).values_list("pk", "name")
    )
    return {
        "total": total,
        "custody": custody,
        "services": sorted(
            (
                {"id": pk, "label": services.get(pk, "—"), **figures}
                for pk, figures in by_service.items()
            ),
            key=lambda line: line["label"],
        ),
        "antennas": sorted(
            (
                {"id": pk, "label": antennas.get(pk, "—"), **figures}
                for pk, figures in by_antenna.items()
            ),
            key=lambda line: line["label"],
        ),
        "months": [
            {
                "month": f"{int(key) // 100}-{int(key) % 100:02d}",
                "label": date_format(date(int(key) // 100, int(key) % 100, 1), "F Y"),
                **figures,
            }
            for key, figures in sorted(by_month.items())
        ],
    }


def late_cases(user, params: ReportParams, *, today: date, limit: int | None = LATE_PAGE):
    """Measures of the period outside the deadline, oldest sentence first (named rows:
    ``visible_to``)."""
    measures = Measure.objects.visible_to(user).filter(
        judgment_date__gte=params.since, judgment_date__lte=params.until
    )
    measures = narrow(measures, params)
    facts = delay_facts(
        measures,
        today=today,
        groups={},
        extra=(
            "id",
            "case_id",
            "judgment_date",
            "measure_type__code",
            "case__person__birth_name",
            "case__person__first_names",
            "case__antenna__name",
            "case__referent__user__last_name",
        ),
    )
    facts = facts.filter(is_late()).order_by("judgment_date", "id")
    return list(facts[:limit]) if limit else facts


def delays_for_snapshots(service_ids: list[int] | None, day: date) -> dict[int, dict]:
    """Twelve months of delays per service, for the nightly snapshots (no user: the job)."""
    since, until = last_twelve_months(day)
    measures = Measure.objects.filter(judgment_date__gte=since, judgment_date__lte=until)
    if service_ids is not None:
        measures = measures.filter(case__service_id__in=service_ids)
    levels = {"service": F("case__service_id")}
    return delay_summary(delay_facts(measures, today=day, groups=levels), levels)["service"]


# --- Missed convocations ---------------------------------------------------------------


def _convocation_population(user, params: ReportParams):
    tz = timezone.get_current_timezone()
    start = datetime.combine(params.since, time.min, tzinfo=tz)
    end = min(
        datetime.combine(params.until + timedelta(days=1), time.min, tzinfo=tz), timezone.now()
    )
    convocations = (
        Convocation.objects.counted_for(user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=ConvocationStatus.CANCELLED)
        .exclude(kind=ConvocationType.JAP)
    )
    convocations = narrow(convocations, params)
    return convocations


MISSED_COUNTS = {
    "total": Count("id"),
    "honoured": Count("id", filter=Q(status=ConvocationStatus.HONOURED)),
    "missed": Count("id", filter=Q(status=ConvocationStatus.MISSED)),
    "excused": Count("id", filter=Q(status=ConvocationStatus.EXCUSED)),
    "not_recorded": Count("id", filter=Q(status=ConvocationStatus.BOOKED)),
}


def _missed_figures(row: dict) -> dict:
    recorded = row["honoured"] + row["missed"] + row["excused"]
    return {
        **{key: row[key] for key in MISSED_COUNTS},
        "recorded": recorded,
        "missed_rate": share(row["missed"], recorded),
        "not_recorded_share": share(row["not_recorded"], row["total"]),
        "small": recorded < SMALL_GROUP,
    }


def missed(user, params: ReportParams) -> dict:
    """Past convocations of the period (JAP and cancelled ones aside): missed rate among
    those with an outcome, per service, antenna, agent and type; reminded or not; share
    without an outcome.

    One scan: a single GROUP BY on (service, antenna, referent, type, reminded), folded into
    each level here (a few thousand rows nationally), then the names (three small queries).
    Per-agent lines only within the service."""
    scope = scope_for(user)
    by_agent = scope.sees_agents_by_name
    reminder = Notification.objects.filter(
        convocation=OuterRef("pk"), event="reminder", status=NotificationStatus.SENT
    )
    keys = ["case__service_id", "case__antenna_id", "kind", "reminded"]
    if by_agent:
        keys.append("case__referent_id")
    rows = (
        _convocation_population(user, params)
        .annotate(reminded=Exists(reminder))
        .values(*keys)
        .annotate(**MISSED_COUNTS)
        .order_by()
    )
    levels: dict[str, dict] = {
        level: defaultdict(lambda: dict.fromkeys(MISSED_COUNTS, 0))
        for level in ("total", "service", "antenna", "kind", "reminded", "agent")
    }
    for row in rows:
        for level, key in (
            ("total", 0),
            ("service", row["case__service_id"]),
            ("antenna", row["case__antenna_id"]),
            ("kind", row["kind"]),
            ("reminded", row["reminded"]),
            ("agent", row.get("case__referent_id")),
        ):
            counts = levels[level][key]
            for name in MISSED_COUNTS:
                counts[name] += row[name]
    services = dict(
        Service.objects.visible_to(user)
        .filter(pk__in=list(levels["service"]))
        .values_list("pk", "name")
    )
    antennas = dict(
        Antenna.objects.visible_to(user)
        .filter(pk__in=list(levels["antenna"]))
        .values_list("pk", "name")
    )
    kinds = dict(ConvocationType.choices)

    def lines(level, label_of, key_name="id"):
        return sorted(
            (
                {key_name: key, "label": label_of(key), **_missed_figures(counts)}
                for key, counts in levels[level].items()
                if key is not None
            ),
            key=lambda line: str(line["label"]),
        )

    agents = []
    if by_agent:
        names = {
            a.pk: str(a)
            for a in Agent.objects.visible_to(user)
            .filter(pk__in=[k for k in levels["agent"] if k])
            .select_related("user")
        }
        agents = lines("agent", lambda pk: names.get(pk, "—"))
    return {
        "total": _missed_figures(levels["total"][0]),
        "services": lines("service", lambda pk: services.get(pk, "—")),
        "antennas": lines("antenna", lambda pk: antennas.get(pk, "—")),
        "kinds": lines("kind", lambda code: str(kinds.get(code, code)), "kind"),
        "reminders": [
            {"reminded": key, **_missed_figures(levels["reminded"][key])}
            for key in sorted(levels["reminded"])
        ],
        "agents": agents,
    }


# --- Outcomes ---------------------------------------------------------------------------

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


# --- Network: services side by side (DISP, DAP; a DSPIP sees their own line) -----------

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


# --- Staffing needs and what-if ---------------------------------------------------------


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
