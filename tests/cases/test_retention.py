"""Retention on the legal schedule, with a frozen clock: closed files archived after a
year (out of every list but the director's), destroyed five years after closing with all
that hangs off them, a tombstone and the proofs' files; a legal hold stops both; old
message texts erased; the nightly job changes nothing the second time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cases.files.retention import retention_apply
from cases.models import Case, Convocation, Interview, Notification, Person, Proof, Tombstone
from measures.models import ImposedObligation, Measure, ObligationType
from partners.models import Referral
from spip.models import AuditEntry
from tests.factories import CaseFactory, MeasureFactory, PersonFactory

TODAY = date(2026, 12, 1)
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


def closed(world, days_ago: int, **kw) -> Case:
    closed_on = TODAY - timedelta(days=days_ago)
    case = CaseFactory(
        antenna=world.antenna,
        referent=world.agents["cpip"],
        status="closed",
        opened_on=closed_on - timedelta(days=400),
        closed_on=closed_on,
        **kw,
    )
    MeasureFactory(case=case, court=world.court)
    return case


@pytest.fixture
def old_file(world, settings, tmp_path):
    """A file closed five years and two days ago, with all a follow-up leaves behind."""
    settings.MEDIA_ROOT = tmp_path / "media"
    case = closed(world, 5 * 365 + 3)
    measure = case.measures.get()
    when = NOON - timedelta(days=5 * 365 + 30)
    convocation = Convocation.objects.create(
        case=case,
        kind="follow_up",
        issued_from="spip",
        starts_at=when,
        status="honoured",
        outcome_recorded_at=when,
    )
    interview = Interview.objects.create(
        case=case,
        convocation=convocation,
        agent=world.agents["cpip"],
        held_at=when,
        kind="follow_up",
        attendance="present",
        duration_minutes=30,
        notes="Entretien",
    )
    Notification.objects.create(
        convocation=convocation,
        event="reminder",
        channel="sms",
        recipient="0600000001",
        body="Rappel",
        send_after=when,
        status="sent",
        sent_at=when,
    )
    care = ImposedObligation.objects.create(
        measure=measure, obligation_type=ObligationType.objects.get(code="S-SOINS")
    )
    name = default_storage.save(f"proofs/{case.service_id}/{case.pk}/a.pdf", ContentFile(b"%PDF"))
    Proof.objects.create(
        case=case,
        obligation=care,
        interview=interview,
        received_on=when.date(),
        file=name,
        original_name="attestation.pdf",
        content_type="application/pdf",
        size=4,
        uploaded_by=world.users["cpip"],
    )
    Referral.objects.create(
        case=case,
        partner=world.agents["partner"].partner,
        domain="housing",
        status="ended",
        reason="Hébergement",
        sent_on=when.date(),
        created_by=world.users["cpip"],
    )
    return case


def test_a_file_closed_a_year_ago_is_archived_and_leaves_every_list(world, frozen, client_for):
    due = closed(world, 366)
    recent = closed(world, 300)
    held = closed(world, 400, legal_hold=True, legal_hold_reason="Appel en cours")
    counts = retention_apply()
    assert counts["archived"] == 1
    statuses = dict(
        Case.objects.filter(pk__in=[due.pk, recent.pk, held.pk]).values_list("pk", "status")
    )
    assert statuses == {due.pk: "archived", recent.pk: "closed", held.pk: "closed"}
    # Out of the CPIP's pages and API, still read by the director.
    cpip = client_for(world.users["cpip"])
    assert cpip.get(f"/dossiers/{due.pk}/").status_code == 404
    assert cpip.get(f"/dossiers/{recent.pk}/").status_code == 200
    assert Case.objects.visible_to(world.users["cpip"]).filter(pk=due.pk).count() == 0
    assert Measure.objects.visible_to(world.users["dpip"]).filter(case=due).count() == 0
    listed = client_for(world.users["dspip"]).get("/dossiers/", {"status": ""}).content.decode()
    assert f"/dossiers/{recent.pk}/" in listed and f"/dossiers/{due.pk}/" not in listed
    archives = client_for(world.users["dspip"]).get("/dossiers/", {"status": "archived"})
    assert f"/dossiers/{due.pk}/" in archives.content.decode()
    director = client_for(world.users["dspip"]).get(f"/dossiers/{due.pk}/")
    assert director.status_code == 200
    assert 'data-testid="archived"' in director.content.decode()
    row = AuditEntry.objects.get(object_type="cases.case", object_id=str(due.pk), action="update")
    assert row.username == "système" and row.changes == {"status": ["closed", "archived"]}


def test_a_file_past_five_years_is_destroyed_with_all_that_hangs_off_it(world, frozen, old_file):
    person_id, case_id = old_file.person_id, old_file.pk
    proof_name = Proof.objects.get(case=old_file).file.name
    assert default_storage.exists(proof_name)
    counts = retention_apply()
    assert counts["destroyed"] == 1 and counts["refused"] == 0
    assert not Case.objects.filter(pk=case_id).exists()
    assert not Person.objects.filter(pk=person_id).exists()  # no other file named them
    assert not Measure.objects.filter(case_id=case_id).exists()
    assert not Convocation.objects.filter(case_id=case_id).exists()
    assert not Interview.objects.filter(case_id=case_id).exists()
    assert not Notification.objects.filter(convocation__case_id=case_id).exists()
    assert not Referral.objects.filter(case_id=case_id).exists()
    assert not default_storage.exists(proof_name)
    tombstone = Tombstone.objects.get(case_number=case_id)
    assert tombstone.service_id == world.service.pk
    assert tombstone.closed_on == TODAY - timedelta(days=5 * 365 + 3)
    assert tombstone.files == [proof_name] and tombstone.files_removed
    assert tombstone.counts["cases.case"] == 1
    assert tombstone.counts["cases.person"] == 1
    assert tombstone.counts["measures.measure"] == 1
    assert tombstone.counts["cases.proof"] == 1
    assert tombstone.counts["cases.notification"] == 1
    assert tombstone.counts["partners.referral"] == 1
    assert "5 ans" in tombstone.rule
    assert AuditEntry.objects.filter(
        action="delete", object_type="cases.case", object_id=str(case_id)
    ).exists()


def test_a_person_with_another_file_stays_and_a_hold_stops_destruction(world, frozen):
    person = PersonFactory()
    old = closed(world, 5 * 365 + 10, person=person)
    CaseFactory(person=person, antenna=world.other_antenna)  # followed in Marseille now
    held = closed(world, 6 * 365, legal_hold=True, legal_hold_reason="Contentieux")
    counts = retention_apply()
    assert counts["destroyed"] == 1
    assert not Case.objects.filter(pk=old.pk).exists()
    assert Person.objects.filter(pk=person.pk).exists()
    assert Case.objects.filter(pk=held.pk, status="closed").exists()


def test_the_second_run_changes_nothing(world, frozen, old_file):
    closed(world, 400)
    first = retention_apply()
    # The old file is archived then destroyed in the same run; the other one archived.
    assert (first["archived"], first["destroyed"]) == (2, 1)
    rows = (Case.objects.count(), Tombstone.objects.count(), AuditEntry.objects.count())
    again = retention_apply()
    assert again == {
        "archived": 0,
        "destroyed": 0,
        "refused": 0,
        "messages_erased": 0,
        "files_removed": 0,
    }
    assert (Case.objects.count(), Tombstone.objects.count(), AuditEntry.objects.count()) == rows


def test_files_left_by_a_crash_after_the_commit_are_removed_by_the_next_run(
    world, frozen, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    name = default_storage.save("proofs/1/2/left.pdf", ContentFile(b"%PDF"))
    Tombstone.objects.create(
        case_number=2,
        service=world.service,
        closed_on=TODAY,
        rule="test",
        files=[name],
        files_removed=False,
        destroyed_at=NOON,
    )
    assert retention_apply()["files_removed"] == 1
    assert not default_storage.exists(name)
    assert Tombstone.objects.get(case_number=2).files_removed


def test_old_message_texts_are_erased_recent_ones_kept(world, frozen):
    case = world.cases["mine"]
    convocation = Convocation.objects.create(
        case=case, kind="follow_up", issued_from="spip", starts_at=NOON, status="booked"
    )

    def message(days_ago, event):
        return Notification.objects.create(
            convocation=convocation,
            event=event,
            channel="sms",
            recipient="0600000002",
            body="Rendez-vous au SPIP",
            send_after=NOON - timedelta(days=days_ago),
            status="sent",
            sent_at=NOON - timedelta(days=days_ago),
        )

    old, recent = message(400, "booking"), message(10, "reminder")
    assert retention_apply()["messages_erased"] == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.body, old.recipient, old.status) == ("", "", "sent")
    assert (recent.body, recent.recipient) == ("Rendez-vous au SPIP", "0600000002")


def test_the_director_sees_what_comes_next_month(world, frozen, client_for):
    soon = closed(world, 350)  # archived within the month
    later = closed(world, 200)
    held = closed(world, 5 * 365 - 5, legal_hold=True, legal_hold_reason="Appel")
    page = client_for(world.users["dspip"]).get("/dossiers/conservation/")
    assert page.status_code == 200
    html = page.content.decode()
    to_archive = html.split('data-testid="to-archive"')[1].split("</table>")[0]
    assert f">{soon.pk}<" in to_archive and f">{later.pk}<" not in to_archive
    assert f">{held.pk}<" not in to_archive
    assert "Appel" in html.split('data-testid="held"')[1]
    assert client_for(world.users["cpip"]).get("/dossiers/conservation/").status_code == 403
    assert client_for(world.users["dspip_other"]).get("/dossiers/conservation/").status_code == 200
    other = client_for(world.users["dspip_other"]).get("/dossiers/conservation/").content.decode()
    assert f">{soon.pk}<" not in other


def test_the_director_sets_and_lifts_a_legal_hold_with_a_reason(world, client_for):
    case = world.cases["mine"]
    client = client_for(world.users["dspip"])
    client.post(f"/dossiers/{case.pk}/conservation/", {"hold": "1", "reason": ""})
    case.refresh_from_db()
    assert not case.legal_hold  # a reason is required
    client.post(f"/dossiers/{case.pk}/conservation/", {"hold": "1", "reason": "Appel du parquet"})
    case.refresh_from_db()
    assert (case.legal_hold, case.legal_hold_reason) == (True, "Appel du parquet")
    row = AuditEntry.objects.filter(object_type="cases.case", object_id=str(case.pk)).latest("id")
    assert row.changes["legal_hold"] == [False, True]
    client.post(f"/dossiers/{case.pk}/conservation/", {"hold": "0"})
    case.refresh_from_db()
    assert (case.legal_hold, case.legal_hold_reason) == (False, "")
    for persona in ("cpip", "dpip", "dspip_other"):
        response = client_for(world.users[persona]).post(
            f"/dossiers/{case.pk}/conservation/", {"hold": "1", "reason": "x"}
        )
        assert response.status_code in (403, 404)
    case.refresh_from_db()
    assert not case.legal_hold


def test_a_file_sent_by_transfer_stays_readable_while_the_receiving_file_is_open(world):
    from cases.files import transfers

    moving = world.cases["mine"]
    transfer = transfers.transfer_open(
        actor=world.users["dspip"],
        case=moving,
        to_service=world.other_service,
        reason="Déménagement à Marseille",
    )
    transfers.transfer_answer(actor=world.users["dspip_other"], transfer=transfer, accept=True)
    moving.refresh_from_db()
    assert moving.status == "closed"
    later = moving.closed_on + timedelta(days=800)
    assert retention_apply(today=later)["archived"] == 0  # Marseille still follows the person
    moving.refresh_from_db()
    assert moving.status == "closed"
    # Archived anyway (a past run), Marseille's CPIPs still read the history they received.
    Case.objects.filter(pk=moving.pk).update(status="archived")
    assert Case.objects.visible_to(world.users["dspip_other"]).filter(pk=moving.pk).exists()
    # The access request and the legal hold are the sending service's, not Marseille's.
    assert Case.objects.visible_to(world.users["dspip"]).filter(pk=moving.pk).exists()
