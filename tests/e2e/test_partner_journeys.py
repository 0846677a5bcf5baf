"""Journey: a CPIP refers a person to the housing association; the association, on a
phone, accepts the referral and records the first contact; the CPIP sees both steps."""

import re

from django.utils import timezone

from cases.models import Case
from partners.models import Referral
from tests.e2e.conftest import login


def test_a_referral_from_the_case_file_answered_by_the_partner_on_a_phone(ui, phone, demo):
    case = (
        Case.objects.filter(referent__user__username="demo.cpip", status="active")
        .exclude(referrals__isnull=False)
        .order_by("id")
        .first()
    )
    login(ui, "demo.cpip", demo)
    page = ui.page
    ui.goto(f"/dossiers/{case.pk}/")
    page.get_by_role("link", name="Orienter vers un partenaire").click()
    page.wait_for_url(re.compile(r".*/orientations/nouvelle/$"))
    ui.check()
    page.locator("select[name=partner]").select_option(label="Association Le Relais")
    page.locator("select[name=domain]").select_option(label="Hébergement, logement")
    page.locator("textarea[name=reason]").fill("Hébergement d'urgence à trouver")
    page.get_by_role("button", name="Proposer l'orientation").click()
    page.wait_for_url(re.compile(rf".*/dossiers/{case.pk}/$"))
    assert "Orientation proposée à Association Le Relais" in page.get_by_role("main").inner_text()
    referral = Referral.objects.get(case=case)

    login(phone, "demo.partenaire", demo)
    mobile = phone.page
    mobile.get_by_role("link", name="Voir et répondre aux orientations").click()
    mobile.wait_for_url(re.compile(r".*/orientations/$"))
    phone.check()
    mobile.get_by_role("link", name=str(case.person)).first.click()
    mobile.wait_for_url(re.compile(rf".*/orientations/{referral.pk}/$"))
    phone.check()
    main = mobile.get_by_role("main").inner_text()
    assert "Hébergement d'urgence à trouver" in main
    assert case.get_risk_level_display() not in main  # nothing else of the file
    mobile.get_by_role("button", name="Accepter").click()
    mobile.get_by_role("button", name="Enregistrer le premier contact").wait_for()
    mobile.get_by_label("Date du premier contact").fill(
        timezone.localdate().isoformat()  # the service's day (Paris), not UTC
    )
    mobile.get_by_role("button", name="Enregistrer le premier contact").click()
    mobile.get_by_test_id("referral-status").filter(has_text="Premier contact").wait_for()
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    phone.check()

    ui.goto(f"/dossiers/{case.pk}/")
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "Orientation vers Association Le Relais : Acceptée" in timeline
    assert "Orientation vers Association Le Relais : Premier contact" in timeline
