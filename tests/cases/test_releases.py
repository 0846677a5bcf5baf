"""Release from prison handed to the home service: the home service found from the
address, the first community appointment booked before release within the rule (8 days
for a sursis probatoire, run to a working day), the transfer at release with the
appointment, both alerts, and the refusals (a past date, a move after booking)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from cases.agenda.models import Agenda, Slot
from cases.alerts.services import alerts_refresh
from cases.files import releases
from cases.models import Alert, Case, Convocation, ReleasePlan
from measures.models import Measure
from spip.models import Prison, Service

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 3, 2)  # a Monday
RELEASE = date(2026, 3, 20)  # a Friday


def at(day: date, hour: int = 12):
    return datetime.combine(day, time(hour, 0), tzinfo=PARIS)


@pytest.fixture
def clock():
    with time_machine.travel(at(TODAY), tick=False):
        yield


@pytest.fixture
def custody(world, clock):
    """The CPIP follows a person in custody in Lyon; home after release: Marseille."""
    prison = Prison.objects.create(
        name="Maison d'arrêt de Lyon-Corbas", kind="ma", service=world.service, city="Corbas"
    )
    case = world.cases["mine"]
    Case.objects.filter(pk=case.pk).update(
        setting="mf", prison=prison, opened_on=date(2025, 6, 1), allocated_on=date(2025, 6, 1)
    )
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def marseille_slots(world):
    agenda = Agenda.objects.create(name="Marseille SPIP", antenna=world.other_antenna)
    return {
        day: Slot.objects.create(agenda=agenda, starts_at=at(day, 10))
        for day in (date(2026, 3, 19), date(2026, 3, 24), date(2026, 3, 30), date(2026, 4, 3))
    }


def plan(world, case, **extra):
    fields = {
        "planned_on": RELEASE,
        "address": "12 rue de Rome",
        "postal_code": "13001",
        "commune": "Marseille",
        **extra,
    }
    return releases.release_plan(actor=world.users["cpip"], case=case, **fields)


def test_the_home_service_comes_from_the_address(world, custody):
    release = plan(world, custody)
    assert (release.home_service, release.home_antenna) == (
        world.other_service,
        world.other_antenna,
    )


def test_the_release_rule_is_8_days_for_a_sursis_probatoire_run_to_a_working_day(world, custody):
    # Released Friday 20 March + 8 days = Saturday 28 → Monday 30 March.
    deadline = releases.release_deadline(custody, RELEASE)
    assert deadline.last_day == date(2026, 3, 30)
    # Without a measure the 741-1 rule names: one month, to a working day (20 April, Mon).
    Measure.objects.filter(case=custody).delete()
    assert releases.release_deadline(custody, RELEASE).last_day == date(2026, 4, 20)


@pytest.mark.parametrize(
    ("day", "field"),
    [
        (date(2026, 3, 19), "slot"),  # before the release
        (date(2026, 4, 3), "beyond_reason"),  # past the 30 March deadline, no reason
    ],
)
def test_the_appointment_is_after_release_and_within_the_rule(
    world, custody, marseille_slots, day, field
):
    release = plan(world, custody)
    with pytest.raises(ValidationError) as refused:
        releases.release_book(actor=world.users["cpip"], plan=release, slot=marseille_slots[day])
    assert field in refused.value.message_dict
    assert not Convocation.objects.exists()


def test_released_to_another_service_the_file_arrives_with_its_appointment(
    world, custody, marseille_slots
):
    release = plan(world, custody)
    convocation = releases.release_book(
        actor=world.users["cpip"], plan=release, slot=marseille_slots[date(2026, 3, 24)]
    )
    assert convocation.antenna == world.other_antenna
    with pytest.raises(ValidationError):  # moved after booking: the appointment no longer fits
        plan(world, custody, planned_on=date(2026, 3, 25))
    with time_machine.travel(at(RELEASE), tick=False):
        done = releases.release_done(actor=world.users["cpip"], plan=release)
    new = done.transfer.new_case
    assert (new.service, new.status, new.setting) == (world.other_service, "awaiting", "mo")
    convocation.refresh_from_db()
    assert convocation.case == new
    assert convocation.measure is not None  # the PDF names the measure and its obligations
    assert convocation.status == "booked"
    new.person.refresh_from_db()
    assert (new.person.postal_code, new.person.commune) == ("13001", "Marseille")
    assert Measure.objects.filter(case=new).exists()
    custody.refresh_from_db()
    assert custody.status == "closed"
    # The receiving director sees the arrival with the appointment.
    assert Case.objects.visible_to(world.users["dspip_other"]).filter(pk=new.pk).exists()


def test_only_a_future_date_and_only_the_cases_writers(world, custody):
    with pytest.raises(ValidationError) as refused:
        plan(world, custody, planned_on=TODAY)
    assert "planned_on" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        releases.release_plan(
            actor=world.users["cpip_other"],
            case=custody,
            planned_on=RELEASE,
            address="x",
            postal_code="13001",
            commune="Marseille",
        )
    assert not ReleasePlan.objects.exists()


def test_both_release_alerts(world, custody, marseille_slots):
    release = plan(world, custody)
    with time_machine.travel(at(date(2026, 3, 4)), tick=False):  # 16 days before: not yet
        alerts_refresh(types=["release_no_appointment"])
    assert not Alert.objects.filter(alert_type="release_no_appointment").exists()
    with time_machine.travel(at(date(2026, 3, 5)), tick=False):  # 15 days before
        alerts_refresh(types=["release_no_appointment"])
    alert = Alert.objects.get(alert_type="release_no_appointment", closed_at__isnull=True)
    assert alert.rule == "Sortie le 20/03/2026 sans rendez-vous pris au SPIP des Bouches-du-Rhône"
    with time_machine.travel(at(date(2026, 3, 5)), tick=False):
        releases.release_book(
            actor=world.users["cpip"], plan=release, slot=marseille_slots[date(2026, 3, 24)]
        )
        alerts_refresh(types=["release_no_appointment"])
    assert not Alert.objects.filter(
        alert_type="release_no_appointment", closed_at__isnull=True
    ).exists()
    with time_machine.travel(at(RELEASE), tick=False):
        release = releases.release_done(actor=None, plan=release)
    # Missed: no contact by Monday 30 March. On the 30th still within; on the 31st, alert.
    for day, expected in ((date(2026, 3, 30), 0), (date(2026, 3, 31), 1)):
        with time_machine.travel(at(day), tick=False):
            alerts_refresh(types=["release_no_contact"])
        opened = Alert.objects.filter(alert_type="release_no_contact", closed_at__isnull=True)
        assert opened.count() == expected
    assert opened.get().case == release.transfer.new_case


def test_the_national_view_counts_releases_booked_before_release_in_fixed_queries(
    world, custody, marseille_slots, client_for, django_assert_max_num_queries
):
    from reporting.forms import ReportParams
    from reporting.indicators import continuity

    release = plan(world, custody)
    releases.release_book(
        actor=world.users["cpip"], plan=release, slot=marseille_slots[date(2026, 3, 24)]
    )
    with time_machine.travel(at(RELEASE), tick=False):
        releases.release_done(actor=world.users["cpip"], plan=release)
    params = ReportParams(since=date(2026, 1, 1), until=date(2026, 12, 31))
    # population, releases, then six reads for the first contacts, transfers.
    with time_machine.travel(at(date(2026, 4, 1)), tick=False), django_assert_max_num_queries(9):
        figures = continuity(world.users["dap"], params)
    assert (figures["releases"], figures["releases_booked_before"]) == (1, 1)
    assert figures["releases_booked_share"] == 100.0
    # The appointment of 24 March was never marked honoured: no contact by 30 March.
    assert (figures["releases_contact_in_time"], figures["releases_contact_share"]) == (0, 0.0)
    # The transfer made at the release counts with the release, not as a transfer.
    assert (figures["transfers_accepted"], figures["transfers_median_days"]) == (0, None)
    # Per service: the release belongs to Marseille, the home service.
    (marseille,) = figures["services"]
    assert (marseille["code"], marseille["releases"]) == ("13", 1)
    # Narrowed to another service: nothing.
    elsewhere = ReportParams(
        since=date(2026, 1, 1),
        until=date(2026, 12, 31),
        service_id=Service.objects.get(code="01").pk,
    )
    with time_machine.travel(at(date(2026, 4, 1)), tick=False):
        assert continuity(world.users["dap"], elsewhere)["releases"] == 0


def test_the_releases_api_gives_the_phase_and_the_appointment_to_who_may_read(
    world, custody, marseille_slots, api_for
):
    release = plan(world, custody)
    cpip = api_for(world.users["cpip"])
    (row,) = cpip.get("/api/v1/releases/").json()["results"]
    # 20 March is within the 6 handover weeks of 2 March.
    assert (row["phase"], row["appointment"], row["home_service"]) == (
        "handover",
        None,
        world.other_service.pk,
    )
    releases.release_book(
        actor=world.users["cpip"], plan=release, slot=marseille_slots[date(2026, 3, 24)]
    )
    row = cpip.get(f"/api/v1/releases/{release.pk}/").json()
    assert row["appointment"].startswith("2026-03-24T")
    # The home service's director expects the arrival; another service's CPIP sees nothing.
    assert api_for(world.users["dspip_other"]).get("/api/v1/releases/").json()["count"] == 1
    assert api_for(world.users["cpip_other"]).get("/api/v1/releases/").json()["count"] == 0
    assert api_for(world.users["bex"]).get(f"/api/v1/releases/{release.pk}/").status_code == 404
    assert api_for(world.users["dap"]).get("/api/v1/reports/continuity/").status_code == 200


def test_the_handover_phase_follows_the_setting_weeks(world, custody):
    release = plan(world, custody, planned_on=date(2026, 4, 14))
    # 6 weeks before 14 April is 3 March: on 2 March still custody only.
    assert releases.phase(release, today=date(2026, 3, 2)) == "custody"
    assert releases.phase(release, today=date(2026, 3, 3)) == "handover"
    release.released_on = date(2026, 4, 14)
    assert releases.phase(release, today=date(2026, 4, 14)) == "community"


def test_the_release_is_recorded_only_when_confirmed(world, custody, client_for):
    plan(world, custody)
    client = client_for(world.users["cpip"])
    with time_machine.travel(at(TODAY), tick=False):
        client.post(f"/dossiers/{custody.pk}/sortie/", {"action": "release"})
        assert ReleasePlan.objects.get().released_on is None
        client.post(f"/dossiers/{custody.pk}/sortie/", {"action": "release", "confirm": "on"})
    assert ReleasePlan.objects.get().released_on == TODAY
