"""Journey: a CPIP of the Lyon prison's service prepares a release home to Marseille,
books the first appointment in the Marseille antenna and records the release; the head
of the Marseille antenna sees the arrival with the appointment booked."""

import re
from datetime import timedelta

from django.utils import timezone

from cases.models import Case, ReleasePlan
from spip.models import Agent, Prison
from tests.e2e.conftest import login


def _custody_case_of_demo_cpip():
    """One of demo.cpip's people, in custody at the Lyon prison (a small demo may hold
    no custody case of theirs: one is put there)."""
    cpip = Agent.objects.select_related("antenna").get(user__username="demo.cpip")
    case = (
        Case.objects.filter(referent=cpip, status="active", measures__actual_end_date__isnull=True)
        .exclude(release_plans__isnull=False)
        .distinct()
        .order_by("-setting", "pk")
        .first()
    )
    prison = Prison.objects.filter(service_id=cpip.antenna.service_id).first()
    Case.objects.filter(pk=case.pk).update(setting="mf", prison=prison)
    return Case.objects.select_related("person").get(pk=case.pk)


def test_a_release_to_another_departement_arrives_with_its_appointment(ui, demo):
    case = _custody_case_of_demo_cpip()
    login(ui, "demo.cpip", demo)
    page = ui.page
    ui.goto(f"/dossiers/{case.pk}/")
    release = page.get_by_test_id("release")
    # The service's calendar day (Paris), not the browser's UTC one: at night they differ.
    in_five_days = (timezone.localdate() + timedelta(days=5)).isoformat()
    release.get_by_label("Date de sortie prévue").fill(in_five_days)
    release.get_by_label("Adresse à la sortie").fill("12 rue de Rome")
    release.get_by_label("Code postal").fill("13001")
    release.get_by_label("Commune").fill("Marseille")
    release.get_by_role("button", name="Enregistrer la sortie prévue").click()
    page.get_by_text("Sortie préparée").wait_for()
    ui.check()
    assert "SPIP des Bouches-du-Rhône" in page.get_by_test_id("release").inner_text()
    booking = page.get_by_test_id("release-book")
    booking.locator(".fr-radio-group label").first.click()
    booking.get_by_role("button", name="Prendre ce rendez-vous").click()
    page.get_by_text("Premier rendez-vous pris").wait_for()
    appointment = page.get_by_test_id("release-appointment")
    assert "Imprimer la convocation" in appointment.inner_text()
    with page.expect_popup() as popup:
        appointment.get_by_role("link").click()
    assert popup.value.url.endswith("/pdf/")
    page.locator("label[for=release-confirm]").click()
    page.get_by_role("button", name="La personne est sortie aujourd'hui").click()
    page.get_by_text("le dossier est transmis au SPIP des Bouches-du-Rhône").wait_for()
    plan = ReleasePlan.objects.get(case=case)
    arrived = plan.transfer.new_case

    page.context.clear_cookies()
    login(ui, "demo.dpip.autre", demo)
    ui.goto("/arrivees/")
    ui.check()
    arrivals = page.get_by_role("main").inner_text()
    assert str(case.person) in arrivals
    ui.goto(f"/dossiers/{arrived.pk}/")
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "Sortie de détention (741-1)" in timeline
    assert re.search(r"Transfert accepté : SPIP du Rhône → SPIP des Bouches-du-Rhône", timeline)
