"""One truth per figure: every page, the API and the exports state the same team load,
rounded as people round, over the same twelve months. Expected values are worked out by
hand in the comments.

Weights (reference policy): high 1/20 = 0.05, moderate 1/50 = 0.02, low 1/200 = 0.005,
not assessed 0.02. The world's cases are not assessed: "mine" (cpip), "colleague" (cpip2),
"a2" (cpip_a2), the arrival (antenna 1, unallocated), "other" (Marseille).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.choices import CaseSetting
from cases.workload.models import WorkloadPolicy
from cases.workload.selectors import load_percent
from reporting import indicators, snapshots
from reporting.forms import ReportParams
from reporting.models import WorkloadSnapshot
from reporting.stats import last_twelve_months
from spip.choices import Role
from spip.jobs import job_runs_sweep
from spip.models import JobRun, JobStatus, Prison, Service
from spip.numbers import half_up, percent
from tests.factories import AgentFactory, AntennaFactory, CaseFactory, MeasureFactory

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=PARIS)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def give(agent, level: str, n: int, **case):
    for _ in range(n):
        CaseFactory(antenna=agent.antenna, referent=agent, risk_level=level, **case)


@pytest.fixture
def rhone(frozen, world):
    """Lyon: cpip 10 high + "mine" = 0.52; cpip2 20 low + "colleague" = 0.12; cpip_a2
    5 moderate + "a2" = 0.12: 0.76 FTE of work on 3.0 → 25.33 → 25.3 %. Persons 11 + 21 + 6
    = 38 on 3 FTE → 12.67 → 12.7. The arrival (0.02) beside it: 0.02 / 3 → +0.7 point;
    0.78 / 3 = 26.0 % if it were allocated.
    Antenna 1 (cpip, cpip2): 0.64 / 2.0 = 32.0 %; its arrival: +1.0 point.
    Ain (same region): one CPIP with 2 high = 0.10 on 1.0 = 10.0 %, 2 persons."""
    give(world.agents["cpip"], "high", 10)
    give(world.agents["cpip2"], "low", 20)
    give(world.agents["cpip_a2"], "moderate", 5)
    ain = AgentFactory(
        role=Role.CPIP, antenna=AntennaFactory(service=Service.objects.get(code="01"))
    )
    give(ain, "high", 2)
    snapshots.compute(day=TODAY)
    return world


def test_the_team_load_is_the_same_on_every_page_and_in_the_api(rhone, client_for, api_for):
    world = rhone
    # The team page: headline, arrivals beside it, the load if all were allocated.
    page = client_for(world.users["dspip"]).get("/tableaux/equipe/")
    assert page.context["totals"]["load_percent"] == Decimal("25.3")
    html = page.content.decode()
    assert "25,3 %" in html
    assert "Arrivées à attribuer : 1, soit +0,7 points." in html
    assert "Charge si tout était attribué : 26,0 %." in html
    assert page.context["trend"][-1]["load_percent"] == Decimal("25.3")
    assert page.context["needs"]["needed_load_fte"] == Decimal("0.8")  # 0.76 → 0.8
    # The API.
    body = api_for(world.users["dspip"]).get("/api/v1/reports/team/").json()
    assert Decimal(str(body["load_percent"])) == Decimal("25.3")
    assert Decimal(str(body["team"]["load_percent"])) == Decimal("25.3")
    assert Decimal(str(body["team"]["awaiting_points"])) == Decimal("0.7")
    assert body["team"]["awaiting"] == 1
    # The director's home, at once.
    home = client_for(world.users["dspip"]).get("/")
    assert home.context["load"]["load_percent"] == Decimal("25.3")
    assert "La charge n&#x27;a pas encore été calculée" not in home.content.decode()
    assert "n'a pas encore été calculée" not in home.content.decode()
    assert 'data-testid="home-team-load"' in home.content.decode()
    # The services and the national views.
    services = api_for(world.users["dap"]).get("/api/v1/reports/services/").json()
    lyon = next(s for s in services["services"] if s["code"] == "69")
    assert Decimal(str(lyon["load_percent"])) == Decimal("25.3")
    assert Decimal(str(lyon["persons_per_fte"])) == Decimal("12.7")
    assert lyon["persons"] == 38
    page = client_for(world.users["dap"]).get("/tableaux/services/")
    assert "25,3" in page.content.decode()
    # The regional and national homes: the same rows (the region: 0.86 on 4.0 = 21.5 %).
    disp = client_for(world.users["disp"]).get("/")
    rhone = next(s for s in disp.context["services"] if s.code == "69")
    assert rhone.snapshot.load_percent == Decimal("25.3")
    assert "25,3 %" in disp.content.decode()
    dap = client_for(world.users["dap"]).get("/")
    unit = next(u for u in dap.context["units"] if u.name == "DISP de Lyon")
    assert unit.snapshot.load_percent == Decimal("21.5")


def test_the_head_of_antenna_sees_the_antennas_load_everywhere(rhone, client_for, api_for):
    world = rhone
    home = client_for(world.users["dpip"]).get("/")
    assert home.context["load"]["load_percent"] == Decimal("32.0")
    assert home.context["load"]["awaiting_points"] == Decimal("1.0")
    team = client_for(world.users["dpip"]).get("/tableaux/equipe/")
    assert team.context["totals"]["load_percent"] == Decimal("32.0")
    body = api_for(world.users["dpip"]).get("/api/v1/reports/team/").json()
    assert Decimal(str(body["load_percent"])) == Decimal("32.0")


def test_a_region_is_the_sum_of_its_services(rhone, api_for):
    rows = WorkloadSnapshot.objects.filter(day=TODAY)
    lyon_service = Service.objects.get(code="69")
    region = rows.get(entity_type="interregional", entity_id=lyon_service.interregional_unit_id)
    services = rows.filter(
        entity_type="service", interregional_unit_id=lyon_service.interregional_unit_id
    )
    # Rhône 38 persons, 0.76 FTE of work, 3.0 FTE; Ain 2, 0.10, 1.0: 40, 0.86 on 4.0 →
    # 21.5 %; arrivals: the Rhône's one.
    assert (region.persons, region.weighted_load, region.fte) == (40, Decimal("0.86"), 4)
    assert region.load_percent == Decimal("21.5")
    assert region.awaiting_allocation == 1
    for name in ("persons", "measures", "cases_high", "awaiting_allocation", "open_alerts"):
        assert getattr(region, name) == sum(getattr(s, name) for s in services), name
    assert region.weighted_load == sum(s.weighted_load for s in services)
    nation = rows.get(entity_type="nation")
    assert nation.persons == sum(r.persons for r in rows.filter(entity_type="interregional"))
    # A service's recompute (a reassignment) refreshes its region and the nation too.
    CaseFactory(
        antenna=rhone.antenna, referent=rhone.agents["cpip"], risk_level="high"
    )  # +0.05: Rhône 0.81 on 3 → 27.0 %; region 0.91 on 4 → 22.75 → 22.8 %
    snapshots.compute(day=TODAY, service_ids=[lyon_service.pk], delays=False)
    region.refresh_from_db()
    assert (region.persons, region.load_percent) == (41, Decimal("22.8"))
    body = api_for(rhone.users["dap"]).get("/api/v1/reports/services/").json()
    unit = next(u for u in body["units"] if u["label"] == "DISP de Lyon")
    assert (unit["persons"], Decimal(str(unit["load_percent"]))) == (41, Decimal("22.8"))


# --- Numbers as people compute them -------------------------------------------------------


def test_rounding_is_half_up_stored_and_shown(frozen, world, client_for):
    assert load_percent(Decimal("0.73"), Decimal("0.8")) == Decimal("91.3")  # 91.25
    assert half_up(Decimal("-1.25")) == Decimal("-1.3")
    assert half_up(Decimal("0.05"), Decimal(1)) == Decimal(0)
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 16) == Decimal("6.3")  # 6.25
    # A CPIP at 0.8: 14 high (0.70) + 6 low (0.03) + "mine" is cpip's, not hers: 0.73 / 0.8
    # = 91.25 % → 91.3 (half to even would say 91.2).
    agent = AgentFactory(role=Role.CPIP, antenna=world.antenna, quotite=Decimal("0.80"))
    give(agent, "high", 14)
    give(agent, "low", 6)
    snapshots.compute(day=TODAY)
    row = WorkloadSnapshot.objects.get(day=TODAY, entity_type="agent", entity_id=agent.pk)
    assert row.load_percent == Decimal("91.3")
    page = client_for(world.users["dspip"]).get(f"/charge/agents/{agent.pk}/")
    assert "91,3" in page.content.decode()


def test_the_twelve_months_window_at_its_edges(frozen, world):
    assert last_twelve_months(date(2026, 11, 30)) == (date(2025, 12, 1), date(2026, 11, 30))
    assert last_twelve_months(date(2024, 2, 29)) == (date(2023, 3, 1), date(2024, 2, 29))
    since, until = last_twelve_months(TODAY)
    assert (since, until) == (date(2025, 6, 16), TODAY)
    for judged in (date(2025, 6, 15), date(2025, 6, 16), TODAY):
        case = CaseFactory(antenna=world.antenna, referent=world.agents["cpip"])
        MeasureFactory(case=case, judgment_date=judged, start_date=judged, court=world.court)
    snapshots.compute(day=TODAY)
    # Inside: 16 June 2025 and today, plus the world's four Rhône measures judged 40 days
    # ago; 15 June 2025 is a year and a day ago: outside. 6 in both places.
    service = WorkloadSnapshot.objects.get(
        day=TODAY, entity_type="service", entity_id=world.service.pk
    )
    assert service.delay_measures == 6
    from reporting.forms import report_params

    _form, params = report_params({}, world.users["dspip"])
    assert (params.since, params.until) == (date(2025, 6, 16), TODAY)
    assert indicators.delays(world.users["dspip"], params)["total"]["measures"] == 6


def snapshot(agent, day: date, percent: str):
    return WorkloadSnapshot.objects.create(
        day=day,
        entity_type="agent",
        entity_id=agent.pk,
        label=str(agent),
        agent=agent,
        antenna=agent.antenna,
        service=agent.service,
        policy=WorkloadPolicy.objects.get(),
        load_percent=Decimal(percent),
        computed_at=timezone.now(),
    )


def test_over_since_is_the_first_snapshot_of_the_current_run(frozen, world):
    cpip = world.agents["cpip"]
    give(cpip, "high", 30)  # 1.5 + "mine" 0.02 on 1.0: 152 % today
    # A weekly history (threshold 110 %): 100, 120, 105, 115, then today 152.
    for weeks, value in ((4, "100.0"), (3, "120.0"), (2, "105.0"), (1, "115.0")):
        snapshot(cpip, TODAY - timedelta(weeks=weeks), value)
    snapshots.compute(day=TODAY)
    data = indicators.team_dashboard(world.users["dspip"], ReportParams(TODAY, TODAY))
    row = next(r for r in data["rows"] if r.agent_id == cpip.pk)
    assert row.load_percent == Decimal("152.0")
    # Above since the snapshot of a week ago (115), not the day after the 105 one.
    assert row.over_since == TODAY - timedelta(weeks=1)
    assert row.over_whole_window is False


def test_the_setting_filter_counts_cases_not_agents(frozen, world):
    cpip, cpip2, cpip_a2 = (world.agents[k] for k in ("cpip", "cpip2", "cpip_a2"))
    cpip2.assignment = "mo"
    cpip2.save()
    prison = Prison.objects.create(
        name="Maison d'arrêt de Lyon-Corbas", kind="ma", service=world.service, city="Corbas"
    )
    give(cpip, "high", 4)  # MO
    give(cpip, "high", 2, setting=CaseSetting.CLOSED, prison=prison)  # MF
    give(cpip2, "low", 10)  # MO
    snapshots.compute(day=TODAY)
    user = world.users["dspip"]

    mf = indicators.team_dashboard(user, ReportParams(TODAY, TODAY, setting="mf"))
    rows = {r.agent_id: r for r in mf["rows"]}
    # cpip (mixed): only their 2 MF cases, 0.10 on 1.0 = 10.0 %; cpip_a2 (mixed) has none:
    # 0 %; cpip2 works in MO only and has no MF case: not listed.
    assert set(rows) == {cpip.pk, cpip_a2.pk}
    assert (rows[cpip.pk].persons, rows[cpip.pk].cases_high) == (2, 2)
    assert rows[cpip.pk].load_percent == Decimal("10.0")
    assert rows[cpip_a2.pk].load_percent == Decimal("0.0")
    assert mf["totals"]["load_percent"] == Decimal("5.0")  # 0.10 on 2.0

    mo = indicators.team_dashboard(user, ReportParams(TODAY, TODAY, setting="mo"))
    rows = {r.agent_id: r for r in mo["rows"]}
    # cpip: 4 high + "mine" = 0.22 → 22.0 %, 5 persons; cpip2: 10 low + "colleague" = 0.07
    # → 7.0 %; cpip_a2: "a2" = 0.02 → 2.0 %.
    assert (rows[cpip.pk].persons, rows[cpip.pk].load_percent) == (5, Decimal("22.0"))
    assert rows[cpip2.pk].load_percent == Decimal("7.0")
    assert rows[cpip_a2.pk].load_percent == Decimal("2.0")

    # Unfiltered, every case counts: cpip 0.32 → 32.0 %.
    whole = indicators.team_dashboard(user, ReportParams(TODAY, TODAY))
    assert next(r for r in whole["rows"] if r.agent_id == cpip.pk).load_percent == Decimal("32.0")


def test_the_what_if_cannot_move_more_than_a_service_has(frozen, world, client_for):
    snapshots.compute(day=TODAY)
    lyon, marseille = Service.objects.get(code="69"), Service.objects.get(code="13")
    user = world.users["dap"]
    params = ReportParams(TODAY, TODAY)
    # Marseille has one CPIP (1.0 FTE): 2 cannot leave it.
    with pytest.raises(ValidationError) as error:
        indicators.staffing(
            user, params, {"add_service": lyon, "from_service": marseille, "agents": Decimal(2)}
        )
    assert error.value.message_dict == {
        "agents": [
            "Le service SPIP des Bouches-du-Rhône n'a que 1,0 ETP de CPIP : il ne peut pas en "
            "céder 2,0."
        ]
    }
    page = client_for(user).get(
        "/tableaux/effectifs/",
        {"simulate": "1", "add_service": lyon.pk, "from_service": marseille.pk, "agents": "2"},
    )
    assert "il ne peut pas en céder 2,0" in page.content.decode()
    # Moving its one FTE conserves the totals: 3 + 1 in post before and after.
    before = indicators.staffing(user, params)
    after = indicators.staffing(
        user, params, {"add_service": lyon, "from_service": marseille, "agents": Decimal(1)}
    )
    assert before["total"]["fte"] == after["total"]["fte"] == Decimal(4)
    assert before["total"]["capacity"] == after["total"]["capacity"] == Decimal(4)
    lines = {line["id"]: line for line in after["services"]}
    assert (lines[lyon.pk]["fte"], lines[marseille.pk]["fte"]) == (Decimal(4), Decimal(0))


# --- Jobs account for themselves ---------------------------------------------------------


def test_a_run_whose_worker_died_is_swept_to_interrupted(frozen, world, client_for):
    now = timezone.now()
    dead = JobRun.objects.create(
        name="workload_snapshot_compute",
        service=world.service,
        started_at=now - timedelta(hours=2),  # its limit: 4 × 660 s + 3 × 600 s = 74 min
    )
    alive = JobRun.objects.create(
        name="workload_snapshot_compute",
        service=world.service,
        started_at=now - timedelta(minutes=10),
    )
    done = JobRun.objects.create(
        name="alerts_refresh",
        started_at=now - timedelta(days=1),
        finished_at=now - timedelta(days=1),
        status=JobStatus.SUCCESS,
    )
    assert job_runs_sweep() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    done.refresh_from_db()
    assert (dead.status, dead.finished_at) == (JobStatus.INTERRUPTED, now)
    assert (alive.status, done.status) == (JobStatus.RUNNING, JobStatus.SUCCESS)
    assert job_runs_sweep() == 0  # a second sweep changes nothing
    # The director's recompute page says so.
    page = client_for(world.users["dspip"]).get(f"/charge/executions/{dead.pk}/")
    assert "a été interrompu avant la fin" in page.content.decode()
    assert dead.get_status_display() == "Interrompu"
