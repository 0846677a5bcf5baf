"""The scoping rule split into disjoint parts (``access.case_q_parts``) counts exactly
what the rule shows, for every role: files held, files read through a transfer, both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from cases.alerts.models import urgency_key
from cases.models import Alert, Case, Convocation, Transfer
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(world):
    """An alert and a past convocation on every file of the world, and Marseille's file
    handed over to Lyon by an accepted transfer (Lyon reads it through the transfer)."""
    now = timezone.now()
    received = CaseFactory(antenna=world.antenna, referent=world.agents["cpip"])
    Transfer.objects.create(
        case=world.cases["other"],
        from_service=world.other_service,
        to_service=world.service,
        new_case=received,
        status="accepted",
        requested_on=timezone.localdate(),
    )
    for n, case in enumerate(Case.objects.all()):
        Alert.objects.create(
            alert_type="contact_overdue",
            severity=["critical", "warning", "info"][n % 3],
            case=case,
            agent=case.referent,
            rule="Contact en retard",
            dedup_key=f"case:{case.pk}",
            opened_at=now,
            due_on=None if n % 2 else timezone.localdate() + timedelta(days=n),
        )
        Convocation.objects.create(
            case=case,
            kind="follow_up",
            starts_at=now - timedelta(days=3 + n),
            issued_from="spip",
            status="booked" if n % 2 else "honoured",
            outcome_recorded_at=None if n % 2 else now,
        )
    return world


@pytest.mark.parametrize(
    "role",
    [
        "cpip",
        "cpip2",
        "cpip_a2",
        "dpip",
        "dspip",
        "dspip_other",
        "secretary",
        "bex",
        "sap",
        "disp",
        "dap",
        "admin",
        "partner",
    ],
)
def test_counting_part_by_part_gives_what_the_rule_shows(spread, role):
    user = spread.users[role]
    alerts = Alert.objects.filter(closed_at__isnull=True)
    assert alerts.count_visible(user, n=Count("id"))["n"] == alerts.visible_to(user).count()
    counts = {"total": Count("id"), "missing": Count("id", filter=Q(status="booked"))}
    convocations = Convocation.objects.filter(starts_at__lt=timezone.now())
    assert convocations.count_visible(user, **counts) == convocations.visible_to(user).aggregate(
        **counts
    )
    ordered = alerts.by_urgency()
    for n in (1, 3, 10):
        assert ordered.first_visible(user, n, key=urgency_key) == list(ordered.visible_to(user)[:n])


def test_the_director_counts_the_file_read_through_the_transfer_once(spread):
    # Lyon holds four files of the world and the one opened on arrival; Marseille's file
    # comes through the transfer: six alerts, each counted once.
    user = spread.users["dspip"]
    assert Alert.objects.count_visible(user, n=Count("id")) == {"n": 6}
