"""Workload reads. The full engine (snapshots, breakdowns, trends) builds on these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Case as CaseWhen
from django.db.models import Count, DecimalField, Q, Sum, Value, When

from cases.choices import OPEN_STATUSES as OPEN_STATUSES_ALL
from cases.choices import RiskLevel
from cases.models import Case
from reporting.models import WorkloadPolicy
from reporting.stats import percent


def team_load(snapshot) -> dict | None:
    """A team's load as every page states it, from its snapshot: its CPIPs' caseloads
    over their capacity; beside it the cases to allocate ("arrivées à attribuer : n, soit
    +x points") and the load if they were all allocated, named as such."""
    if snapshot is None:
        return None
    load = snapshot.load_percent
    if_allocated = percent(snapshot.weighted_load + snapshot.awaiting_weighted, snapshot.capacity)
    return {
        "day": snapshot.day,
        "computed_at": snapshot.computed_at,
        "label": snapshot.label,
        "load_percent": load,
        "persons": snapshot.persons,
        "persons_per_fte": snapshot.persons_per_fte,
        "weighted_load": snapshot.weighted_load,
        "capacity": snapshot.capacity,
        "fte": snapshot.fte,
        "awaiting": snapshot.awaiting_allocation,
        "awaiting_weighted": snapshot.awaiting_weighted,
        # The difference of the two figures shown, so that they add up on the page
        # (113.8 + 12.2 = 126.0), rather than each rounded on its own.
        "awaiting_points": None if load is None or if_allocated is None else if_allocated - load,
        "load_if_allocated": if_allocated,
        "open_alerts": snapshot.open_alerts,
    }


def weight_expression(policy: WorkloadPolicy):
    """SQL expression: the weight of one case under ``policy``, by its risk level."""
    return weight_expression_for("", policy)


def caseload_counts(cases) -> dict:
    """Counts by risk level of a queryset of cases, in one query."""
    return cases.aggregate(
        total=Count("id"),
        high=Count("id", filter=Q(risk_level=RiskLevel.HIGH)),
        moderate=Count("id", filter=Q(risk_level=RiskLevel.MODERATE)),
        low=Count("id", filter=Q(risk_level=RiskLevel.LOW)),
        not_assessed=Count("id", filter=Q(risk_level=RiskLevel.NOT_ASSESSED)),
    )


def policy_in_force(day: date) -> WorkloadPolicy:
    policy = WorkloadPolicy.objects.in_force(day)
    if policy is None:
        raise RuntimeError(f"No workload policy in force on {day}")
    return policy


def fraction_label(weight: Decimal) -> str:
    """1/20 rather than 0.05 where the weight is the inverse of a whole caseload."""
    if weight and (1 / weight) == (1 / weight).to_integral_value():
        return f"1/{int(1 / weight)}"
    return f"{weight.normalize()}"


def agent_breakdown(agent, day: date) -> dict:
    """How an agent's load % adds up, live: n × weight per risk level, reductions, quotité."""
    from reporting.models import CapacityReduction
    from reporting.workload import capacity_of, load_percent

    policy = policy_in_force(day)
    counts = caseload_counts(Case.objects.filter(referent=agent, status__in=OPEN_STATUSES_ALL))
    lines = []
    weighted = Decimal(0)
    for level, key in (
        (RiskLevel.HIGH, "high"),
        (RiskLevel.MODERATE, "moderate"),
        (RiskLevel.LOW, "low"),
        (RiskLevel.NOT_ASSESSED, "not_assessed"),
    ):
        weight = policy.weight(level)
        contribution = weight * counts[key]
        weighted += contribution
        lines.append(
            {
                "level": level,
                "label": RiskLevel(level).label,
                "count": counts[key],
                "weight": weight,
                "weight_label": fraction_label(weight),
                "contribution": contribution,
            }
        )
    reductions = list(
        CapacityReduction.objects.active_on(day).filter(agent=agent).order_by("starts_on")
    )
    reduction_percent = min(sum(r.percent for r in reductions), 100)
    capacity = capacity_of(agent.quotite, reduction_percent)
    return {
        "policy": policy,
        "lines": lines,
        "weighted": weighted,
        "quotite": agent.quotite,
        "reductions": reductions,
        "reduction_percent": reduction_percent,
        "capacity": capacity,
        "percent": load_percent(weighted, capacity),
        **counts,
    }


def allocation_options(case, day: date) -> list[dict]:
    """The antenna's CPIPs ranked by headroom after taking ``case`` (its risk weight).

    Each option says "X % → Y %", whether the CPIP followed this person before (MF or MO:
    continuity), their reductions and whether they are absent today. Four queries.
    """
    from reporting.models import CapacityReduction, ReductionKind
    from reporting.workload import agents_with_capacity, capacity_of, load_percent
    from spip.models import Agent

    policy = policy_in_force(day)
    case_weight = policy.weight(case.risk_level)
    agents = list(
        agents_with_capacity(day, Agent.objects.filter(antenna_id=case.antenna_id))
        .select_related("user")
        .annotate(
            weighted=Sum(
                weight_expression_for("cases__", policy),
                filter=Q(cases__status__in=OPEN_STATUSES_ALL),
            )
        )
    )
    followed_before = set(
        Case.objects.filter(person_id=case.person_id, referent__isnull=False)
        .exclude(pk=case.pk)
        .values_list("referent_id", flat=True)
    )
    absent = set(
        CapacityReduction.objects.active_on(day)
        .filter(agent__in=agents, kind__in=[ReductionKind.ABSENCE, ReductionKind.SICK_LEAVE])
        .values_list("agent_id", flat=True)
    )
    options = []
    for agent in agents:
        capacity = capacity_of(agent.quotite, agent.reduction)
        before = agent.weighted or Decimal(0)
        after = before + case_weight
        options.append(
            {
                "agent": agent,
                "capacity": capacity,
                "reduction_percent": agent.reduction,
                "before": load_percent(before, capacity),
                "after": load_percent(after, capacity),
                "headroom_after": capacity - after,
                "continuity": agent.pk in followed_before,
                "absent": agent.pk in absent,
            }
        )
    # Absent agents last; then the most headroom after taking the case.
    options.sort(key=lambda o: (o["absent"], -o["headroom_after"], o["agent"].pk))
    return options


def weight_expression_for(prefix: str, policy: WorkloadPolicy):
    """The case weight expression reached through a relation (``cases__``)."""
    return CaseWhen(
        When(**{f"{prefix}risk_level": RiskLevel.HIGH}, then=Value(policy.weight_high)),
        When(**{f"{prefix}risk_level": RiskLevel.MODERATE}, then=Value(policy.weight_moderate)),
        When(**{f"{prefix}risk_level": RiskLevel.LOW}, then=Value(policy.weight_low)),
        When(
            **{f"{prefix}risk_level": RiskLevel.NOT_ASSESSED},
            then=Value(policy.weight_not_assessed),
        ),
        default=Value(Decimal(0)),
        output_field=DecimalField(max_digits=12, decimal_places=5),
    )
