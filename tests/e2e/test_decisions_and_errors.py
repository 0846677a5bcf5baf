"""Journeys: a head of antenna reduces a CPIP's capacity and sees the load follow; a report
still holding a placeholder cannot be sent to the judge; a missing page answers in French."""

import re

from django.utils import timezone

from cases.models import Case
from spip.models import Agent
from tests.e2e.conftest import login


def _percent(page) -> float:
    text = page.get_by_test_id("percent").inner_text()
    return float(re.search(r"= ([\d\s]+,\d) %", text).group(1).replace(" ", "").replace(",", "."))


def test_a_head_of_antenna_reduces_a_cpips_capacity_and_the_load_follows(ui, demo):
    cpip2 = Agent.objects.get(user__username="demo.cpip2")
    login(ui, "demo.dpip", demo)
    page = ui.page
    ui.goto(f"/charge/agents/{cpip2.pk}/")
    before = _percent(page)
    form = page.get_by_test_id("reduction-form")
    form.locator("select[name=kind]").select_option("training")
    form.locator("input[name=percent]").fill("50")
    form.locator("input[name=starts_on]").fill(
        timezone.localdate().isoformat()  # the service's day (Paris), not UTC
    )
    form.locator("input[name=note]").fill("Formation de tuteur")
    form.get_by_role("button", name="Enregistrer la réduction").click()
    page.wait_for_load_state()
    ui.check()
    # Half the time off: the same cases weigh on half the capacity, the load doubles (the
    # page shows one decimal: doubling the rounded figure may be off by 0.1 either way).
    after = _percent(page)
    assert abs(after - before * 2) < 0.15, (before, after)
    assert "réduction" in page.get_by_role("main").inner_text().lower()


def test_a_report_with_a_placeholder_is_not_sent(ui, demo):
    case = (
        Case.objects.filter(referent__user__username="demo.cpip", status="active")
        .order_by("id")
        .first()
    )
    login(ui, "demo.cpip", demo)
    page = ui.page
    ui.goto(f"/dossiers/{case.pk}/")
    page.get_by_role("button", name="Rédiger le rapport d'évaluation").click()
    page.wait_for_url(re.compile(r".*/rapports/\d+/$"))
    ui.check()
    page.get_by_role("button", name="Marquer comme transmis au juge").click()
    page.wait_for_load_state()
    main = page.get_by_role("main").inner_text()
    assert "reste à rédiger" in main
    assert case.reports.get().status == "draft"
    ui.check()


def test_a_missing_page_answers_in_french_without_debug(ui, demo):
    login(ui, "demo.cpip", demo)
    response = ui.page.goto(ui.base_url + "/cette-page-n-existe-pas/")
    assert response.status == 404
    main = ui.page.get_by_role("main").inner_text()
    assert "Page introuvable" in main
    assert "Traceback" not in ui.page.content() and "DEBUG" not in ui.page.content()
    ui.check()
