"""Journey: the CPIP's day — a missed convocation, its reaction, an interview with a proof."""

import re
from datetime import timedelta

from django.utils import timezone

from cases.models import Convocation
from measures.models import ImposedObligation, ObligationType
from tests.e2e.conftest import login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_cpip_records_a_missed_convocation_books_again_and_logs_an_interview(ui, demo):
    conv = (
        Convocation.objects.filter(
            case__referent__user__username="demo.cpip",
            status="booked",
            starts_at__date=timezone.localdate(),
        )
        .select_related("case__person")
        .order_by("starts_at")
        .first()
    )
    case = conv.case
    measure = case.measures.first()
    ImposedObligation.objects.get_or_create(
        measure=measure, obligation_type=ObligationType.objects.get(code="S-SOINS")
    )

    login(ui, "demo.cpip", demo)
    page = ui.page
    page.get_by_role("link", name="Mes convocations du jour").click()
    page.wait_for_url(re.compile(r".*/aujourdhui/$"))
    ui.check()
    row = page.locator(f"#conv-{conv.pk}")
    row.get_by_role("button", name="Non honorée").click()
    # htmx swaps the row in place: the page does not reload, the reactions appear.
    row.get_by_text("Quelle suite donner à l'absence ?").wait_for()
    new_at = (timezone.localtime() + timedelta(days=7)).replace(hour=10, minute=0)
    row.get_by_label("Nouvelle convocation le").fill(new_at.strftime("%Y-%m-%dT%H:%M"))
    row.get_by_role("button", name="Nouvelle convocation").click()
    page.get_by_test_id(f"status-{conv.pk}").filter(has_text="nouvelle convocation").wait_for()
    ui.check()

    row.get_by_role("link", name=str(case.person)).click()
    page.wait_for_url(re.compile(rf".*/dossiers/{case.pk}/$"))
    ui.check()
    form = page.locator("form[action$='/entretiens/nouveau/']")
    form.get_by_label("Type d'entretien").select_option("phone")
    form.get_by_label("Notes", exact=True).fill("Appel après l'absence : rendez-vous reprogrammé.")
    form.locator("input[type=file]").first.set_input_files(
        files=[{"name": "attestation-soins.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    form.get_by_role("button", name="Enregistrer l'entretien").click()
    page.wait_for_url(re.compile(rf".*/dossiers/{case.pk}/$"))
    assert "Entretien enregistré." in page.get_by_role("main").inner_text()
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "Entretien téléphonique" in timeline
    assert "Justificatif reçu" in timeline and "attestation-soins.pdf" in timeline
    assert "Non honorée — suite : nouvelle convocation" in timeline
    assert f"{new_at:%d/%m/%Y} 10:00" in timeline
    ui.check()
    ui.screenshot("case-file-after-interview")


def test_the_interview_form_works_on_a_phone(phone, demo):
    login(phone, "demo.cpip", demo)
    phone.goto("/portefeuille/")
    phone.page.locator("table tbody tr a").first.click()
    phone.page.wait_for_url(re.compile(r".*/dossiers/\d+/$"))
    phone.check()
    button = phone.page.get_by_role("button", name="Enregistrer l'entretien")
    button.scroll_into_view_if_needed()
    assert button.is_visible()
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"the page scrolls sideways on a phone ({width}px)"
    phone.screenshot("case-file-phone")
