"""Workload reads. The full engine (snapshots, breakdowns, trends) builds on these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Case as CaseWhen
from django.db.models import Count, DecimalField, Q, Sum, Value, When

from cases.choices import CaseStatus, RiskLevel
from cases.models import Case
from reporting.models import WorkloadPolicy


def weight_expression(policy: WorkloadPolicy):
    """SQL expression: the weight of one case under ``policy``, by its risk level."""
    return CaseWhen(
        When(risk_level=RiskLevel.HIGH, then=Value(policy.weight_high)),
        When(risk_level=RiskLevel.MODERATE, then=Value(policy.weight_moderate)),
        When(risk_level=RiskLevel.LOW, then=Value(policy.weight_low)),
        default=Value(policy.weight_not_assessed),
        output_field=DecimalField(max_digits=12, decimal_places=5),
    )


def caseload_counts(cases) -> dict:
    """Counts by risk level of a queryset of cases, in one query."""
    return cases.aggregate(
        total=Count("id"),
        high=Count("id", filter=Q(risk_level=RiskLevel.HIGH)),
        moderate=Count("id", filter=Q(risk_level=RiskLevel.MODERATE)),
        low=Count("id", filter=Q(risk_level=RiskLevel.LOW)),
        not_assessed=Count("id", filter=Q(risk_level=RiskLevel.NOT_ASSESSED)),
    )


def agent_load(agent, day: date) -> dict:
    """An agent's weighted load and load % under the policy in force on ``day``.

    load % = Σ weight(risk) ÷ quotité × 100 (DOMAIN.md §6). Capacity reductions come
    with the workload engine.
    """
    policy = WorkloadPolicy.objects.in_force(day)
    cases = Case.objects.filter(referent=agent, status=CaseStatus.ACTIVE)
    counts = caseload_counts(cases)
    if policy is None:
        return {**counts, "weighted": None, "percent": None, "policy": None}
    weighted = cases.aggregate(w=Sum(weight_expression(policy)))["w"] or Decimal("0")
    percent = (weighted / agent.quotite * 100).quantize(Decimal("0.1")) if agent.quotite else None
    return {**counts, "weighted": weighted, "percent": percent, "policy": policy}
