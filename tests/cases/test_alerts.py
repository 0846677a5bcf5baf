"""Each alert opens when its condition holds and closes by itself when it clears.

Time is frozen; dates are the service's local dates (Paris, and Nouméa at UTC+11)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cases.agenda import services as agenda_services
from cases.alerts.services import alerts_refresh
from cases.files import services as case_services
from cases.followup import services as followup_services
from cases.models import Alert, Convocation, Interview
from measures.models import Measure, MeasureType
from partners.models import PartnerBody, TigPlacement, TigPost, TigSession
from spip.choices import Role
from spip.models import Service
from tests.factories import AgentFactory, AntennaFactory, CaseFactory, MeasureFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOUMEA = ZoneInfo("Pacific/Noumea")


def at(*args, tz=PARIS):
    return datetime(*args, tzinfo=tz)


def open_alerts(alert_type=None):
    qs = Alert.objects.filter(closed_at__isnull=True)
    if alert_type:
        qs = qs.filter(alert_type=alert_type)
    return set(qs.values_list("alert_type", "case_id"))


def follow(case, when):
    """An interview held and the next appointment booked: the case is in order."""
    Interview.objects.create(
        case=case,
        agent=case.referent,
        held_at=when,
        kind="office",
        duration_minutes=30,
        attendance="present",
    )
    Convocation.objects.create(
        case=case, kind="follow_up", issued_from="spip", starts_at=when + timedelta(days=20)
    )


@pytest.fixture
def cpip(reference):
    return AgentFactory(role=Role.CPIP, antenna=AntennaFactory())


def sp_case(cpip, judged, **measure):
    case = CaseFactory(
        antenna=cpip.antenna, referent=cpip, opened_on=judged, allocated_on=judged, risk_level="low"
    )
    MeasureFactory(case=case, judgment_date=judged, start_date=judged, **measure)
    return case


def test_late_start_opens_after_45_days_without_interview_and_closes_with_one(cpip):
    case = sp_case(cpip, date(2026, 3, 1))
    Convocation.objects.create(
        case=case, kind="first", issued_from="bex", starts_at=at(2026, 5, 20, 10)
    )
    with time_machine.travel(at(2026, 4, 15, 12), tick=False):  # day 45: still within the delay
        alerts_refresh()
    assert open_alerts("late_start") == set()
    with time_machine.travel(at(2026, 4, 16, 9), tick=False):  # day 46
        alerts_refresh()
        alert = Alert.objects.get(alert_type="late_start", closed_at__isnull=True)
        assert alert.legal_reference == "474 CPP, D.48-2 CPP"
        assert "45 jours" in alert.rule
        assert alert.due_on == date(2026, 4, 15)
        assert alert.agent == cpip
        followup_services.interview_record(
            actor=None,
            case=case,
            agent=cpip,
            held_at=timezone.now(),
            kind="office",
            duration_minutes=30,
            attendance="present",
        )
        alerts_refresh()
    assert open_alerts("late_start") == set()
    assert Alert.objects.get(pk=alert.pk).closed_at is not None


def test_late_start_uses_the_local_date_across_the_dst_change(cpip):
    """Judged on 1 March (UTC+1); the deadline falls after the switch to summer time (UTC+2).
    At 00:30 on 16 April in Paris it is still 15 April in UTC: the case is late."""
    sp_case(cpip, date(2026, 3, 1))
    with time_machine.travel(at(2026, 4, 15, 23, 30), tick=False):
        alerts_refresh()
    assert open_alerts("late_start") == set()
    with time_machine.travel(at(2026, 4, 16, 0, 30), tick=False):
        assert timezone.now().astimezone(ZoneInfo("UTC")).date() == date(2026, 4, 15)
        alerts_refresh()
    assert len(open_alerts("late_start")) == 1


def test_late_start_for_an_overseas_service_follows_its_own_clock(reference):
    noumea = AgentFactory(
        role=Role.CPIP,
        antenna=AntennaFactory(service=Service.objects.get(code="988"), city="Nouméa"),
    )
    paris = AgentFactory(role=Role.CPIP, antenna=AntennaFactory())
    far = sp_case(noumea, date(2026, 3, 1))
    near = sp_case(paris, date(2026, 3, 1))
    # 16 April 00:30 in Nouméa is 15 April 15:30 in Paris.
    with time_machine.travel(at(2026, 4, 16, 0, 30, tz=NOUMEA), tick=False):
        alerts_refresh()
    assert open_alerts("late_start") == {("late_start", far.pk)}
    assert ("late_start", near.pk) not in open_alerts()


def test_sursis_probatoire_renforce_has_8_days_when_provisionally_enforceable(cpip):
    spr = MeasureType.objects.get(code="SPR")
    enforceable = sp_case(cpip, date(2026, 5, 1), measure_type=spr, provisionally_enforceable=True)
    ordinary = sp_case(cpip, date(2026, 5, 1), measure_type=spr, provisionally_enforceable=False)
    # Day 8 is Saturday 9 May 2026 (after the 8 May holiday): the 8 days run to Monday 11
    # (art. 801 CPP), so day 10 is still within it and day 11 is not.
    with time_machine.travel(at(2026, 5, 11, 9), tick=False):  # day 10, the extended last day
        alerts_refresh()
    assert open_alerts("late_start") == set()
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):  # day 11
        alerts_refresh()
    assert open_alerts("late_start") == {("late_start", enforceable.pk)}
    # Day 15 is Saturday 16 May: the 15 days run to Monday 18; Tuesday 19 is past it.
    with time_machine.travel(at(2026, 5, 18, 9), tick=False):
        alerts_refresh()
    assert open_alerts("late_start") == {("late_start", enforceable.pk)}
    with time_machine.travel(at(2026, 5, 19, 9), tick=False):
        alerts_refresh()
    assert open_alerts("late_start") == {
        ("late_start", enforceable.pk),
        ("late_start", ordinary.pk),
    }


def test_no_convocation_issued(cpip):
    case = sp_case(cpip, date(2026, 5, 1))
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):  # 11 days, setting 10
        alerts_refresh()
        assert open_alerts("no_convocation") == {("no_convocation", case.pk)}
        Convocation.objects.create(
            case=case, kind="first", issued_from="spip", starts_at=at(2026, 5, 20, 10)
        )
        alerts_refresh()
    assert open_alerts("no_convocation") == set()


def test_awaiting_allocation(cpip):
    case = CaseFactory(antenna=cpip.antenna, referent=None, opened_on=date(2026, 5, 1))
    with time_machine.travel(at(2026, 5, 9, 9), tick=False):  # 8 days: not yet
        alerts_refresh()
    assert open_alerts("awaiting_allocation") == set()
    with time_machine.travel(at(2026, 5, 10, 9), tick=False):
        alerts_refresh()
        assert open_alerts("awaiting_allocation") == {("awaiting_allocation", case.pk)}
        case_services.case_assign(actor=None, case=case, referent=cpip)
        alerts_refresh()
    assert open_alerts("awaiting_allocation") == set()


def test_missed_convocation_without_reaction(cpip):
    case = sp_case(cpip, date(2026, 4, 1))
    missed = Convocation.objects.create(
        case=case,
        kind="follow_up",
        issued_from="spip",
        starts_at=at(2026, 5, 4, 10),
        status="missed",
        outcome_recorded_at=at(2026, 5, 4, 12),
    )
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):  # 8 days, setting 7
        alerts_refresh()
        alert = Alert.objects.get(alert_type="missed_no_reaction")
        assert alert.convocation_id == missed.pk
        Convocation.objects.filter(pk=missed.pk).update(
            reaction="phone_call", reaction_at=timezone.now()
        )
        alerts_refresh()
    assert open_alerts("missed_no_reaction") == set()


def test_outcome_not_recorded(cpip):
    case = sp_case(cpip, date(2026, 4, 1))
    conv = Convocation.objects.create(
        case=case, kind="follow_up", issued_from="spip", starts_at=at(2026, 5, 4, 10)
    )
    with time_machine.travel(at(2026, 5, 8, 9), tick=False):  # 4 days, setting 3
        alerts_refresh()
        assert open_alerts("outcome_missing") == {("outcome_missing", case.pk)}
        agenda_services.convocation_set_outcome(actor=None, convocation=conv, status="honoured")
        alerts_refresh()
    assert open_alerts("outcome_missing") == set()


def test_contact_overdue_follows_the_intensity_interval(cpip):
    case = sp_case(cpip, date(2026, 1, 5))
    Interview.objects.create(
        case=case,
        agent=cpip,
        held_at=at(2026, 5, 1, 10),
        kind="office",
        duration_minutes=30,
        attendance="present",
    )
    with time_machine.travel(at(2026, 5, 30, 9), tick=False):  # standard: 30 days, 29 elapsed
        alerts_refresh()
    assert open_alerts("contact_overdue") == set()
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):
        alerts_refresh()
        alert = Alert.objects.get(alert_type="contact_overdue")
        assert alert.due_on == date(2026, 5, 31)
        case_services.intensity_set(
            actor=None, case=case, intensity="allege", on=date(2026, 6, 1), agent=cpip
        )
        alerts_refresh()  # light follow-up: 90 days, not overdue any more
    assert open_alerts("contact_overdue") == set()


def test_no_next_appointment(cpip):
    case = sp_case(cpip, date(2026, 4, 1))
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):
        alerts_refresh()
        assert ("no_next_appointment", case.pk) in open_alerts()
        Convocation.objects.create(
            case=case, kind="follow_up", issued_from="spip", starts_at=at(2026, 5, 20, 10)
        )
        alerts_refresh()
    assert open_alerts("no_next_appointment") == set()


def test_repeated_breaches_not_reported(cpip):
    case = sp_case(cpip, date(2026, 1, 5))
    for day in (2, 9):
        Convocation.objects.create(
            case=case,
            kind="follow_up",
            issued_from="spip",
            starts_at=at(2026, 5, day, 10),
            status="missed",
            outcome_recorded_at=at(2026, 5, day, 12),
        )
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):
        alerts_refresh()
        assert "2 absences en 12 mois" in Alert.objects.get(alert_type="repeated_breaches").rule
        followup_services.incident_record(
            actor=None, case=case, author=cpip, noticed_on=date(2026, 5, 11), facts="Deux absences."
        )
        alerts_refresh()
    assert open_alerts("repeated_breaches") == set()


def test_evaluation_report_due_at_three_months(cpip):
    case = sp_case(cpip, date(2026, 2, 20))  # due 20 May; warned 15 days before
    measure = case.measures.get()
    with time_machine.travel(at(2026, 5, 4, 9), tick=False):
        alerts_refresh()
    assert open_alerts("report_due") == set()
    with time_machine.travel(at(2026, 5, 5, 9), tick=False):
        alerts_refresh()
        alert = Alert.objects.get(alert_type="report_due")
        assert (alert.due_on, alert.dedup_key) == (date(2026, 5, 20), f"evaluation:{measure.pk}")
        followup_services.report_record(
            actor=None, case=case, measure=measure, kind="evaluation", sent_on=date(2026, 5, 5)
        )
        alerts_refresh()
    assert open_alerts("report_due") == set()


def test_end_of_measure_report_due_one_month_before_the_end(cpip):
    case = sp_case(cpip, date(2025, 1, 10), planned_end_date=date(2026, 7, 10))
    followup_services.report_record(
        actor=None,
        case=case,
        measure=case.measures.get(),
        kind="evaluation",
        sent_on=date(2025, 4, 1),
    )
    with time_machine.travel(at(2026, 5, 26, 9), tick=False):  # due 10 June, warned from 26 May
        alerts_refresh()
    assert Alert.objects.get(alert_type="report_due").dedup_key.startswith("end:")


def test_tig_at_risk(cpip):
    """Hours left and the deadline within the warning: the hours done are the sessions'."""
    case = sp_case(
        cpip,
        date(2025, 6, 1),
        measure_type=MeasureType.objects.get(code="TIG"),
        tig_hours=105,
        tig_deadline=date(2026, 8, 1),
    )
    measure = case.measures.get()
    host = PartnerBody.objects.create(name="Chantier d'insertion", kind="tig_host")
    post = TigPost.objects.create(partner=host, title="Voirie", place="Lyon", tutor_name="M. B")
    placement = TigPlacement.objects.create(measure=measure, post=post, starts_on=date(2026, 4, 1))
    for day in range(20, 30):  # ten sessions of 4 h in late April: 40 h done, a good pace
        TigSession.objects.create(
            placement=placement,
            on=date(2026, 4, day),
            starts_at=time(8, 0),
            ends_at=time(12, 0),
            outcome="done",
            minutes=240,
        )
    case.measures.update(tig_hours_done=40)
    with time_machine.travel(at(2026, 5, 2, 9), tick=False):  # 91 days left, setting 90
        alerts_refresh()
    assert open_alerts("tig_at_risk") == set()
    with time_machine.travel(at(2026, 5, 4, 9), tick=False):
        alerts_refresh()
        assert "65 h restantes" in Alert.objects.get(alert_type="tig_at_risk").rule
        TigSession.objects.filter(placement=placement).update(minutes=630, ends_at=time(18, 30))
        case.measures.update(tig_hours_done=105)
        alerts_refresh()
    assert open_alerts("tig_at_risk") == set()


def test_assessment_due(cpip):
    case = CaseFactory(
        antenna=cpip.antenna,
        referent=cpip,
        opened_on=date(2026, 4, 1),
        allocated_on=date(2026, 4, 1),
    )
    with time_machine.travel(at(2026, 5, 2, 9), tick=False):  # 31 days, setting 30
        alerts_refresh()
        assert open_alerts("assessment_due") == {("assessment_due", case.pk)}
        case_services.risk_assess(
            actor=None, case=case, level="moderate", assessed_on=date(2026, 5, 2), assessor=cpip
        )
        alerts_refresh()
    assert open_alerts("assessment_due") == set()


def test_a_case_in_order_raises_nothing(cpip):
    case = sp_case(cpip, date(2026, 4, 1))
    case.risk_level = "low"
    case.save()
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):
        follow(case, at(2026, 5, 10, 10))
        alerts_refresh()
    assert open_alerts() == set()


def test_running_twice_changes_nothing(cpip):
    sp_case(cpip, date(2026, 1, 5))
    CaseFactory(antenna=cpip.antenna, referent=None, opened_on=date(2026, 4, 1))
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):
        first = alerts_refresh()
        state = list(Alert.objects.order_by("id").values())
        second = alerts_refresh()
    assert first["opened"] > 0
    assert (second["opened"], second["closed"], second["unchanged"]) == (0, 0, first["opened"])
    assert list(Alert.objects.order_by("id").values()) == state


def test_a_crashed_run_rerun_leaves_the_state_of_a_clean_run(cpip, monkeypatch):
    from cases.alerts import rules as alert_rules

    sp_case(cpip, date(2026, 1, 5))
    CaseFactory(antenna=cpip.antenna, referent=None, opened_on=date(2026, 4, 1))
    with time_machine.travel(at(2026, 5, 12, 9), tick=False):
        alerts_refresh()
        clean = set(
            Alert.objects.filter(closed_at__isnull=True).values_list("alert_type", "dedup_key")
        )
        Alert.objects.all().delete()

        def crash(ctx):
            raise RuntimeError("worker killed")
            yield  # pragma: no cover

        rules = dict(alert_rules.RULES)
        rules["report_due"] = (crash, rules["report_due"][1])
        monkeypatch.setattr("cases.alerts.services.RULES", rules)
        with pytest.raises(RuntimeError):
            alerts_refresh()
        partial = set(
            Alert.objects.filter(closed_at__isnull=True).values_list("alert_type", "dedup_key")
        )
        assert partial < clean  # the types before the crash are done, the rest untouched
        monkeypatch.setattr("cases.alerts.services.RULES", alert_rules.RULES)
        alerts_refresh()
    assert (
        set(Alert.objects.filter(closed_at__isnull=True).values_list("alert_type", "dedup_key"))
        == clean
    )
    assert Alert.objects.count() == len(clean)


def test_snoozing_is_audited_and_hides_the_alert_until_the_date(world, client_for):
    from portal.selectors import open_alerts as visible_open
    from spip.models import AuditEntry

    case = world.cases["mine"]
    alert = Alert.objects.create(
        alert_type="contact_overdue",
        severity="warning",
        case=case,
        agent=world.agents["cpip"],
        rule="r",
        dedup_key=f"case:{case.pk}",
        opened_at=timezone.now(),
    )
    client = client_for(world.users["cpip"])
    until = timezone.localdate() + timedelta(days=7)
    response = client.post(
        f"/alertes/{alert.pk}/reporter/", {"snoozed_until": until, "snooze_reason": "Hospitalisé"}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.snoozed_until, alert.snooze_reason) == (until, "Hospitalisé")
    assert AuditEntry.objects.filter(
        object_type="cases.alert", object_id=str(alert.pk), username="cpip"
    ).exists()
    assert alert not in visible_open(world.users["cpip"])
    # Another service's CPIP cannot even find it.
    other = client_for(world.users["cpip_other"]).post(
        f"/alertes/{alert.pk}/reporter/", {"snoozed_until": until, "snooze_reason": "x"}
    )
    assert other.status_code == 404


def test_the_case_file_names_each_alerts_type(world, client_for):
    from cases.alerts.services import alerts_refresh

    alerts_refresh()
    page = client_for(world.users["cpip"]).get(f"/dossiers/{world.cases['mine'].pk}/")
    html = page.content.decode()
    # "mine" has a measure but no convocation and no next appointment.
    assert "Aucune convocation émise" in html
    assert "Aucun prochain rendez-vous" in html


def test_an_opened_alert_holds_every_column_of_its_finding(cpip):
    case = sp_case(cpip, date(2026, 3, 1))
    measure = Measure.objects.get(case=case)
    now = at(2026, 4, 16, 9)
    with time_machine.travel(now, tick=False):
        alerts_refresh()
    alert = Alert.objects.get(alert_type="late_start")
    assert (
        alert.severity,
        alert.case_id,
        alert.agent_id,
        alert.measure_id,
        alert.convocation_id,
        alert.dedup_key,
        alert.due_on,
        alert.opened_at,
        alert.closed_at,
        alert.snoozed_until,
        alert.snooze_reason,
        alert.without_referent,
    ) == (
        "critical",
        case.pk,
        cpip.pk,
        measure.pk,
        None,
        f"measure:{measure.pk}",
        date(2026, 4, 15),
        now,
        None,
        None,
        "",
        False,
    )


def test_late_start_due_dates_follow_each_service_calendar_on_the_same_judgment_day(reference):
    """Judged the same day, day 45 is Friday 26 December 2025: a working day in Lyon, a
    public holiday in Moselle, where the deadline runs on to Monday 29 (art. 801 CPP)."""
    lyon = AgentFactory(role=Role.CPIP, antenna=AntennaFactory())
    moselle = Service.objects.get(code="57")
    metz = AgentFactory(
        role=Role.CPIP, service=moselle, antenna=AntennaFactory(service=moselle, city="Metz")
    )
    lyon_cases = [sp_case(lyon, date(2025, 11, 11)) for _ in range(2)]
    metz_cases = [sp_case(metz, date(2025, 11, 11)) for _ in range(2)]
    with time_machine.travel(at(2026, 1, 5, 12), tick=False):
        alerts_refresh()
    due = dict(Alert.objects.filter(alert_type="late_start").values_list("case_id", "due_on"))
    assert due == {
        **{case.pk: date(2025, 12, 26) for case in lyon_cases},
        **{case.pk: date(2025, 12, 29) for case in metz_cases},
    }


def test_a_first_run_by_copy_opens_the_same_alerts_as_row_by_row(cpip, monkeypatch):
    """From ``COPY_FROM`` new alerts PostgreSQL takes them by COPY: the same rows, their
    texts whole (a tab, a backslash, a line break, quotes), the alerts already open skipped."""
    from cases.alerts import services as alert_services

    cases = [sp_case(cpip, date(2026, 1, 5)) for _ in range(3)]
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):
        alerts_refresh(types=["no_next_appointment"])  # row by row: 3 alerts
        expected = set(Alert.objects.filter(closed_at__isnull=True).values_list(*COLUMNS))
        assert len(expected) == 3
        Alert.objects.all().delete()
        copied = []
        monkeypatch.setattr(alert_services, "COPY_FROM", 1)
        real_copy = alert_services._copy_rows
        monkeypatch.setattr(
            alert_services,
            "_copy_rows",
            lambda rows, *args: copied.append(len(rows)) or real_copy(rows, *args),
        )
        alerts_refresh(types=["no_next_appointment"])
        assert set(Alert.objects.filter(closed_at__isnull=True).values_list(*COLUMNS)) == expected
        if _postgres():
            assert copied == [3]
        # Tricky text, and one alert already open: inserted once, text intact.
        tricky = "Règle\tà « tabulation »\\ et\nretour\r 'quote' \\N"
        row = (
            "contact_overdue",
            "warning",
            cases[0].pk,
            cpip.pk,
            tricky,
            "",
            date(2026, 6, 30),
            None,
            None,
            f"case:{cases[0].pk}",
            timezone.now(),
            "",
            False,
        )
        assert alert_services._insert_rows([row, row]) == 1
        stored = Alert.objects.get(alert_type="contact_overdue")
        assert (stored.rule, stored.due_on, stored.severity) == (
            tricky,
            date(2026, 6, 30),
            "warning",
        )
        assert stored.opened_at == timezone.now()


# Every column a finding writes.
COLUMNS = (
    "alert_type",
    "severity",
    "case_id",
    "agent_id",
    "rule",
    "legal_reference",
    "due_on",
    "measure_id",
    "convocation_id",
    "dedup_key",
    "opened_at",
    "snooze_reason",
    "without_referent",
)


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def test_copy_text_writes_each_value_as_copy_reads_it():
    """COPY's text format, by hand: NULL as \\N, booleans t/f, dates and aware datetimes in
    ISO form with their offset, and in text the backslash, tab, line feed and carriage
    return escaped (the backslash first)."""
    from cases.alerts.services import _copy_text

    assert _copy_text(None) == "\\N"
    assert _copy_text(True) == "t"
    assert _copy_text(False) == "f"
    assert _copy_text(42) == "42"
    assert _copy_text(date(2026, 6, 30)) == "2026-06-30"
    assert _copy_text(at(2026, 6, 1, 9, tz=NOUMEA)) == "2026-06-01T09:00:00+11:00"
    assert _copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert _copy_text("\\N") == "\\\\N"  # a text that reads \N stays text
