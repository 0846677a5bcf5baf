"""Races on PostgreSQL: a transfer proposed twice at once, accepted by its director while
the daily job accepts it by itself, the same pair merged by two directors at once. One
clear outcome each, no duplicate case, nothing lost."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.files import merges, transfers
from cases.models import Case, PersonMerge, Transfer
from tests.conftest import needs_postgres
from tests.factories import CaseFactory, PersonFactory

pytestmark = [needs_postgres(), pytest.mark.django_db(transaction=True)]


def at_once(*calls):
    """Run the calls in threads released together; each outcome: "ok" or the error."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - the outcome is what is asserted
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_a_transfer_proposed_twice_at_once_opens_once(world):
    case = world.cases["mine"]

    def propose():
        transfers.transfer_open(
            actor=world.users["dspip"], case=case, to_service=world.other_service, reason="x"
        )

    assert at_once(propose, propose) == ["ValidationError", "ok"]
    assert Transfer.objects.filter(case=case).count() == 1


def test_accepted_by_its_director_while_the_job_accepts_it_one_case_arrives(world):
    case = world.cases["mine"]
    Case.objects.filter(pk=case.pk).update(opened_on=timezone.localdate() - timedelta(days=60))
    transfer = transfers.transfer_open(
        actor=world.users["dspip"], case=case, to_service=world.other_service, reason="x"
    )
    Transfer.objects.filter(pk=transfer.pk).update(
        requested_on=timezone.localdate() - timedelta(days=11)
    )

    def accept():
        transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=True)

    def job():
        transfers.transfers_tick()

    outcomes = at_once(accept, job)
    assert outcomes in (["ValidationError", "ok"], ["ok", "ok"])  # the job may find it done
    assert Case.objects.filter(person=case.person, service=world.other_service).count() == 1
    assert Transfer.objects.get(pk=transfer.pk).status == "accepted"


def test_two_directors_merging_the_same_pair_at_once_merge_it_once(world):
    first = PersonFactory(birth_name="Lefèvre", first_names="Jean")
    second = PersonFactory(birth_name="LEFEVRE", first_names="Jean")
    for p in (first, second):
        CaseFactory(person=p, antenna=world.antenna2, referent=world.agents["cpip_a2"])
    Case.objects.filter(person=first).update(status="closed", closed_on=timezone.localdate())

    def merge(user):
        return lambda: merges.person_merge(
            actor=world.users[user], kept=first, merged=second, reason="CNI"
        )

    outcomes = at_once(merge("dspip"), merge("dspip"))
    assert outcomes.count("ok") == 1
    assert PersonMerge.objects.count() == 1
    assert Case.objects.filter(person=first).count() == 2
