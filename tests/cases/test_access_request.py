"""A person's access request, answered by the director: the whole of what the service
holds, as JSON and PDF, what is withheld marked and counted, each document audited, and
nothing of another service's file."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Convocation, Incident, Interview, Notification, Report
from partners.models import Referral
from spip.models import AuditEntry
from tests.factories import CaseFactory, MeasureFactory

URL = "/dossiers/{}/droit-d-acces/"


@pytest.fixture
def held(world):
    """The person of cpip's case, with a second file in Marseille (another service), an
    interview with private notes, a message sent, a referral, a sent and a draft report."""
    case = world.cases["mine"]
    person = case.person
    person.birth_name, person.first_names, person.phone = "ROUSSEAU", "Lucie", "0611223344"
    person.save()
    marseille = CaseFactory(
        person=person, antenna=world.other_antenna, status="closed", closed_on=timezone.localdate()
    )
    MeasureFactory(case=marseille, court=world.other_court)
    when = timezone.now() - timedelta(days=10)
    convocation = Convocation.objects.create(
        case=case,
        kind="follow_up",
        issued_from="spip",
        starts_at=when,
        status="honoured",
        outcome_recorded_at=when,
    )
    Convocation.objects.create(
        case=marseille,
        kind="follow_up",
        issued_from="spip",
        starts_at=when,
        status="honoured",
        outcome_recorded_at=when,
    )
    Interview.objects.create(
        case=case,
        convocation=convocation,
        agent=world.agents["cpip"],
        held_at=when,
        kind="follow_up",
        attendance="present",
        duration_minutes=45,
        notes="Recherche d'emploi en cours, démarches à la mission locale.",
        private_notes="Impression : fragile, à revoir avec la psychologue.",
    )
    Notification.objects.create(
        convocation=convocation,
        event="reminder",
        channel="sms",
        recipient="0611223344",
        body="Rappel : rendez-vous au SPIP demain à 10 h.",
        send_after=when - timedelta(days=1),
        status="sent",
        sent_at=when - timedelta(days=1),
    )
    Referral.objects.create(
        case=case,
        partner=world.agents["partner"].partner,
        domain="housing",
        status="accepted",
        reason="Hébergement à trouver",
        sent_on=timezone.localdate(),
        created_by=world.users["cpip"],
    )
    Report.objects.create(
        case=case,
        kind="evaluation",
        status="sent",
        body="Respect des obligations.",
        sent_on=timezone.localdate(),
        author=world.agents["cpip"],
    )
    Report.objects.create(case=case, kind="yearly", status="draft", body="Brouillon en cours")
    Incident.objects.create(
        case=case,
        noticed_on=timezone.localdate(),
        facts="Absence injustifiée au rendez-vous",
        status="sent",
        sent_on=timezone.localdate(),
        author=world.agents["cpip"],
    )
    Incident.objects.create(
        case=case,
        noticed_on=timezone.localdate(),
        facts="Incident en cours de rédaction",
        status="draft",
        author=world.agents["cpip"],
    )
    return case


def test_the_director_gets_everything_the_service_holds_as_json(client_for, world, held):
    response = client_for(world.users["dspip"]).get(URL.format(held.pk), {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="droit-d-acces-')
    record = json.loads(response.content)
    assert record["person"]["birth_name"] == "ROUSSEAU"
    assert record["person"]["phone"] == "0611223344"
    assert [f["file"] for f in record["files"]] == [held.pk]  # not Marseille's file
    (file,) = record["files"]
    assert len(file["measures"]) == 1
    assert len(file["convocations"]) == 1
    (interview,) = file["interviews"]
    assert interview["notes"] == "Recherche d'emploi en cours, démarches à la mission locale."
    assert interview["private_notes"] == "[retenu]"
    assert "fragile" not in response.content.decode()
    (message,) = file["messages"]
    assert message["text"] == "Rappel : rendez-vous au SPIP demain à 10 h."
    assert [r["reason"] for r in file["referrals"]] == ["Hébergement à trouver"]
    assert [r["text"] for r in file["reports"]] == ["Respect des obligations."]
    assert "Brouillon en cours" not in response.content.decode()
    assert [i["facts"] for i in file["incidents"]] == ["Absence injustifiée au rendez-vous"]
    assert "Incident en cours de rédaction" not in response.content.decode()
    assert {w["what"]: w["count"] for w in record["withheld"]} == {
        "private_notes": 1,
        "draft_reports": 1,
        "draft_incidents": 1,
    }
    assert "article 107" in record["withholding_basis"]


def test_the_pdf_names_the_person_and_marks_what_is_withheld(client_for, world, held):
    response = client_for(world.users["dspip"]).get(URL.format(held.pk), {"format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    from django.template.loader import render_to_string

    from cases.files.access_request import person_record

    html = render_to_string(
        "cases/access_request_pdf.html",
        {"record": person_record(world.users["dspip"], held), "case": held},
    )
    assert "ROUSSEAU" in html and "Recherche d&#x27;emploi en cours" in html
    assert "Notes personnelles : retenues" in html
    assert "fragile" not in html and "Brouillon en cours" not in html


def test_each_document_is_audited_with_its_format(client_for, world, held):
    client = client_for(world.users["dspip"])
    client.get(URL.format(held.pk), {"format": "json"})
    client.get(URL.format(held.pk), {"format": "pdf"})
    rows = AuditEntry.objects.filter(action="access_request").order_by("id")
    assert [r.changes["format"] for r in rows] == ["json", "pdf"]
    assert {r.object_type for r in rows} == {"cases.person"}
    assert {r.object_id for r in rows} == {str(held.person_id)}
    assert {r.service_id for r in rows} == {world.service.pk}
    assert rows[0].changes["files"] == [held.pk]
    assert rows[0].changes["withheld"] == {
        "private_notes": 1,
        "draft_reports": 1,
        "draft_incidents": 1,
    }


@pytest.mark.parametrize("persona", ["cpip", "dpip", "bex", "partner", "dap", "secretary"])
def test_only_the_director_answers_an_access_request(client_for, world, held, persona):
    response = client_for(world.users[persona]).get(URL.format(held.pk), {"format": "json"})
    assert response.status_code in (403, 404)
    assert b"ROUSSEAU" not in response.content
    assert not AuditEntry.objects.filter(action="access_request").exists()


def test_another_services_director_cannot_reach_the_file(client_for, world, held):
    response = client_for(world.users["dspip_other"]).get(URL.format(held.pk), {"format": "json"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="access_request").exists()


def test_the_case_file_offers_it_to_the_director_only(client_for, world, held):
    page = client_for(world.users["dspip"]).get(f"/dossiers/{held.pk}/").content.decode()
    assert 'data-testid="access-request"' in page
    page = client_for(world.users["cpip"]).get(f"/dossiers/{held.pk}/").content.decode()
    assert 'data-testid="access-request"' not in page
    landing = client_for(world.users["dspip"]).get(URL.format(held.pk))
    assert landing.status_code == 200
    assert "Télécharger le PDF à envoyer" in landing.content.decode()
