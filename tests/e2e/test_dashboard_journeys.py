"""Journeys of the dashboards: a DSPIP finds the overloaded CPIP, drills down and rebalances;
the DAP reads persons per CPIP against the norms and the staffing gap."""

import re
from decimal import Decimal

from cases.workload.models import CapacityReduction
from reporting import snapshots
from tests.e2e.conftest import login
from tests.factories import CaseFactory


def overloaded_agent():
    """The demo's part-time CPIP of Lyon, with enough high-risk files to be over 110 %
    whatever the demo's scale: 12 × 1/20 = 0.6 on a capacity halved."""
    reduction = CapacityReduction.objects.select_related("agent").get(kind="part_time")
    agent = reduction.agent
    for _ in range(12):
        CaseFactory(antenna=agent.antenna, referent=agent, risk_level="high")
    snapshots.compute()
    return agent


def load_of(page, agent_id) -> Decimal:
    text = page.get_by_test_id(f"load-{agent_id}").locator("summary").inner_text()
    return Decimal(re.search(r"(\d+,\d)", text).group(1).replace(",", "."))


def test_dspip_finds_the_overloaded_cpip_and_reassigns_a_case(ui, demo):
    agent = overloaded_agent()
    login(ui, "demo.dspip", demo)
    page = ui.page
    page.get_by_role("link", name="Tableaux de bord").first.click()
    page.wait_for_url(re.compile(r".*/tableaux/equipe/$"))
    ui.check()
    assert page.get_by_test_id("load-chart").is_visible()
    bar = page.get_by_test_id(f"bar-{agent.pk}")
    assert bar.get_attribute("data-status") == "red"
    over = page.get_by_test_id("over-list").inner_text()
    assert str(agent) in over
    assert "réduction 50 %" in over
    assert "au-dessus du seuil depuis le" in over
    before = load_of(page, agent.pk)
    assert before > 110
    ui.screenshot("dspip-team-dashboard")

    page.get_by_test_id(f"agent-{agent.pk}").get_by_role("link", name=str(agent)).click()
    page.wait_for_url(re.compile(rf".*/charge/agents/{agent.pk}/$"))
    ui.check()
    page.get_by_test_id("agent-cases").get_by_role(
        "link", name=re.compile("Réaffecter")
    ).first.click()
    page.wait_for_url(re.compile(r".*/tableaux/dossiers/\d+/reaffecter/$"))
    ui.check()
    impact = page.locator("tbody tr").first.locator("td").nth(2).inner_text()
    assert re.fullmatch(r"\d+,\d % → \d+,\d %", impact), impact
    page.locator("tbody tr").first.locator("label").click()
    page.get_by_role("button", name="Réaffecter").click()
    assert "obligatoire" in page.locator(".fr-error-text").inner_text()  # a reason is needed
    page.get_by_label("Motif de la réaffectation").fill("Rééquilibrage : temps partiel")
    ui.screenshot("dspip-reassign")
    page.get_by_role("button", name="Réaffecter").click()
    page.wait_for_url(re.compile(r".*/tableaux/equipe/$"))
    assert "Dossier réaffecté" in page.get_by_role("main").inner_text()
    assert "en cours de recalcul" in page.get_by_role("main").inner_text()
    ui.check()
    # The request only queued the service's recompute: the worker's part, run here.
    from reporting.tasks import workload_snapshot_compute
    from spip.models import JobRun

    run = JobRun.objects.filter(name="workload_snapshot_compute").latest("started_at")
    workload_snapshot_compute(service_id=run.service_id, run_id=run.pk, delays=False)
    page.reload()
    assert load_of(page, agent.pk) < before
    ui.screenshot("dspip-team-after-reassignment")


def test_the_team_dashboard_works_on_a_phone(phone, demo):
    overloaded_agent()
    login(phone, "demo.dspip", demo)
    phone.goto("/tableaux/equipe/")
    assert phone.page.get_by_test_id("team-table").is_visible()
    phone.screenshot("dspip-team-dashboard-phone")


def test_dap_reads_persons_per_cpip_against_the_norms_and_the_staffing_gap(ui, demo):
    login(ui, "demo.dap", demo)
    page = ui.page
    page.get_by_role("link", name="Tableaux de bord").first.click()
    page.wait_for_url(re.compile(r".*/tableaux/services/$"))
    ui.check()
    norms = page.get_by_test_id("norms").inner_text()
    assert "Norme européenne 60" in norms
    assert "Moyenne nationale 2011 82" in norms
    assert re.search(r"[+−]?\d+,\d", page.get_by_test_id("gap-norm").inner_text())
    assert page.get_by_test_id("services-chart").is_visible()
    assert "Médiane" in page.get_by_test_id("distribution").inner_text()
    ui.screenshot("dap-services")
    page.get_by_role("link", name="Effectifs nécessaires").click()
    page.wait_for_url(re.compile(r".*/tableaux/effectifs/$"))
    ui.check()
    page.get_by_label("Ajouter des CPIP au service").select_option(label="SPIP du Rhône")
    page.get_by_label("Nombre d'ETP").fill("2")
    page.get_by_role("button", name="Simuler").click()
    assert page.get_by_test_id("what-if").is_visible()
    ui.check()
    ui.screenshot("dap-staffing-what-if")


def test_every_dashboard_page_is_accessible_and_the_export_is_followed_to_its_file(
    ui, demo, settings, tmp_path
):
    from spip.celery import app

    login(ui, "demo.dspip", demo)
    for path in (
        "/tableaux/delais/",
        "/tableaux/delais/hors-delai/",
        "/tableaux/absences/",
        "/tableaux/issues/",
        "/tableaux/services/",
        "/tableaux/effectifs/",
    ):
        ui.goto(path)  # each page checked with axe
        assert ui.page.get_by_role("heading", level=1).is_visible()
    ui.goto("/tableaux/delais/?since=2026-13-45")
    assert "Saisissez une date valide." in ui.page.get_by_role("main").inner_text()
    ui.screenshot("dspip-delays")

    settings.MEDIA_ROOT = tmp_path
    app.conf.task_always_eager = True
    try:
        ui.goto("/tableaux/export/")
        ui.page.get_by_role("button", name="Préparer l'export").click()
        ui.page.wait_for_url(re.compile(r".*/tableaux/export/\d+/$"))
        ui.check()
        assert ui.page.get_by_test_id("export-download").is_visible()
        with ui.page.expect_download() as download:
            ui.page.get_by_test_id("export-download").click()
        assert download.value.suggested_filename == "indicateurs-spip.xlsx"
    finally:
        app.conf.task_always_eager = False
