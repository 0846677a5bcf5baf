"""The CPIP workspace: one-transaction interview form, proofs, outcomes, reactions,
follow-up changes with an optimistic check, cover, reports, and who may do what."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases.files import services as case_services
from cases.followup import services as followup_services
from cases.models import Convocation, Cover, Incident, Interview, Proof
from measures.models import ImposedObligation, ObligationType
from spip.models import AuditEntry
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def care(world):
    """An obligation of care (needs proof) on cpip's case."""
    measure = world.cases["mine"].measures.get()
    return ImposedObligation.objects.create(
        measure=measure, obligation_type=ObligationType.objects.get(code="S-SOINS")
    )


def log(world, **kw):
    defaults = {
        "actor": world.users["cpip"],
        "case": world.cases["mine"],
        "agent": world.agents["cpip"],
        "held_at": timezone.now() - timedelta(minutes=5),
        "kind": "office",
        "duration_minutes": 30,
        "attendance": "present",
        "notes": "RAS",
    }
    return followup_services.interview_log(**{**defaults, **kw})


def test_the_interview_form_writes_interview_proof_and_next_appointment_with_their_audit(
    world, care
):
    conv = Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=timezone.now() - timedelta(minutes=10),
    )
    next_at = timezone.now() + timedelta(days=30)
    interview = log(
        world,
        convocation=conv,
        next_at=next_at,
        proofs=[(care, SimpleUploadedFile("attestation.pdf", PDF))],
    )
    conv.refresh_from_db()
    assert conv.status == "honoured"
    assert Convocation.objects.filter(
        case=world.cases["mine"], starts_at=next_at, status="booked"
    ).exists()
    proof = Proof.objects.get()
    assert (proof.interview, proof.content_type, proof.original_name) == (
        interview,
        "application/pdf",
        "attestation.pdf",
    )
    assert Path(proof.file.path).read_bytes() == PDF
    written = set(AuditEntry.objects.filter(username="cpip").values_list("object_type", "action"))
    assert written == {
        ("cases.interview", "create"),
        ("cases.convocation", "update"),
        ("cases.convocation", "create"),
        ("cases.proof", "create"),
    }


def test_a_refused_next_appointment_writes_nothing(world, care, media):
    with pytest.raises(ValidationError):
        log(
            world,
            next_at=timezone.now() - timedelta(days=1),
            proofs=[(care, SimpleUploadedFile("a.pdf", PDF))],
        )
    assert not Interview.objects.exists()
    assert not Proof.objects.exists()
    assert not any(Path(media).rglob("*.pdf"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "facture.pdf",
            EXE,
            "Seuls les fichiers PDF, JPEG et PNG sont acceptés (contenu vérifié).",
        ),
        (
            "photo.png",
            b"GIF89a" + b"\x00" * 20,
            "Seuls les fichiers PDF, JPEG et PNG sont acceptés (contenu vérifié).",
        ),
        ("gros.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "Le fichier dépasse 5 Mo."),
        ("vide.pdf", b"", "Le fichier est vide."),
    ],
)
def test_uploads_are_checked_by_content(world, care, name, content, message):
    with pytest.raises(ValidationError) as exc:
        log(world, proofs=[(care, SimpleUploadedFile(name, content))])
    assert message in exc.value.messages
    assert not Interview.objects.exists()


def test_jpeg_and_png_are_accepted(world, care):
    for name, content in (
        ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("b.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
    ):
        followup_services.proof_record(
            actor=world.users["cpip"],
            case=world.cases["mine"],
            obligation=care,
            upload=SimpleUploadedFile(name, content),
            received_on=timezone.localdate(),
        )
    assert sorted(Proof.objects.values_list("content_type", flat=True)) == [
        "image/jpeg",
        "image/png",
    ]


def test_proofs_live_outside_the_web_root_and_are_served_only_in_scope(world, care, client_for):
    proof = followup_services.proof_record(
        actor=world.users["cpip"],
        case=world.cases["mine"],
        obligation=care,
        upload=SimpleUploadedFile("x.pdf", PDF),
        received_on=timezone.localdate(),
    )
    assert not str(Path(proof.file.path)).startswith(str(settings.STATIC_ROOT))
    assert "x.pdf" not in proof.file.name  # the stored name never comes from the user
    url = reverse("cases:proof", args=[world.cases["mine"].pk, proof.pk])
    response = client_for(world.users["cpip2"]).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client_for(world.users["cpip_other"]).get(url).status_code == 404
    assert client_for(world.users["bex"]).get(url).status_code == 404


def test_interview_notes_are_escaped_in_the_page(world, client_for):
    log(world, notes="<script>alert('x')</script>")
    html = (
        client_for(world.users["cpip"])
        .get(reverse("cases:detail", args=[world.cases["mine"].pk]))
        .content.decode()
    )
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_interview_notes_come_back_as_plain_text_in_the_api(world, api_for):
    log(world, notes="<script>alert('x')</script>")
    body = (
        api_for(world.users["cpip"])
        .get(f"/api/v1/interviews/?case={world.cases['mine'].pk}")
        .json()
    )
    assert body["results"][0]["notes"] == "<script>alert('x')</script>"


def test_report_pdf_escapes_the_text_and_names_the_person_the_judge_and_the_signatory(
    world, client_for
):
    from cases.followup.views import report_document

    report = followup_services.report_draft(
        actor=world.users["cpip"], case=world.cases["mine"], kind="incident"
    )
    followup_services.report_update(
        actor=world.users["cpip"], report=report, body="<script>x</script> Absences répétées"
    )
    report.refresh_from_db()
    html = report_document(report)
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    assert world.cases["mine"].person.full_name in html
    # Addressed to the judge of the court that imposed the measure, and signed.
    addressee = html.split('data-testid="addressee"', 1)[1].split("</div>", 1)[0]
    assert "juge de l'application des peines" in addressee.replace("&#x27;", "'")
    assert "Tribunal judiciaire de Lyon" in addressee
    signature = html.split('data-testid="signature"', 1)[1]
    assert "Fait à" in signature and timezone.localdate().strftime("%d/%m/%Y") in signature
    assert "Signature" in signature
    response = client_for(world.users["cpip"]).get(
        reverse("cases:report-pdf", args=[world.cases["mine"].pk, report.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_incident_report_draft_lists_missed_dates_and_sending_records_the_breach(world):
    case = world.cases["mine"]
    when = timezone.now() - timedelta(days=20)
    Convocation.objects.create(
        case=case,
        kind="follow_up",
        issued_from="spip",
        starts_at=when,
        status="missed",
        outcome_recorded_at=when,
    )
    report = followup_services.report_draft(
        actor=world.users["cpip"], case=case, kind="incident", author=world.agents["cpip"]
    )
    assert f"Convocations non honorées : {timezone.localtime(when):%d/%m/%Y}" in report.body
    # The draft cannot be sent as it is: its "à préciser" parts must be written first.
    with pytest.raises(ValidationError, match="reste à rédiger"):
        followup_services.report_update(
            actor=world.users["cpip"], report=report, body=report.body, send=True
        )
    written = report.body.replace("à préciser", "obligation de soins non justifiée depuis mars")
    followup_services.report_update(
        actor=world.users["cpip"],
        report=report,
        body=written,
        send=True,
        author=world.agents["cpip"],
    )
    report.refresh_from_db()
    assert (report.status, report.sent_on) == ("sent", timezone.localdate())
    incident = Incident.objects.get(case=case)
    assert (incident.status, incident.sent_on) == ("sent", timezone.localdate())
    with pytest.raises(ValidationError):
        followup_services.report_update(actor=world.users["cpip"], report=report, body="changé")


def test_follow_up_changes_refuse_a_stale_form(world):
    case = world.cases["mine"]
    version = case.version
    case_services.case_follow_up_update(
        actor=world.users["cpip"],
        case=case,
        version=version,
        risk_level="high",
        intensity="renforce",
        reason="Nouvelle infraction",
        agent=world.agents["cpip"],
    )
    with pytest.raises(ValidationError) as exc:
        case_services.case_follow_up_update(
            actor=world.users["cpip2"],
            case=case,
            version=version,
            risk_level="low",
            intensity="allege",
            reason="Autre onglet",
            agent=world.agents["cpip2"],
        )
    assert "modifié entre-temps" in exc.value.messages[0]
    case.refresh_from_db()
    assert (case.risk_level, case.intensity, case.version) == ("high", "renforce", version + 1)
    assert list(case.assessments.values_list("level", flat=True)) == ["high"]


def test_one_click_outcome_returns_the_row_and_then_the_reactions(world, client_for):
    conv = Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=timezone.now() - timedelta(hours=2),
    )
    client = client_for(world.users["cpip"])
    url = reverse("cases:convocation-outcome", args=[conv.pk])
    response = client.post(url, {"status": "missed"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="conv-{conv.pk}">')
    assert "Quelle suite donner" in html
    new_at = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url, {"reaction": "new_convocation", "new_at": new_at}, HTTP_HX_REQUEST="true"
    )
    assert "nouvelle convocation" in response.content.decode()
    conv.refresh_from_db()
    assert conv.reaction == "new_convocation"
    assert (
        Convocation.objects.filter(
            case=conv.case, status="booked", starts_at__gt=timezone.now()
        ).count()
        == 1
    )


def test_excused_without_reason_is_refused_in_the_row(world, client_for):
    conv = Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=timezone.now() - timedelta(hours=2),
    )
    response = client_for(world.users["cpip"]).post(
        reverse("cases:convocation-outcome", args=[conv.pk]),
        {"status": "excused"},
        HTTP_HX_REQUEST="true",
    )
    assert "Une absence excusée demande un motif." in response.content.decode()
    conv.refresh_from_db()
    assert conv.status == "booked"


def test_logging_on_a_case_out_of_scope_is_404_and_audited(world, client_for, api_for):
    other = world.cases["other"]
    response = client_for(world.users["cpip"]).post(
        reverse("cases:interview-new", args=[other.pk]), {}
    )
    assert response.status_code == 404
    response = api_for(world.users["cpip"]).post(
        "/api/v1/interviews/",
        {
            "case": other.pk,
            "held_at": timezone.now().isoformat(),
            "kind": "office",
            "duration_minutes": 30,
            "attendance": "present",
        },
        format="json",
    )
    assert response.status_code == 404
    assert (
        AuditEntry.objects.filter(action="denied", object_id=str(other.pk), username="cpip").count()
        == 2
    )
    assert not Interview.objects.exists()


def test_api_interview_create_uses_the_same_service(world, api_for):
    next_at = (timezone.now() + timedelta(days=20)).isoformat()
    response = api_for(world.users["cpip"]).post(
        "/api/v1/interviews/",
        {
            "case": world.cases["mine"].pk,
            "held_at": timezone.now().isoformat(),
            "kind": "phone",
            "duration_minutes": 15,
            "attendance": "present",
            "notes": "Point téléphonique",
            "next_at": next_at,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Convocation.objects.filter(case=world.cases["mine"], status="booked").count() == 1
    bad = api_for(world.users["cpip"]).post(
        "/api/v1/interviews/", {"case": world.cases["mine"].pk, "kind": "x"}, format="json"
    )
    assert bad.status_code == 400
    assert {"held_at", "kind", "duration_minutes", "attendance"} <= set(bad.json())


def test_api_proof_upload_refuses_an_executable(world, care, api_for):
    api = api_for(world.users["cpip"])
    response = api.post(
        "/api/v1/proofs/",
        {
            "case": world.cases["mine"].pk,
            "obligation": care.pk,
            "file": SimpleUploadedFile("virus.pdf", EXE),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "PDF, JPEG et PNG" in str(response.json())
    response = api.post(
        "/api/v1/proofs/",
        {
            "case": world.cases["mine"].pk,
            "obligation": care.pk,
            "file": SimpleUploadedFile("ok.pdf", PDF),
        },
        format="multipart",
    )
    assert response.status_code == 201


@pytest.mark.parametrize("persona", ["bex", "disp", "partner", "sap"])
@pytest.mark.parametrize("endpoint", ["interviews", "assessments", "incidents", "proofs"])
def test_workspace_endpoints_by_role(world, api_for, persona, endpoint):
    log(world, notes="x")
    response = api_for(world.users[persona]).get(f"/api/v1/{endpoint}/")
    if persona in ("bex", "sap"):
        assert response.status_code == 200
        assert response.json()["count"] == 0
    else:
        assert response.status_code == 403


def test_timeline_api_lists_events_newest_first(world, api_for):
    log(world, notes="x")
    body = (
        api_for(world.users["cpip"]).get(f"/api/v1/cases/{world.cases['mine'].pk}/timeline/").json()
    )
    kinds = [e["kind"] for e in body]
    assert kinds[0] == "interview"
    assert "case" in kinds
    assert (
        api_for(world.users["cpip_other"])
        .get(f"/api/v1/cases/{world.cases['mine'].pk}/timeline/")
        .status_code
        == 404
    )


@pytest.mark.parametrize("persona", ["dpip", "dspip", "bex", "disp", "dap", "partner"])
def test_caseload_and_day_pages_are_the_cpips(world, client_for, persona):
    client = client_for(world.users[persona])
    assert client.get(reverse("workspace:caseload")).status_code == 403
    assert client.get(reverse("workspace:day")).status_code == 403


def test_caseload_lists_my_cases_and_the_ones_i_cover(world, client_for):
    today = timezone.localdate()
    covered = CaseFactory(antenna=world.antenna2, referent=world.agents["cpip_a2"])
    response = client_for(world.users["cpip"]).get(reverse("workspace:caseload"))
    assert {line["id"] for line in response.context["lines"]} == {world.cases["mine"].pk}
    followup_services.cover_create(
        actor=world.users["dspip"],
        absent=world.agents["cpip_a2"],
        covering=world.agents["cpip"],
        starts_on=today,
        ends_on=today + timedelta(days=5),
    )
    response = client_for(world.users["cpip"]).get(reverse("workspace:caseload"))
    assert {line["id"] for line in response.context["lines"]} == {
        world.cases["mine"].pk,
        covered.pk,
        world.cases["a2"].pk,
    }
    assert "intérim de" in response.content.decode()
    # The covered file opens too, for the duration of the cover only.
    assert (
        client_for(world.users["cpip"]).get(reverse("cases:detail", args=[covered.pk])).status_code
        == 200
    )
    Cover.objects.update(ends_on=today - timedelta(days=1), starts_on=today - timedelta(days=3))
    assert (
        client_for(world.users["cpip"]).get(reverse("cases:detail", args=[covered.pk])).status_code
        == 404
    )


def test_cover_page_is_for_heads_of_antenna_and_directors(world, client_for):
    assert client_for(world.users["cpip"]).get(reverse("workspace:covers")).status_code == 403
    client = client_for(world.users["dpip"])
    today = timezone.localdate()
    response = client.post(
        reverse("workspace:covers"),
        {
            "absent_agent": world.agents["cpip"].pk,
            "covering_agent": world.agents["cpip"].pk,
            "starts_on": today,
            "ends_on": today,
        },
    )
    assert "Un agent ne peut pas se remplacer lui-même." in response.content.decode()
    response = client.post(
        reverse("workspace:covers"),
        {
            "absent_agent": world.agents["cpip"].pk,
            "covering_agent": world.agents["cpip2"].pk,
            "starts_on": today,
            "ends_on": today + timedelta(days=7),
            "reason": "Congés",
        },
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(object_type="cases.cover", username="dpip").exists()


def test_caseload_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    client = client_for(world.users["cpip"])
    for _ in range(10):
        CaseFactory(antenna=world.antenna, referent=world.agents["cpip"])
    # session, user, the agent with its service and antenna (the scope's, reused by the
    # page), the CPIP's covers, count, page with subqueries, measures; breakdown (policy,
    # counts, reductions); the page's one audit INSERT.
    with django_assert_num_queries(11):
        client.get(reverse("workspace:caseload"))
    for _ in range(40):
        CaseFactory(antenna=world.antenna, referent=world.agents["cpip"])
    with django_assert_num_queries(11):
        assert len(client.get(reverse("workspace:caseload")).context["lines"]) == 50


def test_case_file_query_count_does_not_grow_with_history(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.users["cpip"])
    case = world.cases["mine"]
    url = reverse("cases:detail", args=[case.pk])
    # The page's reads, whatever the history: 32 since the file shows the pre-sentencing
    # proposal, the 471 CPP associations, an open transfer, a release plan, and the TIG
    # sessions and pre-sentencing summaries in its timeline.
    with django_assert_max_num_queries(32) as small:
        client.get(url)
    now = timezone.now()
    Interview.objects.bulk_create(
        Interview(
            case=case,
            agent=world.agents["cpip"],
            held_at=now - timedelta(days=30 * i),
            kind="office",
            duration_minutes=30,
            attendance="present",
            notes="n",
        )
        for i in range(1, 61)
    )
    Convocation.objects.bulk_create(
        Convocation(
            case=case,
            kind="follow_up",
            issued_from="spip",
            starts_at=now - timedelta(days=22 * i),
            status="honoured",
            outcome_recorded_at=now,
        )
        for i in range(1, 81)
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(f"{url}?chronologie=tout")
    assert len([e for e in response.context["timeline"] if e["kind"] == "interview"]) == 60
    # By default the latest 40 events, newest first, and the way to the rest.
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    shown = response.context["timeline"]
    assert len(shown) == 40
    assert response.context["timeline_total"] > 60
    assert shown[0]["when"] >= shown[-1]["when"]
    assert "voir toute la chronologie" in response.content.decode()


def test_caseload_shows_the_report_due_date(world, client_for):
    from datetime import date

    from cases.models import Alert

    Alert.objects.create(
        alert_type="report_due",
        severity="warning",
        case=world.cases["mine"],
        rule="Rapport",
        dedup_key="evaluation:1",
        opened_at=timezone.now(),
        due_on=date(2026, 12, 20),
    )
    html = client_for(world.users["cpip"]).get(reverse("workspace:caseload")).content.decode()
    assert "<td>20/12/2026</td>" in html


def test_a_past_appointment_still_to_record_shows_its_year(world, client_for):
    from cases.models import Agenda, Convocation, Slot

    agenda = Agenda.objects.create(name="a", antenna=world.antenna)
    when = timezone.now() - timedelta(days=400)  # last year, never recorded
    slot = Slot.objects.create(agenda=agenda, starts_at=when, capacity=1)
    Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        antenna=world.antenna,
        slot=slot,
        seat=1,
        starts_at=when,
        issued_from="spip",
    )
    page = client_for(world.users["cpip"]).get(reverse("workspace:day")).content.decode()
    assert timezone.localtime(when).strftime("%d/%m/%Y") in page


def test_a_rescheduled_convocation_is_printed_and_sent_from_the_day_list(world, client_for):
    """After an absence, the new convocation can be printed and sent to the person; sending
    again replaces the confirmation (its first sending stays in the audit row)."""
    from cases.agenda import services as agenda_services
    from cases.models import Notification
    from spip.models import AuditEntry

    case = world.cases["mine"]
    person = case.person
    person.phone, person.email, person.accepts_messages = "06 12 34 56 78", "p@example.org", True
    person.save()
    when = timezone.now() + timedelta(days=3)
    conv = agenda_services.convocation_create(
        actor=world.users["cpip"], case=case, kind="follow_up", starts_at=when
    )
    client = client_for(world.users["cpip"])
    page = client.get(reverse("workspace:day") + "?vue=semaine").content.decode()
    assert reverse("cases:convocation-pdf", args=[conv.pk]) in page
    assert f'data-testid="send-{conv.pk}"' in page
    assert client.get(reverse("cases:convocation-pdf", args=[conv.pk])).status_code == 200

    response = client.post(
        reverse("cases:convocation-send", args=[conv.pk]), {"next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("workspace:day")
    booked = Notification.objects.filter(convocation=conv, event="booked")
    assert sorted(booked.values_list("channel", flat=True)) == ["email", "sms"]
    assert Notification.objects.filter(convocation=conv, event="reminder").count() == 2
    booked.update(status="sent", sent_at=timezone.now())

    client.post(reverse("cases:convocation-send", args=[conv.pk]))
    assert list(booked.values_list("status", flat=True)) == ["queued", "queued"]
    rows = AuditEntry.objects.filter(object_type="cases.convocation", object_id=str(conv.pk))
    last = rows.filter(action="update").order_by("-id").first()
    assert last.changes["message"] == ["email", "sms"] and len(last.changes["previously"]) == 2


def test_a_convocation_is_not_sent_to_whom_refused_messages_nor_by_another_cpips_hand(
    world, client_for
):
    from cases.agenda import services as agenda_services
    from cases.models import Notification

    case = world.cases["mine"]
    case.person.accepts_messages = False
    case.person.save()
    conv = agenda_services.convocation_create(
        actor=None, case=case, kind="follow_up", starts_at=timezone.now() + timedelta(days=3)
    )
    client = client_for(world.users["cpip"])
    response = client.post(reverse("cases:convocation-send", args=[conv.pk]), follow=True)
    assert "pas accepté de recevoir des messages" in response.content.decode()
    assert not Notification.objects.filter(convocation=conv).exists()
    other = client_for(world.users["cpip_other"]).post(
        reverse("cases:convocation-send", args=[conv.pk])
    )
    assert other.status_code == 404


def test_the_day_lists_of_past_convocations_come_a_page_at_a_time(world, client_for):
    case = world.cases["mine"]
    start = timezone.now() - timedelta(days=60)
    Convocation.objects.bulk_create(
        Convocation(
            case=case,
            kind="follow_up",
            issued_from="spip",
            antenna=case.antenna,
            starts_at=start + timedelta(days=i),
        )
        for i in range(25)
    )
    client = client_for(world.users["cpip"])
    first = client.get(reverse("workspace:day")).content.decode()
    assert first.count('name="status" value="honoured"') == 20
    assert "Page 1 sur 2 (25 convocations)" in first and "issues=2" in first
    second = client.get(reverse("workspace:day"), {"issues": 2}).content.decode()
    assert second.count('name="status" value="honoured"') == 5


def test_the_next_appointment_is_picked_among_the_antennas_free_slots(world, client_for):
    """The interview form offers the antenna's free slots (a full one is not offered);
    picking one books its seat; a slot and a free time together are refused."""
    from cases.models import Agenda, Slot

    case = world.cases["mine"]
    agenda = Agenda.objects.create(name="Antenne de Lyon", antenna=case.antenna)
    soon = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    free = Slot.objects.create(agenda=agenda, starts_at=soon, capacity=1)
    full = Slot.objects.create(agenda=agenda, starts_at=soon + timedelta(hours=1), capacity=1)
    Convocation.objects.create(
        case=world.cases["colleague"],
        kind="follow_up",
        issued_from="spip",
        slot=full,
        seat=1,
        starts_at=full.starts_at,
    )
    busy = Slot.objects.create(agenda=agenda, starts_at=soon + timedelta(hours=2), capacity=3)
    Convocation.objects.create(  # the CPIP already receives someone then, elsewhere
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=busy.starts_at,
    )
    client = client_for(world.users["cpip"])
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'<option value="{free.pk}">' in page
    assert f'<option value="{full.pk}">' not in page
    assert f'<option value="{busy.pk}">' not in page

    form = {
        "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "office",
        "duration_minutes": 30,
        "attendance": "present",
        "next_slot": free.pk,
    }
    both = client.post(
        reverse("cases:interview-new", args=[case.pk]),
        {**form, "next_at": (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")},
    )
    assert both.status_code == 400
    assert "pas les deux" in both.content.decode()
    assert not Convocation.objects.filter(slot=free).exists()

    done = client.post(reverse("cases:interview-new", args=[case.pk]), form)
    assert done.status_code == 302
    booked = Convocation.objects.get(slot=free)
    assert (booked.case, booked.seat, booked.status) == (case, 1, "booked")


def test_a_history_is_written_at_once_with_one_audit_row_per_row(world):
    """Three past appointments: one honoured (with its interview), one missed, one whose
    outcome is still to record: three convocations, one interview, four audit rows."""
    from cases.followup.services import PastAppointment, history_record
    from cases.models import Interview
    from spip.models import AuditEntry

    case = world.cases["mine"]
    now = timezone.now()
    appointments = [
        PastAppointment(
            starts_at=now - timedelta(days=60),
            kind="first",
            status="honoured",
            outcome_at=now - timedelta(days=60),
            interview_kind="office",
            duration_minutes=45,
            notes="Secret",
        ),
        PastAppointment(
            starts_at=now - timedelta(days=30),
            kind="follow_up",
            status="missed",
            outcome_at=now - timedelta(days=30),
        ),
        PastAppointment(starts_at=now - timedelta(days=2), kind="follow_up"),
    ]
    before = AuditEntry.objects.count()
    written = history_record(
        actor=None, case=case, agent=world.agents["cpip"], appointments=appointments
    )
    assert written == 3
    statuses = sorted(Convocation.objects.filter(case=case).values_list("status", flat=True))
    assert statuses == ["booked", "honoured", "missed"]
    interview = Interview.objects.get(case=case)
    assert interview.convocation.status == "honoured" and interview.duration_minutes == 45
    assert AuditEntry.objects.count() - before == 4
    assert "Secret" not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_a_history_with_a_future_or_invalid_row_writes_nothing(world):
    from cases.followup.services import PastAppointment, history_record

    case = world.cases["mine"]
    now = timezone.now()
    good = PastAppointment(starts_at=now - timedelta(days=9), kind="follow_up")
    with pytest.raises(ValidationError, match="rendez-vous passés"):
        history_record(
            actor=None,
            case=case,
            agent=world.agents["cpip"],
            appointments=[good, PastAppointment(starts_at=now + timedelta(days=1), kind="x")],
        )
    with pytest.raises(ValidationError):
        history_record(
            actor=None,
            case=case,
            agent=world.agents["cpip"],
            appointments=[good, PastAppointment(starts_at=now, kind="not-a-kind")],
        )
    assert not Convocation.objects.filter(case=case).exists()


def test_an_appointment_to_come_is_not_honoured_or_missed_in_advance(world, client_for):
    tomorrow = Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=timezone.now() + timedelta(days=1, hours=1),
    )
    client = client_for(world.users["cpip"])
    row = client.get(reverse("workspace:day") + "?vue=semaine").content.decode()
    row = row.split(f'id="conv-{tomorrow.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'value="honoured"' not in row and 'value="cancelled"' in row
    response = client.post(
        reverse("cases:convocation-outcome", args=[tomorrow.pk]),
        {"status": "missed"},
        HTTP_HX_REQUEST="true",
    )
    assert "à venir" in response.content.decode()
    tomorrow.refresh_from_db()
    assert tomorrow.status == "booked"
    # Excused ahead of time (the person called): allowed.
    client.post(
        reverse("cases:convocation-outcome", args=[tomorrow.pk]),
        {"status": "excused", "reason": "Hospitalisation prévue"},
        HTTP_HX_REQUEST="true",
    )
    tomorrow.refresh_from_db()
    assert tomorrow.status == "excused"


def test_a_refused_sending_keeps_what_was_typed_as_the_draft(world, client_for):
    report = followup_services.report_draft(
        actor=world.users["cpip"], case=world.cases["mine"], kind="evaluation"
    )
    typed = report.body + "\nLa personne a trouvé un emploi en novembre."
    response = client_for(world.users["cpip"]).post(
        reverse("cases:report", args=[world.cases["mine"].pk, report.pk]),
        {"body": typed, "send": "1"},
    )
    assert response.status_code == 400
    assert "Brouillon enregistré, mais pas transmis" in response.content.decode()
    report.refresh_from_db()
    assert report.status == "draft" and "trouvé un emploi en novembre" in report.body


def test_the_evaluation_draft_counts_the_same_year_in_french(world):
    case = world.cases["mine"]
    now = timezone.now()
    for days, attendance in ((400, "present"), (100, "present"), (20, "present")):
        Interview.objects.create(
            case=case,
            agent=world.agents["cpip"],
            held_at=now - timedelta(days=days),
            kind="office",
            duration_minutes=30,
            attendance=attendance,
        )
    Convocation.objects.create(
        case=case,
        kind="follow_up",
        issued_from="spip",
        starts_at=now - timedelta(days=50),
        status="missed",
        outcome_recorded_at=now - timedelta(days=50),
    )
    report = followup_services.report_draft(actor=world.users["cpip"], case=case, kind="evaluation")
    # The interview of 400 days ago is outside the year.
    assert (
        "Suivi sur les douze derniers mois : 2 entretiens réalisés, "
        "1 convocation non honorée." in report.body
    )
