"""Transfers between services: who proposes and who answers, the file handed over whole,
both services' reading before, during and after, the restricted cases, and the daily job
(acceptance after 10 days unanswered, reminders every 5) with a frozen clock."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from cases.agenda import services as agenda_services
from cases.choices import ConvocationType
from cases.files import transfers
from cases.files.selectors import timeline
from cases.models import Alert, Case, Transfer
from measures.models import Measure
from spip.models import AuditEntry

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
DAY0 = date(2026, 3, 2)


def at(day: date, hour: int = 12):
    return datetime.combine(day, time(hour, 0), tzinfo=PARIS)


@pytest.fixture
def moving(world):
    """The CPIP's person moves to Marseille; an open alert on the case."""
    Case.objects.filter(pk=world.cases["mine"].pk).update(
        opened_on=date(2026, 1, 5), allocated_on=date(2026, 1, 5)
    )
    case = Case.objects.get(pk=world.cases["mine"].pk)
    Alert.objects.create(
        alert_type="contact_overdue",
        severity="warning",
        case=case,
        agent=world.agents["cpip"],
        rule="Contact en retard",
        dedup_key=f"case:{case.pk}",
        opened_at=at(DAY0),
    )
    return case


def propose(world, case, **extra):
    return transfers.transfer_open(
        actor=world.users["dspip"],
        case=case,
        to_service=world.other_service,
        reason="Déménagement à Marseille",
        **extra,
    )


def test_accepted_the_receiving_service_gets_the_whole_file_to_allocate(world, moving):
    transfer = propose(world, moving)
    assert transfer.status == "proposed"
    # In transit: still the sending service's, and its CPIP keeps the alert.
    assert Alert.objects.get(case=moving).agent == world.agents["cpip"]
    transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=True)
    transfer.refresh_from_db()
    new = transfer.new_case
    assert (transfer.status, transfer.completed_on is not None) == ("accepted", True)
    assert (new.service, new.status, new.antenna) == (
        world.other_service,
        "awaiting",
        world.other_antenna,
    )
    moving.refresh_from_db()
    assert moving.status == "closed"
    assert Measure.objects.filter(case=new).count() == 1  # the open measure moved
    assert Measure.objects.filter(case=moving).count() == 0
    alert = Alert.objects.get(dedup_key=f"case:{moving.pk}")
    assert alert.case == new
    # Both directors' journals hold the acceptance.
    services = set(
        AuditEntry.objects.filter(object_type="cases.transfer", action="update").values_list(
            "service_id", flat=True
        )
    )
    assert services == {world.service.pk, world.other_service.pk}


def test_each_service_reads_what_it_should_before_during_and_after(world, moving):
    def reads(key, case):
        return Case.objects.visible_to(world.users[key]).filter(pk=case.pk).exists()

    transfer = propose(world, moving)
    # During: the receiving director sees the transfer, not yet the file.
    assert Transfer.objects.visible_to(world.users["dspip_other"]).filter(pk=transfer.pk).exists()
    assert not Transfer.objects.visible_to(world.users["cpip_other"]).exists()
    assert not reads("dspip_other", moving)
    transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=True)
    transfer.refresh_from_db()
    new = transfer.new_case
    # After: the sending service keeps its closed case, not the new one.
    assert reads("dspip", moving) and reads("cpip", moving)
    assert not reads("dspip", new) and not reads("cpip", new)
    # The receiving service reads both: its director, and the CPIPs of the antenna the
    # new case is in (as for any case of their antenna).
    assert reads("dspip_other", new) and reads("dspip_other", moving)
    assert reads("cpip_other", new) and reads("cpip_other", moving)
    titles = [e["title"] for e in timeline(world.users["cpip_other"], new)]
    assert any(t.startswith("Transfert accepté") for t in titles)
    assert any(t.startswith("Transfert proposé") for t in titles)


def test_only_the_right_director_opens_and_answers(world, moving):
    with pytest.raises(PermissionDenied):  # a CPIP does not transfer
        transfers.transfer_open(
            actor=world.users["cpip"], case=moving, to_service=world.other_service, reason="x"
        )
    with pytest.raises(PermissionDenied):  # another service's director does not propose
        transfers.transfer_open(
            actor=world.users["dspip_other"],
            case=moving,
            to_service=world.service,
            reason="x",
        )
    transfer = propose(world, moving)
    with pytest.raises(ValidationError):  # proposed twice
        propose(world, moving)
    with pytest.raises(PermissionDenied):  # the sender does not accept its own proposal
        transfers.transfer_answer(actor=world.users["dspip"], transfer=transfer, accept=True)
    with pytest.raises(ValidationError) as refused:  # a refusal says why
        transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=False)
    assert "note" in refused.value.message_dict
    transfers.transfer_answer(
        actor=world.users["dspip_other"], transfer=transfer, accept=False, note="Pas de domicile"
    )
    with pytest.raises(ValidationError):  # answered already
        transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=True)
    moving.refresh_from_db()
    assert moving.status == "active"
    assert Transfer.objects.get().status == "refused"


def test_a_request_from_the_receiving_service_is_answered_by_the_sender(world, moving):
    transfer = transfers.transfer_open(
        actor=world.users["dspip_other"],
        case=moving,
        to_service=world.other_service,
        reason="La personne s'est présentée chez nous",
        requested=True,
    )
    assert transfer.status == "requested"
    with pytest.raises(PermissionDenied):
        transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=True)
    transfers.transfer_answer(actor=world.users["dspip"], transfer=transfer, accept=True)
    assert Transfer.objects.get().status == "accepted"


def test_a_restricted_case_moves_only_on_the_directors_explicit_override(world, moving):
    Case.objects.filter(pk=moving.pk).update(restricted=True)
    moving.refresh_from_db()
    with pytest.raises(ValidationError):  # a head of antenna may not override
        transfers.transfer_open(
            actor=world.users["dpip"],
            case=moving,
            to_service=world.other_service,
            reason="Déménagement",
            override_reason="Urgence",
        )
    with pytest.raises(ValidationError) as refused:  # the director, without a reason
        propose(world, moving)
    assert "override_reason" in refused.value.message_dict
    with pytest.raises(ValidationError):  # nor asked for by the other side
        transfers.transfer_open(
            actor=world.users["dspip_other"],
            case=moving,
            to_service=world.other_service,
            reason="x",
            requested=True,
        )
    transfer = propose(world, moving, override_reason="Accord du parquet national antiterroriste")
    assert transfer.override_reason.startswith("Accord")


def test_unanswered_it_is_accepted_on_day_10_and_directors_are_reminded_every_5(
    world, moving, mailoutbox, django_capture_on_commit_callbacks
):
    world.users["dspip"].email = "dspip@spip69.example"
    world.users["dspip"].save()
    with time_machine.travel(at(DAY0), tick=False):
        transfer = propose(world, moving)
    with django_capture_on_commit_callbacks(execute=True):
        assert transfers.transfers_tick(today=DAY0 + timedelta(days=4)) == {
            "accepted": 0,
            "reminded": 0,
        }
        assert transfers.transfers_tick(today=DAY0 + timedelta(days=5))["reminded"] == 1
        assert transfers.transfers_tick(today=DAY0 + timedelta(days=6))["reminded"] == 0
        assert transfers.transfers_tick(today=DAY0 + timedelta(days=9))["accepted"] == 0
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["dspip@spip69.example"]
    with time_machine.travel(at(DAY0 + timedelta(days=10)), tick=False):
        counts = transfers.transfers_tick(today=DAY0 + timedelta(days=10))
        assert counts["accepted"] == 1
        assert transfers.transfers_tick(today=DAY0 + timedelta(days=10))["accepted"] == 0
    transfer.refresh_from_db()
    assert (transfer.status, transfer.auto_accepted) == ("accepted", True)
    assert transfer.answered_on == DAY0 + timedelta(days=10)


def test_an_appointment_left_in_the_sending_service_holds_the_automatic_acceptance(world, moving):
    with time_machine.travel(at(DAY0), tick=False):
        transfer = propose(world, moving)
        agenda_services.convocation_create(
            actor=None,
            case=moving,
            kind=ConvocationType.FOLLOW_UP,
            starts_at=at(DAY0 + timedelta(days=20), 10),
            issued_from="spip",
        )
    with time_machine.travel(at(DAY0 + timedelta(days=12)), tick=False):
        assert transfers.transfers_tick(today=DAY0 + timedelta(days=12))["accepted"] == 0
    transfer.refresh_from_db()
    assert transfer.status == "proposed"


def test_the_api_proposes_and_answers_with_field_errors(world, moving, api_for):
    sender, receiver = api_for(world.users["dspip"]), api_for(world.users["dspip_other"])
    answer = sender.post(
        "/api/v1/transfers/",
        {"case": moving.pk, "to_service": world.other_service.pk, "reason": ""},
        format="json",
    )
    assert answer.status_code == 400 and "reason" in answer.json()
    assert (
        receiver.post(
            "/api/v1/transfers/",
            {"case": moving.pk, "to_service": world.service.pk, "reason": "x"},
            format="json",
        ).status_code
        == 404
    )  # the receiving director does not see the case
    created = sender.post(
        "/api/v1/transfers/",
        {"case": moving.pk, "to_service": world.other_service.pk, "reason": "Déménagement"},
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert (
        api_for(world.users["cpip_other"]).post(f"/api/v1/transfers/{pk}/accept/").status_code
        == 404
    )
    refused = receiver.post(f"/api/v1/transfers/{pk}/refuse/", {}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()
    accepted = receiver.post(f"/api/v1/transfers/{pk}/accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["new_case"]


def test_a_head_of_antenna_accepts_into_their_antenna_and_old_appointments_are_cancelled(
    world, moving
):
    from cases.models import Convocation
    from tests.factories import AgentFactory, AntennaFactory, UserFactory

    aix = AntennaFactory(service=world.other_service, name="Antenne d'Aix", city="Aix")
    head = AgentFactory(user=UserFactory(username="dpip_aix"), role="dpip", antenna=aix)
    with time_machine.travel(at(DAY0), tick=False):
        future = agenda_services.convocation_create(
            actor=None,
            case=moving,
            kind=ConvocationType.FOLLOW_UP,
            starts_at=at(DAY0 + timedelta(days=20), 10),
            issued_from="spip",
        )
        transfer = propose(world, moving)
        transfers.transfer_answer(actor=head.user, transfer=transfer, accept=True)
    transfer.refresh_from_db()
    assert transfer.new_case.antenna == aix  # where its head sees it
    assert Case.objects.visible_to(head.user).filter(pk=transfer.new_case_id).exists()
    assert Convocation.objects.get(pk=future.pk).status == "cancelled"


def test_a_closed_file_is_read_not_written(world, moving, client_for):
    from cases.files.services import case_follow_up_update
    from cases.followup.services import interview_record

    transfer = propose(world, moving)
    transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=True)
    moving.refresh_from_db()
    with pytest.raises(ValidationError):
        interview_record(
            actor=world.users["cpip"],
            case=moving,
            agent=world.agents["cpip"],
            held_at=at(DAY0),
            kind="office",
            duration_minutes=30,
            attendance="present",
        )
    with pytest.raises(ValidationError):
        case_follow_up_update(
            actor=world.users["cpip"],
            case=moving,
            version=moving.version,
            risk_level="high",
            intensity=moving.intensity,
            reason="x",
            agent=world.agents["cpip"],
        )
    page = client_for(world.users["cpip"]).get(f"/dossiers/{moving.pk}/")
    assert page.status_code == 200
    assert page.context["interview_form"] is None and page.context["follow_up_form"] is None
