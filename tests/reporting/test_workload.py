"""The load % formula and the snapshots: hand-computed expectations.

Weights of the default policy (APPA): high 1/20 = 0.05, moderate 1/50 = 0.02,
low 1/200 = 0.005, not assessed 0.02 (declared default).
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from cases.workload.models import CapacityReduction, WorkloadPolicy
from reporting import snapshots
from reporting.models import WorkloadSnapshot
from spip.choices import Role
from spip.models import Service
from tests.factories import AgentFactory, AntennaFactory, CaseFactory

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 15)


def cpip(quotite="1.00", **kw):
    antenna = kw.pop("antenna", None) or AntennaFactory()
    return AgentFactory(role=Role.CPIP, antenna=antenna, quotite=Decimal(quotite), **kw)


def give(agent, *levels):
    for level in levels:
        CaseFactory(antenna=agent.antenna, referent=agent, risk_level=level)


def snapshot(agent, day=DAY):
    return WorkloadSnapshot.objects.get(day=day, entity_type="agent", entity_id=agent.pk)


@pytest.mark.parametrize(
    ("levels", "quotite", "reductions", "expected"),
    [
        (["high"] * 2, "1.00", [], Decimal("10.0")),  # 2 × 0.05 = 0.10
        (["high"] * 20, "1.00", [], Decimal("100.0")),  # the APPA maximum: 20 high-risk cases
        (["high"] * 20, "0.50", [], Decimal("200.0")),  # same cases, half-time
        (
            ["high", "moderate", "low", "not_assessed"],
            "0.80",
            [],
            Decimal("11.9"),
        ),  # 0.095 / 0.8 = 11.875
        (["moderate"] * 10, "1.00", [20], Decimal("25.0")),  # 0.2 / (1 × 0.8)
        (["moderate"] * 10, "0.50", [20, 30], Decimal("80.0")),  # 0.2 / (0.5 × 0.5)
        (["low"] * 200, "1.00", [], Decimal("100.0")),  # 200 × 0.005
        ([], "1.00", [], Decimal("0.0")),
    ],
)
def test_load_percent_formula(reference, levels, quotite, reductions, expected):
    agent = cpip(quotite)
    give(agent, *levels)
    for percent in reductions:
        CapacityReduction.objects.create(
            agent=agent, kind="training", percent=percent, starts_on=DAY - timedelta(days=5)
        )
    snapshots.compute(day=DAY)
    assert snapshot(agent).load_percent == expected


def test_reductions_above_100_percent_leave_no_capacity(reference):
    agent = cpip()
    give(agent, "moderate")
    CapacityReduction.objects.create(agent=agent, kind="sick_leave", percent=100, starts_on=DAY)
    CapacityReduction.objects.create(agent=agent, kind="training", percent=20, starts_on=DAY)
    snapshots.compute(day=DAY)
    row = snapshot(agent)
    assert row.capacity == Decimal("0")
    assert row.load_percent is None


def test_an_expired_reduction_stops_counting_by_itself(reference):
    agent = cpip()
    give(agent, *["moderate"] * 10)
    CapacityReduction.objects.create(
        agent=agent,
        kind="training",
        percent=50,
        starts_on=DAY - timedelta(days=30),
        ends_on=DAY - timedelta(days=1),
    )
    snapshots.compute(day=DAY - timedelta(days=1))
    snapshots.compute(day=DAY)
    assert snapshot(agent, DAY - timedelta(days=1)).load_percent == Decimal("40.0")  # 0.2 / 0.5
    assert snapshot(agent, DAY).load_percent == Decimal("20.0")


def test_a_policy_change_applies_from_its_date_and_does_not_rewrite_history(reference):
    agent = cpip()
    give(agent, *["low"] * 10)
    old = WorkloadPolicy.objects.get()
    snapshots.compute(day=DAY - timedelta(days=1))
    fields = {
        f.name: getattr(old, f.name) for f in WorkloadPolicy._meta.concrete_fields if f.name != "id"
    }
    new = WorkloadPolicy.objects.create(
        **{**fields, "name": "Faible à 1/100", "valid_from": DAY, "weight_low": Decimal("0.01")}
    )
    snapshots.compute(day=DAY)
    snapshots.compute(
        day=DAY - timedelta(days=1)
    )  # a rerun of the earlier day keeps the old weights
    before, after = snapshot(agent, DAY - timedelta(days=1)), snapshot(agent, DAY)
    assert (before.load_percent, before.policy_id) == (Decimal("5.0"), old.pk)  # 10 × 0.005
    assert (after.load_percent, after.policy_id) == (Decimal("10.0"), new.pk)  # 10 × 0.01


def test_levels_add_up_and_carry_head_counts(reference):
    antenna = AntennaFactory()
    a = cpip("1.00", antenna=antenna)
    b = cpip("0.50", antenna=antenna)
    give(a, "high", "high")  # 0.10
    give(b, "low", "low")  # 0.01
    CaseFactory(
        antenna=antenna, referent=None, risk_level="not_assessed"
    )  # awaiting: 0.02, beside the team's load, not in it
    snapshots.compute(day=DAY)
    row = WorkloadSnapshot.objects.get(day=DAY, entity_type="antenna", entity_id=antenna.pk)
    # The team's load is its CPIPs' caseloads: 4 persons, 0.10 + 0.01 = 0.11 FTE of work.
    assert row.persons == 4
    assert row.weighted_load == Decimal("0.11")
    assert row.fte == Decimal("1.5")
    assert row.load_percent == Decimal("7.3")  # 0.11 / 1.5 = 7.33 %
    assert row.persons_per_fte == Decimal("2.7")  # 4 / 1.5 = 2.67
    # The arrival beside it: 1 case, 0.02 FTE (+1.3 points: 0.02 / 1.5 = 1.33 %).
    assert row.awaiting_allocation == 1
    assert row.awaiting_weighted == Decimal("0.02")
    service = WorkloadSnapshot.objects.get(
        day=DAY, entity_type="service", entity_id=antenna.service_id
    )
    assert (service.persons, service.awaiting_allocation) == (4, 1)
    region = WorkloadSnapshot.objects.get(
        day=DAY, entity_type="interregional", entity_id=service.interregional_unit_id
    )
    assert (region.persons, region.weighted_load, region.fte) == (
        4,
        Decimal("0.11"),
        Decimal("1.5"),
    )
    nation = WorkloadSnapshot.objects.get(day=DAY, entity_type="nation", entity_id=0)
    assert (nation.persons, nation.awaiting_allocation) == (4, 1)
    assert WorkloadSnapshot.objects.filter(day=DAY, entity_type="service").count() == 103


def test_rerunning_the_same_day_changes_nothing(reference):
    agent = cpip()
    give(agent, "high", "low")
    snapshots.compute(day=DAY)
    first = list(WorkloadSnapshot.objects.order_by("id").values())
    snapshots.compute(day=DAY)
    second = list(WorkloadSnapshot.objects.order_by("id").values())
    strip = lambda rows: [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]  # noqa: E731
    assert strip(first) == strip(second)


def test_a_service_run_touches_only_that_service(reference):
    agent = cpip()
    other = cpip(antenna=AntennaFactory(service=Service.objects.get(code="13")))
    give(agent, "high")
    give(other, "high")
    counts = snapshots.compute(day=DAY, service_ids=[agent.service_id])
    assert counts == {"agent": 1, "antenna": 1, "service": 1}
    assert not WorkloadSnapshot.objects.filter(entity_type="agent", entity_id=other.pk).exists()


def test_the_computation_is_a_fixed_number_of_queries(reference, django_assert_max_num_queries):
    antenna = AntennaFactory()
    for _ in range(5):
        give(cpip(antenna=antenna), "high", "low", "moderate")
    # policy, agents, agent cases, agent measures, 3 × (measure mix, cases) for antenna,
    # service and region, nation (1), labels (5), open alerts (4 levels + nation), delays of
    # the nation, its directions and services (rules, figures, custody, names, stored, old
    # days purged), upsert (1–2) + savepoints.
    with django_assert_max_num_queries(31):
        snapshots.compute(day=DAY)
    for _ in range(10):
        give(cpip(antenna=antenna), "high", "low")
    with django_assert_max_num_queries(31):
        snapshots.compute(day=DAY)
