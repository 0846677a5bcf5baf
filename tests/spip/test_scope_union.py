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


def test_reading_a_person_narrows_the_rule_to_their_readable_files_only(spread):
    """The case file reads under the rule narrowed to the person's files the user reads:
    the same rows for this person, none for anyone else, and the rule whole again after."""
    from spip.access import reading_person

    cpip = spread.users["cpip"]
    other = spread.cases["other"]  # Marseille's, read through the transfer
    before = set(Convocation.objects.visible_to(cpip).values_list("id", flat=True))
    with reading_person(cpip, other.person_id) as ids:
        # Their file the CPIP reads: Marseille's, through the transfer.
        assert ids == [other.pk]
        assert set(Convocation.objects.visible_to(cpip).values_list("case_id", flat=True)) == {
            other.pk
        }
        assert Case.objects.visible_to(cpip).filter(pk=spread.cases["mine"].pk).count() == 0
    assert set(Convocation.objects.visible_to(cpip).values_list("id", flat=True)) == before
    # A user who reads none of the person's files reads nothing of them inside the block.
    with reading_person(spread.users["cpip_a2"], other.person_id) as ids:
        assert ids == []
        assert not Alert.objects.visible_to(spread.users["cpip_a2"]).exists()


def test_the_case_file_plans_the_rule_twice_whatever_it_shows(spread, client_for):
    """Its dozen reads of the person's files filter on the list of their ids: the rule's
    union appears in two statements (the file opened, the person's files listed)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(spread.users["cpip"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/dossiers/{spread.cases['mine'].pk}/")
    assert page.status_code == 200
    unions = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
    assert len(unions) == 2


def test_reading_person_blocks_nest(spread):
    """An inner block reads its person through the whole rule, and leaves the outer
    block's narrowing as it found it."""
    from spip.access import reading_person

    dspip = spread.users["dspip"]
    mine, colleague = spread.cases["mine"], spread.cases["colleague"]
    with reading_person(dspip, mine.person_id) as outer:
        assert outer == [mine.pk]
        with reading_person(dspip, colleague.person_id) as inner:
            assert inner == [colleague.pk]
            assert list(Case.objects.visible_to(dspip).values_list("id", flat=True)) == inner
        assert list(Case.objects.visible_to(dspip).values_list("id", flat=True)) == outer
    assert Case.objects.visible_to(dspip).count() == 6
