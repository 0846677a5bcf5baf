"""Workload reads and arithmetic: a case's weight under the policy in force, an agent's
capacity and load %, how it adds up, and the ranked options to allocate an arrival.
The snapshots (reporting) and the allocation services build on these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Case as CaseWhen
from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least

from cases.choices import OPEN_STATUSES as OPEN_STATUSES_ALL
from cases.choices import CaseSetting, CaseStatus, RiskLevel
from cases.models import Case
from cases.workload.models import CapacityReduction, ReductionKind, WorkloadPolicy
from spip.choices import Role
from spip.models import Agent
from spip.numbers import half_up

HUNDRED = Decimal(100)


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


def case_aggregates(policy: WorkloadPolicy) -> dict:
    """The aggregate expressions of a set of open cases, shared by every level."""
    return {
        "persons": Count("person", distinct=True),
        "cases_high": Count("id", filter=Q(risk_level=RiskLevel.HIGH)),
        "cases_moderate": Count("id", filter=Q(risk_level=RiskLevel.MODERATE)),
        "cases_low": Count("id", filter=Q(risk_level=RiskLevel.LOW)),
        "cases_not_assessed": Count("id", filter=Q(risk_level=RiskLevel.NOT_ASSESSED)),
        "cases_mo": Count("id", filter=Q(setting=CaseSetting.OPEN)),
        "cases_mf": Count("id", filter=Q(setting=CaseSetting.CLOSED)),
        "awaiting_allocation": Count("id", filter=Q(status=CaseStatus.AWAITING_ALLOCATION)),
        "weighted": Coalesce(Sum(weight_expression(policy)), Value(Decimal(0))),
    }


def capacity_of(quotite: Decimal, reduction_percent: int) -> Decimal:
    return quotite * (HUNDRED - min(reduction_percent, 100)) / HUNDRED


def load_percent(weighted: Decimal, capacity: Decimal) -> Decimal | None:
    """Σ weights ÷ capacity × 100, one decimal, half up."""
    if not capacity:
        return None
    return half_up(weighted / capacity * HUNDRED)


def persons_per_fte(persons: int, fte: Decimal) -> Decimal | None:
    if not fte:
        return None
    return half_up(Decimal(persons) / fte)


def agents_with_capacity(day: date, agents):
    """CPIPs in post on ``day``, annotated with their active reductions (capped at 100 %)."""
    reductions = (
        CapacityReduction.objects.active_on(day)
        .filter(agent=OuterRef("pk"))
        .values("agent")
        .annotate(total=Sum("percent"))
        .values("total")
    )
    return (
        agents.filter(role=Role.CPIP)
        .active(day)
        .annotate(
            reduction=Least(
                Coalesce(Subquery(reductions, output_field=IntegerField()), 0), Value(100)
            )
        )
    )


def referent_load_without(case, day: date) -> tuple[dict, Decimal | None]:
    """The current referent's breakdown, and their load % once ``case`` has left them."""
    current = agent_breakdown(case.referent, day)
    after = load_percent(
        current["weighted"] - current["policy"].weight(case.risk_level), current["capacity"]
    )
    return current, after


def reassignment_impact(case, option: dict, day: date) -> dict:
    """What moving ``case`` to the CPIP of ``option`` (one of ``allocation_options``) does
    to both loads: "X % → Y %" for the CPIP who takes it and for the one who gives it."""
    current, after = referent_load_without(case, day)
    return {
        "to": {
            "agent": option["agent"].pk,
            "before": str(option["before"]),
            "after": str(option["after"]),
        },
        "from": {"agent": case.referent_id, "before": str(current["percent"]), "after": str(after)},
    }
