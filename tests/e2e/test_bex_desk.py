"""Journey: the BEX clerk convokes a new person at the end of the hearing; the SPIP sees it."""

import re

from django.utils import timezone

from tests.e2e.conftest import login


def reminder_expected() -> bool:
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from cases.models import Convocation

    convocation = (
        Convocation.objects.select_related("case__service")
        .filter(kind="end_of_hearing", case__person__birth_name__iexact="Moreau")
        .latest("issued_at")
    )
    service = convocation.case.service
    zone = ZoneInfo(service.time_zone)
    day = convocation.starts_at.astimezone(zone).date() - timedelta(
        days=service.reminder_days_before
    )
    return datetime.combine(day, time(10, 0), tzinfo=zone) > timezone.now()


def test_bex_convokes_a_new_person_and_the_dpip_sees_the_arrival(ui, demo, browser, live_server):
    login(ui, "demo.bex", demo)
    page = ui.page
    page.get_by_role("link", name="Nouvelle convocation de fin d'audience").click()
    page.wait_for_url(re.compile(r".*/bex/$"))
    ui.check()
    # Is the person already known? The clerk searches by identity; nothing is listed before.
    page.get_by_label("Nom de la personne recherchée").fill("Moreau")
    page.get_by_label("Sa date de naissance").fill("1998-07-14")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_load_state()
    assert "Aucune personne ne correspond" in page.get_by_test_id("matches").inner_text()
    ui.check()
    page.get_by_label("Nom de naissance").fill("Moreau")
    page.get_by_label("Prénoms").fill("Inès")
    page.get_by_label("Sexe").select_option("F")
    page.get_by_label("Date de naissance", exact=True).fill("1998-07-14")
    page.get_by_label("Adresse").fill("3 rue Mercière")
    page.get_by_label("Code postal").fill("69002")
    page.get_by_label("Commune").fill("Lyon")
    page.get_by_label("Téléphone portable").fill("06 98 76 54 32")
    page.get_by_label("Mesure prononcée").select_option(label="SP (ex-SME) — Sursis probatoire")
    page.get_by_role("button", name="Proposer des créneaux").click()
    first = page.locator("input[name=slot]").first
    page.wait_for_load_state()
    errors = page.get_by_test_id("errors")
    assert errors.count() == 0, errors.inner_text()
    first.wait_for(state="attached")
    label = page.locator(f"label[for={first.get_attribute('id')}]").inner_text()
    assert "dans le délai légal" in label.lower()  # the earliest slot offered is within 45 days
    ui.check()
    page.get_by_role("button", name="Convoquer et imprimer").click()
    page.wait_for_url(re.compile(r".*/bex/convocations/\d+/$"))
    assert "Le SPIP la voit dans ses arrivées à attribuer" in page.get_by_role("main").inner_text()
    assert "Convocation devant le JAP" in page.get_by_role("main").inner_text()
    # The reminder goes at 10:00, N days before the appointment, when that is still ahead
    # (an appointment on Monday booked on Saturday after 10:00 gets none).
    assert ("Rappel (SMS)" in page.get_by_role("main").inner_text()) == reminder_expected()
    ui.check()
    ui.screenshot("bex-convocation-issued")
    pdf = page.context.request.get(
        page.get_by_role("link", name="Imprimer la convocation (PDF)")
        .get_attribute("href")
        .replace("/bex", live_server.url + "/bex", 1)
    )
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    context = browser.new_context(locale="fr-FR")
    other = context.new_page()
    from tests.e2e.conftest import AxeChecked

    dpip = AxeChecked(other, live_server.url)
    login(dpip, "demo.dpip", demo)
    dpip.goto("/arrivees/")
    arrivals = other.get_by_role("main").inner_text()
    assert "MOREAU Inès" in arrivals
    assert timezone.localdate().strftime("%d/%m/%Y") in arrivals
    context.close()
