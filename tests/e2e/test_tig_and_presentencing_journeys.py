"""Journeys: a CPIP places a TIG measure on a post; the host's tutor records a session on a
390 px phone (twice, harmlessly); the CPIP sees the hours. And a CPIP confirms that the
association's pre-sentencing record is the person's: the summary joins the timeline."""

import re
from datetime import timedelta

from django.utils import timezone

from measures import services as measure_services
from measures.models import Measure, MeasureType
from partners.models import PresentencingMandate, TigPlacement, TigSession
from spip.models import Agent
from tests.e2e.conftest import login


def _unplaced_tig_measure():
    measure = (
        Measure.objects.filter(
            case__referent__user__username="demo.cpip",
            case__status="active",
            tig_hours__isnull=False,
            actual_end_date__isnull=True,
            tig_placements__isnull=True,
        )
        .order_by("pk")
        .first()
    )
    if measure is not None:
        return measure
    # A small demo may hold none: one more TIG for one of demo.cpip's people.
    cpip = Agent.objects.get(user__username="demo.cpip")
    case = cpip.cases.filter(status="active").order_by("pk").first()
    judged = timezone.localdate() - timedelta(days=20)
    return measure_services.measure_record(
        actor=None,
        case=case,
        measure_type=MeasureType.objects.get(code="TIG"),
        court=case.service.courts.first(),
        judgment_date=judged,
        start_date=judged,
        tig_hours=70,
        tig_deadline=judged + timedelta(days=500),
    )


def test_a_tutor_records_a_session_on_a_phone_and_the_cpip_sees_the_hours(ui, phone, demo):
    measure = _unplaced_tig_measure()
    case = measure.case
    login(ui, "demo.cpip", demo)
    page = ui.page
    ui.goto(f"/dossiers/{case.pk}/")
    page.get_by_role("link", name="Placer sur un poste de TIG").first.click()
    page.wait_for_url(re.compile(r".*/tig/mesures/\d+/placer/$"))
    ui.check()
    page.get_by_label("Poste").select_option(
        label="Atelier de réparation de vélos — Association Le Relais"
    )
    page.get_by_role("button", name="Placer").click()
    page.wait_for_url(re.compile(r".*/tig/placements/\d+/$"))
    placement = TigPlacement.objects.get(measure__case=case, post__title__contains="vélos")

    phone.page.set_viewport_size({"width": 390, "height": 800})
    login(phone, "demo.partenaire", demo)
    mobile = phone.page
    mobile.get_by_role("link", name="Postes et séances").click()
    mobile.wait_for_url(re.compile(r".*/orientations/tig/$"))
    phone.check()
    mobile.get_by_role("link", name=str(case.person)).first.click()
    mobile.wait_for_url(re.compile(rf".*/tig/placements/{placement.pk}/$"))
    phone.check()
    main = mobile.get_by_role("main").inner_text()
    assert case.get_risk_level_display() not in main  # nothing else of the file
    for attempt in ("Séance enregistrée.", "Cette séance était déjà enregistrée."):
        mobile.get_by_label("Début").fill("09:00")
        mobile.get_by_label(re.compile(r"^\s*Fin\b")).fill("12:30")
        mobile.get_by_label("Issue").select_option(label="Effectuée")
        mobile.get_by_label("Comportement").select_option(label="Bon")
        mobile.get_by_role("button", name="Enregistrer la séance").click()
        mobile.get_by_text(attempt).wait_for()
    assert mobile.get_by_test_id("hours-done").inner_text() == "3 h 30"
    assert TigSession.objects.filter(placement=placement).count() == 1
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    phone.check()

    ui.goto(f"/dossiers/{case.pk}/")
    ledger = page.get_by_test_id("tig-ledger").filter(has_text="vélos").inner_text()
    assert "3 h 30 effectuées" in ledger
    assert "Fin projetée au rythme actuel" in ledger


def test_the_cpip_joins_the_associations_summary_to_the_file(ui, demo):
    record = PresentencingMandate.objects.filter(case__isnull=True, mandate="cjse").first()
    assert record is not None, "the demo proposes one record to demo.cpip"
    case = (
        Agent.objects.get(user__username="demo.cpip")
        .cases.filter(person__birth_date=record.birth_date)
        .get()
    )
    login(ui, "demo.cpip", demo)
    page = ui.page
    ui.goto(f"/dossiers/{case.pk}/")
    proposal = page.get_by_test_id("handover-proposal")
    assert "Association Le Relais" in proposal.inner_text()
    ui.check()
    proposal.get_by_role("button").click()
    page.get_by_text("jointe au dossier").wait_for()
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "Contrôle judiciaire socio-éducatif — Association Le Relais" in timeline
    assert record.summary.split(".")[0] in timeline
    assert page.get_by_test_id("handover-proposal").count() == 0
