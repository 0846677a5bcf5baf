"""Measures end: a measure past its planned end is flagged until it is closed or extended;
closing a case cancels what was still booked for it."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cases.alerts.services import _insert_new, alerts_refresh
from cases.files import services as case_services
from cases.models import Alert, Convocation, Notification
from spip.models import AuditEntry
from tests.factories import CaseFactory, MeasureFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 15, 12, tzinfo=PARIS)
TODAY = date(2026, 6, 15)


def test_a_measure_past_its_planned_end_asks_to_close_or_extend(world):
    cpip = world.agents["cpip"]
    with time_machine.travel(NOW, tick=False):
        ended_yesterday = CaseFactory(antenna=world.antenna, referent=cpip)
        measure = MeasureFactory(
            case=ended_yesterday,
            court=world.court,
            judgment_date=date(2025, 6, 1),
            start_date=date(2025, 6, 10),
            planned_end_date=TODAY - timedelta(days=1),
        )
        ends_today = CaseFactory(antenna=world.antenna, referent=cpip)
        MeasureFactory(
            case=ends_today,
            court=world.court,
            judgment_date=date(2025, 6, 1),
            start_date=date(2025, 6, 10),
            planned_end_date=TODAY,
        )
        alerts_refresh(types=["measure_expired"])
        # Ended yesterday, the file still open: one alert, for its CPIP; ending today is
        # not past.
        alert = Alert.objects.get(alert_type="measure_expired", closed_at__isnull=True)
        assert (alert.case_id, alert.agent_id, alert.due_on) == (
            ended_yesterday.pk,
            cpip.pk,
            TODAY - timedelta(days=1),
        )
        assert alert.rule == "Mesure SP échue le 14/06/2026 : clôturer ou prolonger"
        assert alert.measure_id == measure.pk
        # Extended by the court: the alert closes on the next run.
        measure.planned_end_date = TODAY + timedelta(days=180)
        measure.save()
        assert alerts_refresh(types=["measure_expired"])["closed"] == 1
        assert not Alert.objects.filter(alert_type="measure_expired", closed_at__isnull=True)


def test_closing_a_case_cancels_its_coming_convocations_and_their_reminders(world):
    cpip = world.agents["cpip"]
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(antenna=world.antenna, referent=cpip)
        MeasureFactory(
            case=case,
            court=world.court,
            judgment_date=date(2025, 6, 1),
            start_date=date(2025, 6, 10),
            actual_end_date=TODAY,
            end_reason="completed",
        )
        past = Convocation.objects.create(
            case=case,
            kind="follow_up",
            issued_from="spip",
            starts_at=NOW - timedelta(days=7),
            status="honoured",
            outcome_recorded_at=NOW - timedelta(days=7),
        )
        coming = [
            Convocation.objects.create(
                case=case, kind="follow_up", issued_from="spip", starts_at=NOW + timedelta(days=d)
            )
            for d in (3, 20)
        ]
        for convocation in coming:
            Notification.objects.create(
                convocation=convocation,
                event="reminder",
                channel="sms",
                recipient="0612345678",
                body="Rappel",
                send_after=convocation.starts_at - timedelta(days=2),
            )
        case_services.case_close(actor=world.users["dpip"], case=case, on=TODAY)

        # The two coming ones cancelled, each with its audit row; the past one untouched;
        # their queued reminders withdrawn.
        statuses = dict(Convocation.objects.filter(case=case).values_list("pk", "status"))
        assert statuses == {
            past.pk: "honoured",
            coming[0].pk: "cancelled",
            coming[1].pk: "cancelled",
        }
        assert set(
            Notification.objects.filter(convocation__case=case).values_list("status", flat=True)
        ) == {"cancelled"}
        audited = AuditEntry.objects.filter(
            object_type="cases.convocation", object_id__in=[str(c.pk) for c in coming]
        )
        assert audited.count() == 2
        assert {row.changes["status"][1] for row in audited} == {"cancelled"}


def test_opened_counts_only_the_rows_this_run_inserted(world):
    """Two runs at once: the second finds the alert already opened by the first (the
    partial unique index) and counts nothing."""
    case = world.cases["mine"]
    now = timezone.now()

    def alert():
        return Alert(
            alert_type="contact_overdue",
            severity="warning",
            case=case,
            agent=world.agents["cpip"],
            rule="Dernier contact il y a plus de 30 jours",
            dedup_key=f"case:{case.pk}",
            opened_at=now,
        )

    assert _insert_new([alert()]) == 1
    assert _insert_new([alert()]) == 0  # the other run's insert: skipped, not counted
    assert Alert.objects.filter(alert_type="contact_overdue").count() == 1
