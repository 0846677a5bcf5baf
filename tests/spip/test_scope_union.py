"""The scoping rule of case files read as one list of ids (files held UNION ALL files read
through an accepted transfer): what each role reads, counted by hand, through the case
and through what hangs off it (alerts, convocations)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Alert, Case, Convocation, Transfer
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(world):
    """An open alert and a past convocation on each of the world's five files and on
    a sixth, opened in Lyon on the arrival of Marseille's person, whose file Lyon reads
    through an accepted transfer."""
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
            severity="warning",
            case=case,
            agent=case.referent,
            rule="Contact en retard",
            dedup_key=f"case:{case.pk}",
            opened_at=now,
        )
        Convocation.objects.create(
            case=case,
            kind="follow_up",
            starts_at=now - timedelta(days=3 + n),
            issued_from="spip",
        )
    return world


# Lyon's files: mine, colleague (antenna 1), a2 (antenna 2), arrival (antenna 1), the
# received one (antenna 1); Marseille's: other, read by Lyon's readers of the received one.
@pytest.mark.parametrize(
    ("role", "files"),
    [
        ("cpip", 5),  # antenna 1's four, and Marseille's through the transfer
        ("cpip_a2", 1),  # antenna 2's one
        ("dpip", 5),
        ("dspip", 6),  # the service's five, and Marseille's
        ("dspip_other", 1),  # Marseille's own file, still its own
        ("secretary", 1),
        ("bex", 1),  # the file the clerk opened
        ("dap", 0),
        ("partner", 0),
    ],
)
def test_each_role_reads_its_files_and_those_received_each_once(spread, role, files):
    user = spread.users[role]
    assert Case.objects.visible_to(user).count() == files
    assert Alert.objects.visible_to(user).count() == files
    assert Convocation.objects.visible_to(user).count() == (0 if role == "bex" else files)
