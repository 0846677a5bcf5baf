"""Allocation by weighted load: ranking, impact, reasons, continuity, bulk, API, scoping."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Case
from cases.workload.models import CapacityReduction
from cases.workload.selectors import allocation_options
from cases.workload.services import case_allocate
from spip.models import AuditEntry
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(world):
    """In antenna A1: cpip holds 1 high (0.05) + "mine" (not assessed, 0.02) = 0.07;
    cpip2, half-time, holds "colleague" (0.02) + 1 low (0.005) = 0.025 on 0.5 FTE = 5 %."""
    cpip, cpip2 = world.agents["cpip"], world.agents["cpip2"]
    cpip2.quotite = Decimal("0.50")
    cpip2.save()
    CaseFactory(antenna=world.antenna, referent=cpip, risk_level="high")
    CaseFactory(antenna=world.antenna, referent=cpip2, risk_level="low")
    world.users["cpip"].email = "cpip@justice.example"
    world.users["cpip"].save()
    arrival = world.cases["arrival"]
    arrival.risk_level = "high"
    arrival.save()
    return world


def test_cpips_are_ranked_by_headroom_after_taking_the_case(team):
    options = allocation_options(team.cases["arrival"], timezone.localdate())
    # cpip: 0.07 → 0.12 of 1.0 = 7 % → 12 %, headroom 0.88
    # cpip2: 0.025 → 0.075 of 0.5 = 5 % → 15 %, headroom 0.425
    assert [(o["agent"].user.username, o["before"], o["after"]) for o in options] == [
        ("cpip", Decimal("7.0"), Decimal("12.0")),
        ("cpip2", Decimal("5.0"), Decimal("15.0")),
    ]


def test_an_absent_cpip_is_ranked_last_and_marked(team):
    CapacityReduction.objects.create(
        agent=team.agents["cpip"],
        kind="absence",
        percent=100,
        starts_on=timezone.localdate() - timedelta(days=1),
    )
    options = allocation_options(team.cases["arrival"], timezone.localdate())
    assert [(o["agent"].user.username, o["absent"]) for o in options] == [
        ("cpip2", False),
        ("cpip", True),
    ]


def test_a_cpip_who_followed_the_person_before_is_marked(team):
    person = team.cases["arrival"].person
    CaseFactory(
        person=person,
        antenna=team.antenna,
        referent=team.agents["cpip2"],
        status="closed",
        closed_on=timezone.localdate(),
    )
    options = {
        o["agent"].user.username: o["continuity"]
        for o in allocation_options(team.cases["arrival"], timezone.localdate())
    }
    assert options == {"cpip": False, "cpip2": True}


def test_choosing_someone_else_than_the_top_needs_a_reason(team):
    with pytest.raises(ValidationError) as exc:
        case_allocate(
            actor=team.users["dpip"], case=team.cases["arrival"], referent=team.agents["cpip2"]
        )
    assert "reason" in exc.value.message_dict
    assert Case.objects.get(pk=team.cases["arrival"].pk).referent is None
    case_allocate(
        actor=team.users["dpip"],
        case=team.cases["arrival"],
        referent=team.agents["cpip2"],
        reason="Continuité avec le suivi en détention",
    )
    entry = AuditEntry.objects.filter(object_type="cases.case", changes__has_key="allocation").get()
    assert entry.changes["allocation"] == {
        "before": "5.0",
        "after": "15.0",
        "reason": "Continuité avec le suivi en détention",
        "rank": 2,
    }


def test_allocating_to_the_top_notifies_the_cpip(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case_allocate(
            actor=team.users["dpip"], case=team.cases["arrival"], referent=team.agents["cpip"]
        )
    case = Case.objects.get(pk=team.cases["arrival"].pk)
    assert (case.status, case.referent) == ("active", team.agents["cpip"])
    assert [m.to for m in mail.outbox] == [["cpip@justice.example"]]


def test_a_cpip_of_another_antenna_cannot_be_chosen(team):
    with pytest.raises(ValidationError):
        case_allocate(
            actor=team.users["dspip"],
            case=team.cases["arrival"],
            referent=team.agents["cpip_a2"],
            reason="x",
        )


def test_the_next_snapshot_shows_the_new_load(team):
    from reporting import snapshots
    from reporting.models import WorkloadSnapshot

    day = timezone.localdate()
    snapshots.compute(day=day)
    before = WorkloadSnapshot.objects.get(
        day=day, entity_type="agent", entity_id=team.agents["cpip"].pk
    ).load_percent
    case_allocate(
        actor=team.users["dpip"], case=team.cases["arrival"], referent=team.agents["cpip"]
    )
    snapshots.compute(day=day)
    after = WorkloadSnapshot.objects.get(
        day=day, entity_type="agent", entity_id=team.agents["cpip"].pk
    ).load_percent
    assert (before, after) == (Decimal("7.0"), Decimal("12.0"))


def test_bulk_allocation_reranks_after_each_case(team, client_for):
    second = CaseFactory(antenna=team.antenna, referent=None, risk_level="high")
    third = CaseFactory(antenna=team.antenna, referent=None, risk_level="high")
    response = client_for(team.users["dpip"]).post(
        "/arrivees/attribution-groupee/", {"cases": [team.cases["arrival"].pk, second.pk, third.pk]}
    )
    assert response.status_code == 302
    # cpip: 0.07 of 1.0, cpip2: 0.025 of 0.5. Each high case adds 0.05.
    # 1st → cpip (headroom 0.88 vs 0.425) → 0.12; 2nd → cpip (0.83) → 0.17; 3rd → cpip (0.78).
    referents = [
        Case.objects.get(pk=c.pk).referent.user.username
        for c in (team.cases["arrival"], second, third)
    ]
    assert referents == ["cpip", "cpip", "cpip"]


def test_bulk_allocation_spreads_when_loads_cross(team, client_for):
    team.agents["cpip2"].quotite = Decimal("1.00")
    team.agents["cpip2"].save()
    # cpip 0.07, cpip2 0.025: first high → cpip2 (0.075), then cpip (0.07 < 0.075) → 0.12, then cpip2.
    a = team.cases["arrival"]
    b = CaseFactory(
        antenna=team.antenna,
        referent=None,
        risk_level="high",
        opened_on=a.opened_on + timedelta(days=1),
    )
    c = CaseFactory(
        antenna=team.antenna,
        referent=None,
        risk_level="high",
        opened_on=a.opened_on + timedelta(days=2),
    )
    client_for(team.users["dpip"]).post(
        "/arrivees/attribution-groupee/", {"cases": [a.pk, b.pk, c.pk]}
    )
    assert [Case.objects.get(pk=x.pk).referent.user.username for x in (a, b, c)] == [
        "cpip2",
        "cpip",
        "cpip2",
    ]


def test_allocation_page_shows_the_ranking_and_refuses_a_missing_reason(team, client_for):
    client = client_for(team.users["dpip"])
    url = f"/arrivees/{team.cases['arrival'].pk}/attribuer/"
    html = client.get(url).content.decode()
    assert "7,0 % → <strong>12,0 %</strong>" in html
    response = client.post(url, {"referent": team.agents["cpip2"].pk, "reason": ""})
    assert response.status_code == 200
    assert "Indiquez pourquoi" in response.content.decode()
    response = client.post(url, {"referent": team.agents["cpip"].pk, "reason": ""})
    assert response.status_code == 302


@pytest.mark.parametrize("persona", ["cpip", "bex", "disp", "partner"])
def test_other_roles_cannot_allocate(team, client_for, api_for, persona):
    case = team.cases["arrival"]
    assert client_for(team.users[persona]).get("/arrivees/").status_code == 403
    assert (
        api_for(team.users[persona]).get(f"/api/v1/cases/{case.pk}/allocation-options/").status_code
        == 403
    )


def test_a_dpip_cannot_allocate_outside_their_antenna(team, client_for, api_for):
    other = CaseFactory(antenna=team.antenna2, referent=None)
    assert client_for(team.users["dpip"]).get(f"/arrivees/{other.pk}/attribuer/").status_code == 404
    assert (
        api_for(team.users["dpip"])
        .post(f"/api/v1/cases/{other.pk}/allocate/", {"referent": 1})
        .status_code
        == 404
    )


def test_api_allocation_options_and_allocate(team, api_for):
    api = api_for(team.users["dpip"])
    case = team.cases["arrival"]
    body = api.get(f"/api/v1/cases/{case.pk}/allocation-options/").json()
    assert [(o["rank"], o["before"], o["after"]) for o in body] == [
        (1, "7.0", "12.0"),
        (2, "5.0", "15.0"),
    ]
    response = api.post(
        f"/api/v1/cases/{case.pk}/allocate/", {"referent": team.agents["cpip2"].pk}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    response = api.post(f"/api/v1/cases/{case.pk}/allocate/", {"referent": "abc"}, format="json")
    assert response.status_code == 400 and "referent" in response.json()
    response = api.post(
        f"/api/v1/cases/{case.pk}/allocate/",
        {"referent": team.agents["cpip2"].pk, "reason": "Continuité"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": case.pk,
        "referent": team.agents["cpip2"].pk,
        "status": "active",
    }


def test_arrivals_page_query_count_does_not_grow(team, client_for, django_assert_max_num_queries):
    client = client_for(team.users["dspip"])
    for _ in range(15):
        CaseFactory(antenna=team.antenna, referent=None)
    # session, user, scope, cases, prefetch convocations, measures (+types), DSFR config-free
    with django_assert_max_num_queries(8):
        assert client.get("/arrivees/").status_code == 200


def test_allocation_page_query_count(team, client_for, django_assert_max_num_queries):
    client = client_for(team.users["dpip"])
    url = f"/arrivees/{team.cases['arrival'].pk}/attribuer/"
    with django_assert_max_num_queries(10):
        client.get(url)


def test_a_head_of_antenna_enters_a_capacity_reduction_and_the_load_follows(team, client_for):
    from spip.models import AuditEntry

    agent = team.agents["cpip"]
    url = f"/charge/agents/{agent.pk}/"
    client = client_for(team.users["dpip"])
    before = client.get(url).context["b"]
    refused = client.post(
        url, {"kind": "training", "percent": "20", "starts_on": timezone.localdate().isoformat()}
    )
    assert refused.status_code == 200
    assert "Ce champ est obligatoire." in refused.content.decode()  # the reason
    response = client.post(
        url,
        {
            "kind": "training",
            "percent": "20",
            "starts_on": timezone.localdate().isoformat(),
            "ends_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "note": "Formation de formateur",
        },
    )
    assert response.status_code == 302
    after = client.get(url).context["b"]
    # cpip carries 0.07 of a full-time agent: 7.0 % of 1 FTE; with 20 % of the time taken
    # off, 0.07 ÷ 0.8 = 8.75 %, shown 8.8 % (half up).
    assert (before["capacity"], before["percent"]) == (Decimal("1"), Decimal("7.0"))
    assert (after["capacity"], after["percent"]) == (Decimal("0.8"), Decimal("8.8"))
    entry = AuditEntry.objects.get(object_type="cases.capacityreduction", action="create")
    assert (entry.username, entry.service_id) == ("dpip", agent.service_id)
    # A CPIP cannot reduce anyone's capacity.
    assert client_for(team.users["cpip"]).post(url, {"note": "x"}).status_code == 403
