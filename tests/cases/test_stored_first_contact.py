"""The stored first contact (``Measure.first_contact_on``) always equals the one definition
(``cases.files.selectors.first_contact``, in the service's time zone), after each kind of
write that changes an input, and after the backfill migration."""

import importlib
import random
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from cases.agenda import services as booking
from cases.files.contacts import first_contact_refresh
from cases.files.selectors import first_contact
from cases.followup import services as followup_services
from cases.models import Convocation, Interview
from measures.models import Measure
from spip.choices import Role
from spip.models import Service
from tests.factories import (
    AgentFactory,
    AntennaFactory,
    CaseFactory,
    CourtFactory,
    MeasureFactory,
)

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
JUDGED = date(2026, 3, 2)
backfill_migration = importlib.import_module("cases.migrations.0017_first_contact_backfill")


def at(day: date, hour: int = 10, tz=PARIS) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def day(n: int) -> date:
    return JUDGED + timedelta(days=n)


def defined() -> dict[int, date | None]:
    """Every measure's first contact as the definition computes it, in its service's zone."""
    values = {}
    for zone in set(Measure.objects.values_list("case__service__time_zone", flat=True)):
        with timezone.override(ZoneInfo(zone)):
            values.update(
                Measure.objects.filter(case__service__time_zone=zone)
                .annotate(defined=first_contact("case", "judgment_date"))
                .values_list("pk", "defined")
            )
    return values


def stored() -> dict[int, date | None]:
    return dict(Measure.objects.values_list("pk", "first_contact_on"))


@pytest.fixture
def cpip(reference):
    return AgentFactory(
        role=Role.CPIP, antenna=AntennaFactory(service=Service.objects.get(code="69"))
    )


@pytest.fixture
def measure(cpip):
    case = CaseFactory(antenna=cpip.antenna, referent=cpip, opened_on=JUDGED, allocated_on=JUDGED)
    return MeasureFactory(case=case, judgment_date=JUDGED, start_date=JUDGED)


def convocation(measure, n: int, kind: str = "first") -> Convocation:
    return Convocation.objects.create(
        case=measure.case, kind=kind, issued_from="bex", starts_at=at(day(n))
    )


def outcome(conv: Convocation, status: str, reason: str = "") -> None:
    booking.convocation_set_outcome(actor=None, convocation=conv, status=status, reason=reason)


def interview(measure, n: int, attendance: str = "present") -> None:
    followup_services.interview_record(
        actor=None,
        case=measure.case,
        agent=measure.case.referent,
        held_at=at(day(n)),
        kind="office",
        duration_minutes=30,
        attendance=attendance,
    )


def first_contact_of(measure) -> date | None:
    value = Measure.objects.get(pk=measure.pk).first_contact_on
    assert stored() == defined()  # and every other measure still agrees with the definition
    return value


def test_each_write_keeps_the_stored_first_contact_equal_to_the_definition(measure):
    assert first_contact_of(measure) is None
    day_20 = convocation(measure, 20)
    assert first_contact_of(measure) is None  # booked is not met
    outcome(day_20, "honoured")
    assert first_contact_of(measure) == day(20)
    interview(measure, 10)  # an earlier interview, recorded afterwards
    assert first_contact_of(measure) == day(10)
    interview(measure, 5, attendance="absent")  # an interview without the person: no contact
    assert first_contact_of(measure) == day(10)
    outcome(convocation(measure, 3), "cancelled", "Empêchement")
    outcome(convocation(measure, 4), "excused", "Maladie")
    assert first_contact_of(measure) == day(10)  # neither cancelled nor excused is a contact
    outcome(convocation(measure, 2, kind="jap"), "honoured")
    assert first_contact_of(measure) == day(10)  # the judge's convocation is not the SPIP's


def test_an_outcome_corrected_from_honoured_to_missed_clears_or_moves_the_contact(measure):
    day_8, day_12 = convocation(measure, 8), convocation(measure, 12)
    outcome(day_8, "honoured")
    outcome(day_12, "honoured")
    assert first_contact_of(measure) == day(8)
    outcome(day_8, "missed")  # corrected: the person did not come on day 8
    assert first_contact_of(measure) == day(12)
    outcome(day_12, "missed")
    assert first_contact_of(measure) is None


def test_a_contact_before_the_judgment_does_not_count(measure):
    interview(measure, 10)
    assert first_contact_of(measure) == day(10)
    # The judgment date corrected to after that interview (no service edits it yet: the
    # refresh is what such a service would call).
    Measure.objects.filter(pk=measure.pk).update(judgment_date=day(15), start_date=day(15))
    first_contact_refresh(measure_ids=[measure.pk])
    assert first_contact_of(measure) is None
    interview(measure, 15)  # on the day of the judgment: counts
    assert first_contact_of(measure) == day(15)


def test_a_history_imported_at_once_sets_the_contact(measure):
    followup_services.history_record(
        actor=None,
        case=measure.case,
        agent=measure.case.referent,
        appointments=[
            followup_services.PastAppointment(
                starts_at=at(day(9)), kind="first", status="missed", outcome_at=at(day(9))
            ),
            followup_services.PastAppointment(
                starts_at=at(day(16)),
                kind="follow_up",
                status="honoured",
                outcome_at=at(day(16)),
                interview_kind="office",
            ),
        ],
    )
    assert first_contact_of(measure) == day(16)


def test_the_day_is_the_services_own_day(reference):
    """An interview at 9:00 on 3 March in Nouméa is 2 March 23:00 in Paris: the stored day
    is Nouméa's, whoever records it."""
    noumea = ZoneInfo("Pacific/Noumea")
    cpip = AgentFactory(
        role=Role.CPIP, antenna=AntennaFactory(service=Service.objects.get(code="988"))
    )
    case = CaseFactory(antenna=cpip.antenna, referent=cpip, opened_on=day(1))
    measure = MeasureFactory(case=case, judgment_date=day(1), start_date=day(1))
    with timezone.override(PARIS):
        followup_services.interview_record(
            actor=None,
            case=case,
            agent=cpip,
            held_at=at(day(1), 9, tz=noumea),
            kind="office",
            duration_minutes=30,
            attendance="present",
        )
    assert first_contact_of(measure) == day(1)


def test_the_refresh_is_idempotent_and_scoped(measure, cpip):
    other = MeasureFactory(
        case=CaseFactory(antenna=cpip.antenna, referent=cpip), judgment_date=JUDGED
    )
    interview(measure, 10)
    Measure.objects.filter(pk=other.pk).update(first_contact_on=day(99))  # drift, elsewhere
    assert first_contact_refresh(case_ids=[measure.case_id]) == 1
    assert first_contact_refresh(case_ids=[measure.case_id]) == 1
    assert stored()[measure.pk] == day(10) and stored()[other.pk] == day(99)
    first_contact_refresh()  # everything: the drift is repaired
    assert stored() == defined()


def test_the_backfill_computes_the_definition_for_every_measure(reference):
    """Hundreds of generated measures, convocations and interviews, in Paris and Nouméa,
    around the judgment dates and around midnight: the migration's UPDATE stores what the
    definition computes, measure by measure."""
    rng = random.Random(20261130)
    antennas = [
        AntennaFactory(service=Service.objects.get(code="69")),
        AntennaFactory(service=Service.objects.get(code="988")),
    ]
    agents = [AgentFactory(role=Role.CPIP, antenna=a) for a in antennas]
    court = CourtFactory()
    for n in range(120):
        agent = agents[n % 2]
        case = CaseFactory(antenna=agent.antenna, referent=agent)
        for _ in range(rng.randint(1, 3)):
            judged = JUDGED + timedelta(days=rng.randint(0, 60))
            MeasureFactory(case=case, court=court, judgment_date=judged, start_date=judged)
        for _ in range(rng.randint(0, 4)):
            Convocation.objects.create(
                case=case,
                kind=rng.choice(["first", "follow_up", "jap"]),
                issued_from="bex",
                starts_at=at(day(rng.randint(-10, 80)), rng.choice([0, 1, 10, 22, 23])),
                status=rng.choice(["booked", "honoured", "missed", "excused", "cancelled"]),
                outcome_recorded_at=at(JUDGED),
            )
        for _ in range(rng.randint(0, 3)):
            Interview.objects.create(
                case=case,
                agent=agent,
                held_at=at(day(rng.randint(-10, 80)), rng.choice([0, 1, 10, 22, 23])),
                kind="office",
                duration_minutes=30,
                attendance=rng.choice(["present", "late", "absent"]),
            )
    Measure.objects.update(first_contact_on=None)  # as before the migration

    backfill_migration.backfill(apps, SimpleNamespace(connection=connection))

    expected = defined()
    assert len(expected) > 150
    assert sum(v is not None for v in expected.values()) > 30  # not a test of NULL = NULL
    assert stored() == expected
