"""Integrity lives in the database: rows that bypass every form are still refused."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.choices import CaseStatus, ConvocationStatus
from cases.models import Agenda, Alert, Case, Convocation, Slot
from spip.models import Agent
from tests.factories import (
    AgentFactory,
    AntennaFactory,
    CaseFactory,
    MeasureFactory,
    PersonFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


@pytest.mark.parametrize("quotite", [Decimal("0.05"), Decimal("1.10"), Decimal("0")])
def test_quotite_outside_0_1_to_1_is_refused(quotite):
    refused(
        lambda: Agent.objects.create(
            user=UserFactory(), role="cpip", quotite=quotite, active_from=date(2024, 1, 1)
        )
    )


def test_quotite_at_the_bounds_is_accepted():
    for q in (Decimal("0.10"), Decimal("1.00")):
        Agent.objects.create(
            user=UserFactory(), role="cpip", quotite=q, active_from=date(2024, 1, 1)
        )


def test_agent_posting_cannot_end_before_it_starts():
    refused(lambda: AgentFactory(active_from=date(2024, 5, 1), active_to=date(2024, 4, 30)))


def test_one_open_case_per_person_per_service():
    antenna = AntennaFactory()
    person = PersonFactory()
    CaseFactory(person=person, antenna=antenna)
    refused(lambda: CaseFactory(person=person, antenna=AntennaFactory(service=antenna.service)))


def test_a_closed_case_does_not_block_a_new_one():
    antenna = AntennaFactory()
    person = PersonFactory()
    today = timezone.localdate()
    CaseFactory(person=person, antenna=antenna, status=CaseStatus.CLOSED, closed_on=today)
    CaseFactory(person=person, antenna=antenna)
    assert Case.objects.filter(person=person).count() == 2


def test_an_active_case_has_a_referent():
    refused(lambda: CaseFactory(status=CaseStatus.ACTIVE, referent=None))


def test_a_case_in_custody_names_its_prison():
    refused(lambda: CaseFactory(setting="mf", prison=None))


def test_a_closed_case_has_a_closing_date_after_opening():
    refused(lambda: CaseFactory(status=CaseStatus.CLOSED, closed_on=None))
    refused(
        lambda: CaseFactory(
            status=CaseStatus.CLOSED, opened_on=date(2025, 5, 2), closed_on=date(2025, 5, 1)
        )
    )


@pytest.mark.parametrize("hours", [0, 19, 401, 1000])
def test_tig_hours_outside_the_legal_range_are_refused(hours):
    refused(lambda: MeasureFactory(tig_hours=hours))


def test_tig_hours_in_range_are_accepted():
    assert MeasureFactory(tig_hours=20).pk and MeasureFactory(tig_hours=400).pk


def test_measure_dates_are_ordered():
    judged = date(2025, 3, 1)
    refused(lambda: MeasureFactory(judgment_date=judged, start_date=judged - timedelta(days=1)))
    refused(
        lambda: MeasureFactory(
            judgment_date=judged, start_date=judged, planned_end_date=judged - timedelta(days=1)
        )
    )
    refused(
        lambda: MeasureFactory(
            judgment_date=judged,
            start_date=judged,
            actual_end_date=judged - timedelta(days=1),
            end_reason="completed",
        )
    )


def test_an_ended_measure_has_an_end_reason_and_only_then():
    refused(lambda: MeasureFactory(actual_end_date=timezone.localdate(), end_reason=""))
    refused(lambda: MeasureFactory(actual_end_date=None, end_reason="revoked"))


def test_a_measure_followed_by_a_partner_names_it():
    refused(lambda: MeasureFactory(followed_by="partner", partner=None))


def test_one_booking_per_slot_seat():
    antenna = AntennaFactory()
    agenda = Agenda.objects.create(name="Agenda", antenna=antenna)
    slot = Slot.objects.create(
        agenda=agenda, starts_at=timezone.now() + timedelta(days=3), capacity=1
    )
    first = CaseFactory(antenna=antenna)
    second = CaseFactory(antenna=antenna)

    def book(case):
        return Convocation.objects.create(
            case=case, kind="first", slot=slot, seat=1, starts_at=slot.starts_at, issued_from="bex"
        )

    book(first)
    refused(lambda: book(second))


def test_a_cancelled_booking_frees_its_seat():
    antenna = AntennaFactory()
    agenda = Agenda.objects.create(name="Agenda", antenna=antenna)
    slot = Slot.objects.create(
        agenda=agenda, starts_at=timezone.now() + timedelta(days=3), capacity=1
    )
    Convocation.objects.create(
        case=CaseFactory(antenna=antenna),
        kind="first",
        slot=slot,
        seat=1,
        starts_at=slot.starts_at,
        issued_from="bex",
        status=ConvocationStatus.CANCELLED,
        outcome_recorded_at=timezone.now(),
    )
    Convocation.objects.create(
        case=CaseFactory(antenna=antenna),
        kind="first",
        slot=slot,
        seat=1,
        starts_at=slot.starts_at,
        issued_from="bex",
    )


def test_a_convocation_outcome_has_its_date():
    refused(
        lambda: Convocation.objects.create(
            case=CaseFactory(),
            kind="follow_up",
            starts_at=timezone.now(),
            issued_from="spip",
            status=ConvocationStatus.MISSED,
        )
    )


def test_one_open_alert_per_type_and_subject():
    case = CaseFactory()
    now = timezone.now()
    Alert.objects.create(
        alert_type="late_start",
        severity="warning",
        case=case,
        rule="r",
        dedup_key="case:1",
        opened_at=now,
    )
    refused(
        lambda: Alert.objects.create(
            alert_type="late_start",
            severity="warning",
            case=case,
            rule="r",
            dedup_key="case:1",
            opened_at=now,
        )
    )
    # Once closed, the condition may open a new one.
    Alert.objects.filter(dedup_key="case:1").update(closed_at=now)
    Alert.objects.create(
        alert_type="late_start",
        severity="warning",
        case=case,
        rule="r",
        dedup_key="case:1",
        opened_at=now,
    )


def test_workload_policy_thresholds_and_weights_are_checked():
    from cases.workload.models import WorkloadPolicy

    base = WorkloadPolicy.objects.get()
    fields = {
        f.name: getattr(base, f.name)
        for f in WorkloadPolicy._meta.concrete_fields
        if f.name != "id"
    }
    refused(
        lambda: WorkloadPolicy.objects.create(
            **{**fields, "valid_from": date(2030, 1, 1), "threshold_red": 80}
        )
    )
    refused(
        lambda: WorkloadPolicy.objects.create(
            **{**fields, "valid_from": date(2030, 1, 2), "weight_high": 0}
        )
    )


def test_deleting_a_service_with_antennas_is_refused():
    from django.db.models import ProtectedError

    antenna = AntennaFactory()
    with pytest.raises(ProtectedError):
        antenna.service.delete()
