"""First contact, the person's situation and art. 801 CPP, on hand-built cases.

Every case is a sursis probatoire (SP: 45 days from the judgment to the first SPIP
appointment, 474 CPP) unless said otherwise. Expected alerts and figures are written down
from the calendar, not from the code.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cases.agenda import services as booking
from cases.alerts.services import alerts_refresh
from cases.files.contacts import first_contact_refresh
from cases.followup import services as followup_services
from cases.models import Alert, Convocation, Interview
from measures.deadlines import last_day, latest_start_expired, next_working_day
from measures.models import DeadlineRule
from reporting import indicators
from reporting.forms import ReportParams
from spip.choices import Role
from spip.models import Prison, Service
from tests.factories import AgentFactory, AntennaFactory, CaseFactory, MeasureFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def at(day: date, hour: int = 10, tz=PARIS) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def cpip_in(code: str):
    antenna = AntennaFactory(service=Service.objects.get(code=code))
    return AgentFactory(role=Role.CPIP, antenna=antenna)


def sentenced(cpip, judged: date, **case):
    case = CaseFactory(
        antenna=cpip.antenna,
        referent=cpip,
        opened_on=judged,
        allocated_on=judged,
        risk_level="low",
        **case,
    )
    MeasureFactory(case=case, judgment_date=judged, start_date=judged)
    return case


def open_of(alert_type: str) -> set[int]:
    return set(
        Alert.objects.filter(alert_type=alert_type, closed_at__isnull=True).values_list(
            "case_id", flat=True
        )
    )


# --- The calendar ------------------------------------------------------------------------


def test_a_deadline_ending_on_a_weekend_or_holiday_runs_to_the_next_working_day(reference):
    rule = DeadlineRule.objects.get(code="SPIP_AFTER_SENTENCE")
    assert rule.amount == 45 and rule.extends_to_working_day  # on by default
    # 29 January + 45 = Sunday 15 March 2026 → Monday 16.
    assert last_day(rule, date(2026, 1, 29)) == date(2026, 3, 16)
    # 30 March + 45 = Thursday 14 May (Ascension) → Friday 15.
    assert last_day(rule, date(2026, 3, 30)) == date(2026, 5, 15)
    # 17 February + 45 = Friday 3 April: a working day in Lyon; Good Friday in Moselle, then
    # the weekend and Easter Monday → Tuesday 7 April.
    assert last_day(rule, date(2026, 2, 17)) == date(2026, 4, 3)
    assert last_day(rule, date(2026, 2, 17), "57") == date(2026, 4, 7)
    # 12 April + 45 = Wednesday 27 May: abolition of slavery in Guadeloupe → Thursday 28.
    assert last_day(rule, date(2026, 4, 12), "971") == date(2026, 5, 28)
    assert last_day(rule, date(2026, 4, 12)) == date(2026, 5, 27)
    # The latest judgment whose deadline has passed on Tuesday 17 March: 30 January (+45 =
    # Monday 16); 31 January ends Tuesday 17 itself.
    assert latest_start_expired(rule, date(2026, 3, 17)) == date(2026, 1, 30)
    # On Monday 16 March: 27 January (+45 = Friday 13); 28 January (+45 = Saturday 14) and
    # 29 January (Sunday 15) both run to Monday 16, not yet passed.
    assert latest_start_expired(rule, date(2026, 3, 16)) == date(2026, 1, 27)
    assert next_working_day(date(2026, 12, 25), "57") == date(2026, 12, 28)  # Fri, Sat 26


def test_the_bex_desk_labels_slots_with_the_extended_deadline(reference):
    from cases.agenda import services as booking
    from measures.models import MeasureType

    sp = MeasureType.objects.get(code="SP")
    # Judged 29 January: the 45th day is Sunday 15 March, a slot on Monday 16 is within.
    assert booking.deadline_for(sp, date(2026, 1, 29)).last_day == date(2026, 3, 16)
    # Judged 17 February in Moselle: Good Friday, the weekend, Easter Monday → Tuesday 7 April.
    assert booking.deadline_for(sp, date(2026, 2, 17), subdivision="57").last_day == date(
        2026, 4, 7
    )


def test_the_extension_is_a_per_rule_setting(reference):
    rule = DeadlineRule.objects.get(code="SPIP_AFTER_SENTENCE")
    rule.extends_to_working_day = False
    assert last_day(rule, date(2026, 1, 29)) == date(2026, 3, 15)


def test_late_start_waits_for_the_next_working_day_in_each_calendar(reference):
    lyon, metz, pointe = cpip_in("69"), cpip_in("57"), cpip_in("971")
    sunday = sentenced(lyon, date(2026, 1, 29))  # 45th day Sunday 15 March
    ascension = sentenced(lyon, date(2026, 3, 30))  # 45th day Thursday 14 May
    good_friday_lyon = sentenced(lyon, date(2026, 2, 17))  # Friday 3 April, working
    good_friday_metz = sentenced(metz, date(2026, 2, 17))  # holiday in Moselle
    abolition_paris = sentenced(lyon, date(2026, 4, 12))  # Wednesday 27 May, working
    abolition_pointe = sentenced(pointe, date(2026, 4, 12))  # holiday in Guadeloupe

    def late_on(day: date, tz=PARIS) -> set[int]:
        with time_machine.travel(at(day, 12, tz), tick=False):
            alerts_refresh(types=["late_start"])
        return open_of("late_start")

    # In the order of the calendar (the job runs forward in time).
    assert sunday.pk not in late_on(date(2026, 3, 16))  # the extended last day
    assert sunday.pk in late_on(date(2026, 3, 17))
    # Saturday 4 April: Lyon's deadline (Friday 3) has passed; Metz's runs to Tuesday 7.
    alerts = late_on(date(2026, 4, 4))
    assert good_friday_lyon.pk in alerts
    assert good_friday_metz.pk not in alerts
    assert good_friday_metz.pk not in late_on(date(2026, 4, 7))
    assert good_friday_metz.pk in late_on(date(2026, 4, 8))
    assert ascension.pk not in late_on(date(2026, 5, 15))
    assert ascension.pk in late_on(date(2026, 5, 16))
    # Thursday 28 May at noon in Guadeloupe (18:00 in Paris): late in Paris, not there.
    guadeloupe = ZoneInfo("America/Guadeloupe")
    alerts = late_on(date(2026, 5, 28), guadeloupe)
    assert abolition_paris.pk in alerts
    assert abolition_pointe.pk not in alerts
    assert abolition_pointe.pk in late_on(date(2026, 5, 29), guadeloupe)
    alert = Alert.objects.get(case=abolition_pointe, alert_type="late_start")
    assert alert.due_on == date(2026, 5, 28)


# --- First contact -----------------------------------------------------------------------

JUDGED = date(2026, 3, 2)  # + 45 days = Thursday 16 April 2026, a working day
DAY_46 = date(2026, 4, 17)


@pytest.fixture
def four_cases(reference):
    """One free person each, sentenced on 2 March 2026:
    - one_click: convoked on day 20 (22 March), recorded "honoured" with the one-click
      outcome, no interview form;
    - interviewed: no convocation, an interview on day 30 (1 April);
    - both: honoured convocation on day 25, interview on day 15: first contact day 15;
    - none: convoked on day 10 (12 March) but absent, never seen since."""
    cpip = cpip_in("69")
    with time_machine.travel(at(JUDGED), tick=False):
        cases = {k: sentenced(cpip, JUDGED) for k in ("one_click", "interviewed", "both", "none")}
    for key, day, status in (
        ("one_click", 20, "booked"),
        ("both", 25, "booked"),
        ("none", 10, "missed"),
    ):
        Convocation.objects.create(
            case=cases[key],
            kind="first",
            issued_from="bex",
            starts_at=at(JUDGED + timedelta(days=day)),
            status=status,
            outcome_recorded_at=None if status == "booked" else at(JUDGED + timedelta(days=day)),
        )
    with time_machine.travel(at(JUDGED + timedelta(days=26)), tick=False):
        for key in ("one_click", "both"):
            convocation = Convocation.objects.get(case=cases[key])
            booking.convocation_set_outcome(actor=None, convocation=convocation, status="honoured")
    for key, day in (("interviewed", 30), ("both", 15)):
        Interview.objects.create(
            case=cases[key],
            agent=cpip,
            held_at=at(JUDGED + timedelta(days=day)),
            kind="office",
            duration_minutes=30,
            attendance="present",
        )
    # The interviews are written directly, as an import would: store the first contact as
    # the services do.
    first_contact_refresh(case_ids=[case.pk for case in cases.values()])
    return cpip, cases


def test_first_contact_is_the_honoured_convocation_or_the_interview_whichever_first(
    four_cases, client_for, api_for
):
    cpip, cases = four_cases
    with time_machine.travel(at(DAY_46, 12), tick=False):
        alerts_refresh()
        # Only the person never seen raises "late start"; the one-click outcome counts.
        assert open_of("late_start") == {cases["none"].pk}
        # Contact overdue (standard follow-up, 30 days): last contact 22 March (one click),
        # 1 April, 27 March: all within 30 days of 17 April; "none" was never seen since
        # its allocation on 2 March: overdue.
        assert open_of("contact_overdue") == {cases["none"].pk}

        params = ReportParams(since=JUDGED, until=DAY_46)
        director = AgentFactory(role=Role.DSPIP, service=cpip.service)
        data = indicators.delays(director.user, params)
        # Days to first contact: 20, 30, 15 (and none): median 20, 9th decile 30.
        assert (data["total"]["contact_median"], data["total"]["contact_p90"]) == (20, 30)
        # Convoked or met within the 45 days, whichever first: day 20 (one click), day 30
        # (met, never convoked), day 15 (met before the convocation), day 10 (convoked,
        # absent): 4 within, none late, and none on the list of measures outside it.
        assert (data["total"]["within"], data["total"]["late"]) == (4, 0)
        assert indicators.late_cases(director.user, params, today=DAY_46) == []

        # The API gives each measure its first contact, from the same selector.
        body = api_for(cpip.user).get(f"/api/v1/cases/{cases['both'].pk}/").json()
        assert body["measures"][0]["first_contact_on"] == str(JUDGED + timedelta(days=15))
        body = api_for(cpip.user).get(f"/api/v1/cases/{cases['one_click'].pk}/").json()
        assert body["measures"][0]["first_contact_on"] == str(JUDGED + timedelta(days=20))
        body = api_for(cpip.user).get(f"/api/v1/cases/{cases['none'].pk}/").json()
        assert body["measures"][0]["first_contact_on"] is None


# --- The person's situation and what counts as issued -------------------------------------


def test_custody_cases_have_no_sentencing_clock_and_are_counted_apart(reference, client_for):
    cpip = cpip_in("69")
    prison = Prison.objects.create(
        name="Maison d'arrêt de Lyon-Corbas", kind="ma", service=cpip.service, city="Corbas"
    )
    with time_machine.travel(at(JUDGED), tick=False):
        free = sentenced(cpip, JUDGED)
        sentenced(cpip, JUDGED, setting="mf", prison=prison)  # in custody
    with time_machine.travel(at(DAY_46, 12), tick=False):
        alerts_refresh()
        # 46 days, never convoked: the free person raises both clocks, the prisoner none.
        assert open_of("late_start") == {free.pk}
        assert open_of("no_convocation") == {free.pk}
        director = AgentFactory(role=Role.DSPIP, service=cpip.service)
        data = indicators.delays(director.user, ReportParams(since=JUDGED, until=DAY_46))
        # One free measure, late (no convocation, deadline passed); one custody, apart.
        assert (data["total"]["measures"], data["total"]["late"]) == (1, 1)
        assert data["custody"] == 1
        page = (
            client_for(director.user)
            .get("/tableaux/delais/", {"since": "2026-03-02", "until": "2026-04-17"})
            .content.decode()
        )
        assert "1 mesure prononcée" in page and "comptée à part" in page


@pytest.mark.parametrize("outcome", ["cancelled", "excused"])
def test_a_cancelled_or_excused_convocation_is_not_an_issued_one(reference, outcome):
    cpip = cpip_in("69")
    with time_machine.travel(at(JUDGED), tick=False):
        case = sentenced(cpip, JUDGED)
    Convocation.objects.create(
        case=case,
        kind="first",
        issued_from="bex",
        starts_at=at(JUDGED + timedelta(days=5)),
        status=outcome,
        outcome_reason="Empêchement",
        outcome_recorded_at=at(JUDGED + timedelta(days=4)),
    )
    # 11 days after the judgment (setting: 10), the only convocation was called off.
    with time_machine.travel(at(JUDGED + timedelta(days=11), 12), tick=False):
        alerts_refresh(types=["no_convocation"])
        assert open_of("no_convocation") == {case.pk}
    with time_machine.travel(at(DAY_46, 12), tick=False):
        director = AgentFactory(role=Role.DSPIP, service=cpip.service)
        data = indicators.delays(director.user, ReportParams(since=JUDGED, until=DAY_46))
        # No appointment issued and the 45 days over: late, with no appointment delay.
        assert (data["total"]["late"], data["total"]["appointment_median"]) == (1, None)


def test_the_service_refuses_an_interview_in_the_future(reference, api_for):
    from django.core.exceptions import ValidationError

    cpip = cpip_in("69")
    case = sentenced(cpip, timezone.localdate() - timedelta(days=5))
    tomorrow = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        followup_services.interview_record(
            actor=cpip.user,
            case=case,
            agent=cpip,
            held_at=tomorrow,
            kind="office",
            duration_minutes=30,
            attendance="present",
        )
    assert error.value.message_dict == {
        "held_at": ["Un entretien ne peut pas être saisi dans le futur."]
    }
    assert not Interview.objects.exists()
    # The API only translates the service's refusal.
    response = api_for(cpip.user).post(
        "/api/v1/interviews/",
        {
            "case": case.pk,
            "held_at": tomorrow.isoformat(),
            "kind": "office",
            "duration_minutes": 30,
            "attendance": "present",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "Un entretien ne peut pas être saisi dans le futur." in str(response.json())


def test_two_interviews_with_the_same_next_appointment_make_one_convocation(reference):
    cpip = cpip_in("69")
    case = sentenced(cpip, timezone.localdate() - timedelta(days=5))
    next_at = (timezone.now() + timedelta(days=14)).replace(microsecond=0)
    for hours in (3, 1):
        followup_services.interview_log(
            actor=cpip.user,
            case=case,
            agent=cpip,
            held_at=timezone.now() - timedelta(hours=hours),
            kind="office",
            duration_minutes=30,
            attendance="present",
            next_at=next_at,
        )
    assert Interview.objects.filter(case=case).count() == 2
    assert list(Convocation.objects.filter(case=case).values_list("starts_at", flat=True)) == [
        next_at
    ]
