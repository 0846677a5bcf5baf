"""Journeys of the workload engine: allocating an arrival, and a late start cleared."""

import re

from cases.alerts.services import alerts_refresh
from cases.models import Alert, Case
from tests.e2e.conftest import login


def test_dpip_allocates_an_arrival_from_the_ranking(ui, demo):
    login(ui, "demo.dpip", demo)
    page = ui.page
    page.get_by_role("link", name="Attribuer les arrivées").click()
    page.wait_for_url(re.compile(r".*/arrivees/$"))
    ui.check()
    page.get_by_role("link", name="Attribuer").first.click()
    page.wait_for_url(re.compile(r".*/arrivees/\d+/attribuer/"))
    ui.check()
    rows = page.locator("tbody tr")
    assert rows.count() >= 2
    impact = rows.first.locator("td").nth(2).inner_text()
    assert re.fullmatch(r"\d+,\d % → \d+,\d %", impact), impact
    # Choosing the second needs a reason: refused without, accepted with.
    rows.nth(1).locator("label").click()
    page.get_by_role("button", name="Attribuer").click()
    assert "Indiquez pourquoi" in page.locator(".fr-error-text").inner_text()
    ui.check()
    page.get_by_label("Motif (si ce n'est pas le premier proposé)").fill(
        "A déjà suivi la personne en détention"
    )
    page.get_by_role("button", name="Attribuer").click()
    page.wait_for_url(re.compile(r".*/arrivees/$"))
    assert "Dossier attribué" in page.get_by_role("main").inner_text()
    ui.screenshot("arrivals-after-allocation")


def test_cpip_clears_a_late_start_by_recording_the_interview(ui, demo):
    login(ui, "demo.cpip", demo)
    page = ui.page
    case = Case.objects.get(person__national_number="DEMO-69-RETARD")
    ui.goto(f"/dossiers/{case.pk}/")
    alert = page.get_by_test_id("alert-late_start")
    assert "45 jours" in alert.inner_text()
    assert "474 CPP" in alert.inner_text()
    ui.screenshot("case-late-start")
    page.get_by_label("Type d'entretien").select_option("office")
    page.get_by_label("Présence").select_option("present")
    page.get_by_label("Notes", exact=True).fill("Premier entretien : présentation des obligations.")
    page.get_by_role("button", name="Enregistrer l'entretien").click()
    page.wait_for_url(re.compile(rf".*/dossiers/{case.pk}/$"))
    assert "Entretien enregistré." in page.get_by_role("main").inner_text()
    ui.check()
    alerts_refresh()  # the next run of the hourly job
    assert not Alert.objects.filter(
        case=case, alert_type="late_start", closed_at__isnull=True
    ).exists()
    page.reload()
    assert page.get_by_test_id("alert-late_start").count() == 0
