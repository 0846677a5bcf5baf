"""Each indicator on a small hand-built data set; the expected numbers are worked out by hand
in the comments, not recomputed by the code under test."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.files.contacts import first_contact_refresh
from cases.models import Convocation, Interview, Notification
from cases.workload.models import CapacityReduction
from measures.models import MeasureType
from reporting import indicators, snapshots
from reporting.forms import ReportParams
from reporting.stats import distribution, nearest_rank
from tests.factories import CaseFactory, MeasureFactory

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=PARIS)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def period(since: date, until: date = TODAY, **kw) -> ReportParams:
    return ReportParams(since=since, until=until, **kw)


# --- Percentiles -------------------------------------------------------------------------


def test_nearest_rank_percentiles_are_values_of_the_list():
    assert nearest_rank([5, 10, 20, 40], 0.5) == 10
    assert nearest_rank([5, 10, 20, 40], 0.9) == 40
    assert nearest_rank([7], 0.25) == 7
    assert nearest_rank([], 0.5) is None
    assert distribution([90, 30, 60, 120, 45]) == {
        "n": 5,
        "min": 30,
        "q1": 45,  # ceil(1.25) = 2nd of 30, 45, 60, 90, 120
        "median": 60,
        "q3": 90,  # ceil(3.75) = 4th
        "max": 120,
    }


# --- Delays ------------------------------------------------------------------------------


def sentenced(world, judged: date, *, antenna=None, appointment=None, interview=None):
    antenna = antenna or world.antenna
    case = CaseFactory(antenna=antenna, referent=world.agents["cpip"], opened_on=judged)
    MeasureFactory(case=case, judgment_date=judged, court=world.court)
    if appointment is not None:
        Convocation.objects.create(
            case=case,
            kind="end_of_hearing",
            issued_from="bex",
            starts_at=at(judged + timedelta(days=appointment)),
        )
    if interview is not None:
        Interview.objects.create(
            case=case,
            agent=world.agents["cpip"],
            held_at=at(judged + timedelta(days=interview)),
            kind="office",
            duration_minutes=30,
            attendance="present",
        )
    # Rows written directly, as an import would: store the first contact as the services do.
    first_contact_refresh(case_ids=[case.pk])
    return case


def test_delays_median_ninth_decile_and_share_within_the_45_days(frozen, world):
    judged = TODAY - timedelta(days=100)
    sentenced(world, judged, appointment=10, interview=10)
    second = sentenced(world, judged, appointment=20, interview=25)
    third = sentenced(world, judged, appointment=40, interview=50)
    sentenced(world, judged, appointment=60)  # convoked beyond the 45 days
    sentenced(world, judged)  # never convoked, deadline long past: late
    # Neither a cancelled appointment nor the JAP's counts as the SPIP's first appointment.
    Convocation.objects.create(
        case=second,
        kind="first",
        issued_from="spip",
        starts_at=at(judged + timedelta(days=2)),
        status="cancelled",
        outcome_recorded_at=at(judged),
    )
    Convocation.objects.create(
        case=third, kind="jap", issued_from="bex", starts_at=at(judged + timedelta(days=3))
    )

    data = indicators.delays(
        world.users["dspip"], period(TODAY - timedelta(days=120), TODAY - timedelta(days=50))
    )

    # Appointments 10, 20, 40, 60: median = 2nd (20), 9th decile = ceil(3.6) = 4th (60).
    # Interviews 10, 25, 50: median = 2nd (25), 9th decile = 3rd (50).
    # Within 45 days: 3; late: 2 (60 days, none); share 3 / 5 = 60 %.
    assert data["total"] == {
        "measures": 5,
        "within": 3,
        "late": 2,
        "pending": 0,
        "appointment_median": 20,
        "appointment_p90": 60,
        "contact_median": 25,
        "contact_p90": 50,
        "within_share": 60.0,
    }
    assert [s["label"] for s in data["services"]] == ["SPIP du Rhône"]
    late = indicators.late_cases(
        world.users["dspip"],
        period(TODAY - timedelta(days=120), TODAY - timedelta(days=50)),
        today=TODAY,
    )
    assert {f["appointment_days"] for f in late} == {60, None}


def test_a_measure_whose_deadline_has_not_come_is_pending_not_late(frozen, world):
    sentenced(world, TODAY - timedelta(days=20))
    data = indicators.delays(world.users["dpip"], period(TODAY - timedelta(days=60)))
    # The world's own measures (judged 40 days ago, antenna 1) are pending too: 3 in the
    # DPIP's antenna (mine, colleague, arrival) + this one.
    assert data["total"]["pending"] == 4
    assert data["total"]["late"] == 0
    assert data["total"]["within_share"] is None


def test_delays_count_only_the_users_level(frozen, world):
    sentenced(world, TODAY - timedelta(days=100), antenna=world.antenna2, appointment=60)
    sentenced(world, TODAY - timedelta(days=100), antenna=world.other_antenna, appointment=5)
    window = period(TODAY - timedelta(days=120), TODAY - timedelta(days=50))
    assert indicators.delays(world.users["dpip"], window)["total"] is None  # antenna 1 only
    assert indicators.delays(world.users["dspip"], window)["total"]["measures"] == 1
    assert indicators.delays(world.users["dap"], window)["total"]["measures"] == 2
    # The DISP of Lyon counts the Rhône, not Marseille; and lists no one.
    disp = indicators.delays(world.users["disp"], window)
    assert disp["total"]["measures"] == 1
    assert disp["total"]["late"] == 1
    # The list of late measures names persons: the DSPIP's, never the DISP's.
    assert len(indicators.late_cases(world.users["dspip"], window, today=TODAY)) == 1
    assert indicators.late_cases(world.users["disp"], window, today=TODAY) == []


# --- Missed convocations -----------------------------------------------------------------


def convoke(case, day, status, *, reminded=False, kind="follow_up"):
    conv = Convocation.objects.create(
        case=case,
        kind=kind,
        issued_from="spip",
        starts_at=at(day),
        status=status,
        outcome_recorded_at=None if status == "booked" else at(day, 18),
    )
    if reminded:
        Notification.objects.create(
            convocation=conv,
            event="reminder",
            channel="sms",
            recipient="0612345678",
            body="Rappel",
            send_after=at(day - timedelta(days=2)),
            status="sent",
        )
    return conv


def test_missed_rate_is_among_recorded_outcomes_and_reminders_are_compared(frozen, world):
    mine, colleague = world.cases["mine"], world.cases["colleague"]
    day = TODAY - timedelta(days=10)
    convoke(mine, day, "honoured", reminded=True)
    convoke(mine, day, "honoured", reminded=True)
    convoke(mine, day, "missed", reminded=True)
    convoke(colleague, day, "missed")
    convoke(colleague, day, "missed")
    convoke(colleague, day, "excused")
    convoke(colleague, day, "booked")  # past, no outcome recorded
    convoke(colleague, day, "cancelled")  # not counted
    convoke(mine, TODAY + timedelta(days=3), "booked")  # future: not counted
    convoke(world.cases["other"], day, "missed")  # Marseille: not the DSPIP of Lyon's

    data = indicators.missed(world.users["dspip"], period(TODAY - timedelta(days=30)))

    # 7 past convocations; 6 with an outcome of which 3 missed: 50 %; 1 of 7 without: 14.3 %.
    assert data["total"]["total"] == 7
    assert data["total"]["missed_rate"] == 50.0
    assert data["total"]["not_recorded_share"] == 14.3
    reminders = {r["reminded"]: r for r in data["reminders"]}
    assert reminders[True]["missed_rate"] == 33.3  # 1 of 3
    assert reminders[False]["missed_rate"] == 66.7  # 2 of 3 (missed, missed, excused)
    agents = {a["id"]: a for a in data["agents"]}
    assert agents[world.agents["cpip"].pk]["missed"] == 1
    assert agents[world.agents["cpip2"].pk]["missed"] == 2
    assert agents[world.agents["cpip2"].pk]["not_recorded"] == 1
    assert [k["kind"] for k in data["kinds"]] == ["follow_up"]


def test_above_the_service_missed_convocations_name_no_agent(frozen, world):
    convoke(world.cases["mine"], TODAY - timedelta(days=3), "missed")
    data = indicators.missed(world.users["disp"], period(TODAY - timedelta(days=30)))
    assert data["total"]["missed"] == 1
    assert data["agents"] == []


# --- Outcomes ----------------------------------------------------------------------------


def ended(
    world,
    reason,
    *,
    followed_by="service",
    partner=None,
    intensity="standard",
    risk="low",
    end=TODAY - timedelta(days=30),
    code="SP",
):
    case = CaseFactory(
        antenna=world.antenna,
        referent=world.agents["cpip"],
        status="closed",
        closed_on=end,
        opened_on=end - timedelta(days=400),
        intensity=intensity,
        risk_level=risk,
    )
    MeasureFactory(
        case=case,
        court=world.court,
        measure_type=MeasureType.objects.get(code=code),
        judgment_date=end - timedelta(days=400),
        actual_end_date=end,
        end_reason=reason,
        followed_by=followed_by,
        partner=partner,
    )


def test_outcomes_by_type_provider_intensity_and_risk(frozen, world):
    from partners.models import PartnerBody

    relais = PartnerBody.objects.get(name="Association Le Relais")
    for _ in range(3):
        ended(world, "completed", intensity="allege")
    ended(world, "revoked", risk="high", intensity="renforce")
    ended(world, "new_conviction", followed_by="partner", partner=relais, code="TIG")
    ended(world, "completed", followed_by="partner", partner=relais, code="TIG")
    ended(world, "transferred")  # goes on elsewhere: not an outcome
    ended(world, "completed", end=TODAY - timedelta(days=500))  # outside the period

    data = indicators.outcomes(world.users["dspip"], period(TODAY - timedelta(days=365)))

    # 6 measures: 4 completed (66.7 %), 1 revoked (16.7 %), 1 new conviction (16.7 %).
    assert (data["total"]["total"], data["total"]["completed"]) == (6, 4)
    assert data["total"]["completed_share"] == 66.7
    assert data["total"]["revoked_share"] == 16.7
    providers = {(p["followed_by"], p["partner_id"]): p for p in data["providers"]}
    assert providers[("partner", relais.pk)]["total"] == 2
    assert providers[("partner", relais.pk)]["new_conviction"] == 1
    assert providers[("partner", relais.pk)]["label"].endswith("Association Le Relais")
    assert providers[("service", None)]["completed"] == 3
    assert providers[("service", None)]["small"] is True  # 4 < 10: shown as a small group
    types = {t["code"]: t["total"] for t in data["measure_types"]}
    assert types == {"SP": 4, "TIG": 2}
    intensities = {i["intensity"]: i["total"] for i in data["intensities"]}
    assert intensities == {"allege": 3, "renforce": 1, "standard": 2}
    risks = {r["risk_level"]: r["revoked"] for r in data["risk_levels"]}
    assert risks == {"high": 1, "low": 0}


# --- Team dashboard, network, staffing (from snapshots) ----------------------------------


def team_of_three(world):
    """cpip: 10 high (10 × 1/20 = 0.5) + 20 low (20 × 1/200 = 0.1) = 0.6 FTE of work;
    cpip2 (0.5 quotité): 12 moderate = 12 × 1/50 = 0.24 on 0.5 → 48 %;
    cpip_a2: 30 high = 1.5 on 1.0 → 150 %, since a 50 % reduction is nothing here."""
    cpip, cpip2, cpip_a2 = (world.agents[k] for k in ("cpip", "cpip2", "cpip_a2"))
    cpip2.quotite = Decimal("0.50")
    cpip2.save()
    for level, n, agent in (
        ("high", 10, cpip),
        ("low", 20, cpip),
        ("moderate", 12, cpip2),
        ("high", 30, cpip_a2),
    ):
        for _ in range(n):
            CaseFactory(antenna=agent.antenna, referent=agent, risk_level=level)
    return cpip, cpip2, cpip_a2


def test_team_dashboard_lines_and_who_is_over_the_threshold_since_when(frozen, world):
    cpip, cpip2, cpip_a2 = team_of_three(world)
    # cpip's week before: 60 % of 1.0 — then a 50 % reduction from 10 days ago: 120 %.
    snapshots.compute(day=TODAY - timedelta(days=14))
    CapacityReduction.objects.create(
        agent=cpip, kind="sick_leave", percent=50, starts_on=TODAY - timedelta(days=10)
    )
    snapshots.compute(day=TODAY - timedelta(days=7))
    snapshots.compute(day=TODAY)

    data = indicators.team_dashboard(world.users["dspip"], period(TODAY - timedelta(days=365)))

    rows = {r.agent_id: r for r in data["rows"]}
    # The world's own cases: one more case each for cpip ("mine"), cpip2 ("colleague") and
    # cpip_a2 ("a2"), not assessed: 1 × 1/50 = 0.02 each.
    # cpip: (0.5 + 0.1 + 0.02) / 0.5 = 124 %; cpip2: (0.24 + 0.02) / 0.5 = 52 %;
    # cpip_a2: (1.5 + 0.02) / 1.0 = 152 %.
    assert rows[cpip.pk].load_percent == Decimal("124.0")
    assert rows[cpip2.pk].load_percent == Decimal("52.0")
    assert rows[cpip_a2.pk].load_percent == Decimal("152.0")
    assert [r.agent_id for r in data["rows"]] == [cpip_a2.pk, cpip.pk, cpip2.pk]
    assert {r.agent_id for r in data["over"]} == {cpip.pk, cpip_a2.pk}
    # Above 110 % on the two last computations; cpip was at 62 % 14 days ago: since the
    # first snapshot above it, 7 days ago; cpip_a2 was over on every computation: since
    # the first one in the window.
    assert rows[cpip.pk].over_since == TODAY - timedelta(days=7)
    assert rows[cpip_a2.pk].over_since == TODAY - timedelta(days=14)
    assert rows[cpip2.pk].over_since is None
    assert (rows[cpip.pk].over_whole_window, rows[cpip_a2.pk].over_whole_window) == (False, True)
    assert rows[cpip.pk].reduction_percent == 50
    lines = {line["risk_level"]: line for line in rows[cpip.pk].lines}
    assert (lines["high"]["cases"], lines["high"]["weight_label"]) == (10, "1/20")
    assert lines["low"]["load"] == Decimal("0.10000")
    assert data["arrivals_total"] == 1  # the world's arrival
    assert [p["day"] for p in data["trend"]] == [
        TODAY - timedelta(days=14),
        TODAY - timedelta(days=7),
        TODAY,
    ]


def test_a_dpip_sees_their_antenna_only(frozen, world):
    team_of_three(world)
    snapshots.compute(day=TODAY)
    data = indicators.team_dashboard(world.users["dpip"], period(TODAY - timedelta(days=365)))
    assert {r.agent_id for r in data["rows"]} == {world.agents["cpip"].pk, world.agents["cpip2"].pk}


def test_network_persons_per_cpip_distribution_and_staffing_gap(frozen, world):
    team_of_three(world)
    snapshots.compute(day=TODAY)
    data = indicators.network(world.users["disp"], period(TODAY - timedelta(days=365)))
    lyon = next(s for s in data["services"] if s["code"] == "69")
    # Persons followed: 31 (cpip) + 13 (cpip2) + 31 (cpip_a2) = 75 on 2.5 FTE = 30.0 (the
    # arrival is beside the team's figures, not in them).
    assert lyon["persons"] == 75
    assert lyon["fte"] == Decimal("2.500")
    assert lyon["persons_per_fte"] == Decimal("30.0")
    # Per CPIP: 31/1.0 = 31, 13/0.5 = 26, 31/1.0 = 31 → min 26, median 31, max 31.
    assert (
        lyon["distribution"]["min"],
        lyon["distribution"]["median"],
        lyon["distribution"]["max"],
    ) == (Decimal("26.0"), Decimal("31.0"), Decimal("31.0"))
    # Weighted load: 0.62 + 0.26 + 1.52 = 2.40 FTE needed, on 2.5 of capacity: −0.1;
    # 75 / 60 = 1.25 FTE for the norm, 1.25 − 2.5 = −1.25: −1.3 rounded half up.
    assert lyon["needed_load_fte"] == Decimal("2.4")
    assert lyon["gap_load_fte"] == Decimal("-0.1")
    assert lyon["gap_norm_fte"] == Decimal("-1.3")
    assert all(
        s["code"] in {"69", "01", "07", "26", "38", "42", "73", "74"} for s in data["services"]
    )  # the DISP of Lyon's services only
    assert "Marseille" not in str(data)


def test_staffing_what_if_adds_and_moves_agents_without_saving(frozen, world):
    from spip.models import Service

    team_of_three(world)
    snapshots.compute(day=TODAY)
    lyon, marseille = Service.objects.get(code="69"), Service.objects.get(code="13")
    before = indicators.staffing(world.users["dap"], period(TODAY))
    after = indicators.staffing(
        world.users["dap"],
        period(TODAY),
        {"add_service": lyon, "from_service": marseille, "agents": Decimal("1.0")},
    )
    line = next(s for s in after["services"] if s["id"] == lyon.pk)
    # 2.40 on 2.5 + 1.0 = 3.5 → 68.57 → 68.6 %; before 2.40 / 2.5 = 96.0 %; Marseille
    # loses one: 1.0 − 1.0 = 0 of capacity.
    assert line["load_percent"] == Decimal("68.6")
    assert line["load_percent_before"] == Decimal("96.0")
    assert next(s for s in after["services"] if s["id"] == marseille.pk)["capacity"] == 0
    assert after["total"]["fte"] == before["total"]["fte"]  # moved, not added
    weights = indicators.staffing(
        world.users["dap"], period(TODAY), {"weight_high": Decimal("0.1")}
    )
    # High-risk weight doubled: Lyon 2.40 + 40 high × 0.05 = 4.40 FTE needed.
    assert next(s for s in weights["services"] if s["id"] == lyon.pk)["needed_load_fte"] == (
        Decimal("4.4")
    )
    # Nothing saved: the snapshot still says 96.0 %.
    from reporting.models import WorkloadSnapshot

    assert WorkloadSnapshot.objects.get(
        entity_type="service", entity_id=lyon.pk, day=TODAY
    ).load_percent == Decimal("96.0")


def test_snapshots_carry_the_measure_mix_alerts_and_delays(frozen, world):
    from reporting.models import WorkloadSnapshot

    sentenced(world, TODAY - timedelta(days=100), appointment=10)
    sentenced(world, TODAY - timedelta(days=100), appointment=50)
    snapshots.compute(day=TODAY)
    lyon = WorkloadSnapshot.objects.get(
        entity_type="service", entity_id=world.service.pk, day=TODAY
    )
    # 4 world measures + 2 here, all SP; delays: 10 within, 50 late; 4 pending.
    assert lyon.measure_mix == {"SP": 6}
    assert (lyon.delay_measures, lyon.delay_within, lyon.delay_late) == (6, 1, 1)
    assert lyon.delay_median_days == 10
    assert lyon.delay_p90_days == 50


def test_a_cpip_reads_no_report(frozen, world):
    convoke(world.cases["mine"], TODAY - timedelta(days=3), "missed")
    snapshots.compute(day=TODAY)
    window = period(TODAY - timedelta(days=30))
    # The director counts it; the CPIP whose case it is gets no indicator at all.
    assert indicators.missed(world.users["dspip"], window)["total"]["total"] == 1
    assert indicators.team_dashboard(world.users["dspip"], window)["rows"] != []
    assert indicators.missed(world.users["cpip"], window)["total"]["total"] == 0
    assert indicators.team_dashboard(world.users["cpip"], window)["rows"] == []
    assert indicators.network(world.users["cpip"], window)["services"] == []


def test_outcomes_not_recorded_per_cpip_are_the_open_alerts_of_that_rule(frozen, world):
    from cases.alerts.services import alerts_refresh

    mine = world.cases["mine"]
    convoke(mine, TODAY - timedelta(days=5), "booked")  # 5 days, no outcome: alert (3 days)
    convoke(mine, TODAY - timedelta(days=1), "booked")  # yesterday: not yet
    alerts_refresh()
    snapshots.compute(day=TODAY)
    rows = {
        r.agent_id: r
        for r in indicators.team_dashboard(world.users["dspip"], period(TODAY)).get("rows")
    }
    assert rows[world.agents["cpip"].pk].outcomes_missing == 1
    assert rows[world.agents["cpip"].pk].alerts["outcome_missing"] == 1
    assert rows[world.agents["cpip2"].pk].outcomes_missing == 0


def test_a_recompute_without_delays_keeps_the_stored_delays(frozen, world):
    from reporting.models import WorkloadSnapshot

    sentenced(world, TODAY - timedelta(days=100), appointment=10)
    snapshots.compute(day=TODAY)
    CaseFactory(antenna=world.antenna, referent=world.agents["cpip"], risk_level="high")
    snapshots.compute(day=TODAY, service_ids=[world.service.pk], delays=False)
    lyon = WorkloadSnapshot.objects.get(
        entity_type="service", entity_id=world.service.pk, day=TODAY
    )
    assert (lyon.delay_measures, lyon.delay_within, lyon.delay_median_days) == (5, 1, 10)
    # The load did move: 7 cases now (the world's 5, the sentenced one, this one).
    assert lyon.cases_high == 1


def test_the_team_dashboard_says_what_the_team_needs(frozen, world):
    team_of_three(world)
    snapshots.compute(day=TODAY)
    needs = indicators.team_dashboard(world.users["dspip"], period(TODAY))["needs"]
    # Weighted load 0.62 + 0.26 + 1.52 = 2.40 FTE on 2.5: no gap (the arrival is shown
    # beside it); 75 persons / 60 = 1.25 → 1.3 FTE for the norm, 1.25 − 2.5 → −1.3 (half up).
    assert needs["needed_load_fte"] == Decimal("2.4")
    assert needs["gap_load_fte"] == Decimal("-0.1")
    assert needs["needed_norm_fte"] == Decimal("1.3")
    assert needs["gap_norm_fte"] == Decimal("-1.3")


def test_outcomes_count_the_risk_and_intensity_in_force_when_the_measure_ended(frozen, world):
    from cases.models import Case, IntensityChange, RiskAssessment

    end = TODAY - timedelta(days=30)
    ended(world, "revoked", risk="low", intensity="allege", end=end)
    case = Case.objects.latest("pk")
    # High risk and reinforced follow-up until the end; lowered afterwards (the file's
    # current values), which must not rewrite the outcome's context.
    for level, day in (("high", end - timedelta(days=200)), ("low", end + timedelta(days=5))):
        RiskAssessment.objects.create(
            case=case, level=level, assessed_on=day, assessor=world.agents["cpip"]
        )
    for intensity, day in (
        ("renforce", end - timedelta(days=190)),
        ("allege", end + timedelta(days=5)),
    ):
        IntensityChange.objects.create(case=case, intensity=intensity, changed_on=day)

    data = indicators.outcomes(world.users["dspip"], period(TODAY - timedelta(days=365)))

    assert [(r["risk_level"], r["revoked"]) for r in data["risk_levels"]] == [("high", 1)]
    assert [(r["intensity"], r["revoked"]) for r in data["intensities"]] == [("renforce", 1)]
