"""Journey of an administrator taking a service onto the application: the sample export
checked in a dry run (its progress, then its counts), the error report downloaded and
read, the import confirmed, its progress bar, then the reconciliation.

The worker is the test itself: the page shows the task waiting, the test runs it, the
page's polling brings the result (as a worker would)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model

from cases import tasks
from cases.imports.models import CaseloadImport
from tests.e2e.conftest import login

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "caseload_sample.csv"


def test_an_administrator_imports_a_services_caseload(ui, demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = get_user_model().objects.get(username="demo.admin")
    login(ui, "demo.admin", demo)
    page = ui.page
    page.get_by_role("link", name="Import", exact=True).first.click()
    page.wait_for_url("**/dossiers/imports/")
    ui.check()
    page.get_by_label("Service").select_option(label="SPIP du Rhône")
    page.get_by_label("Fichier d'export").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Vérifier le fichier (simulation)").click()
    page.wait_for_url("**/dossiers/imports/*/")
    status = page.get_by_test_id("import-status")
    assert status.get_attribute("data-status") == "checking"
    assert page.get_by_test_id("import-progress").is_visible()
    ui.check()

    record = CaseloadImport.objects.get()
    tasks.caseload_import_check(import_id=record.pk, user_id=admin.pk)
    page.get_by_test_id("dry-run").wait_for()
    dry_run = page.get_by_test_id("dry-run")
    assert dry_run.locator('[data-outcome="new"]').inner_text() == "288"
    assert dry_run.locator('[data-outcome="rejected"]').inner_text() == "8"
    ui.check()
    with page.expect_download() as report:
        page.get_by_test_id("import-errors").click()
    lines = Path(report.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "ligne;colonne;valeur;motif"
    assert len(lines) == 9
    assert lines[2].startswith("291;date_jugement;2024-03-15;Date au format AAAA-MM-JJ")

    page.get_by_test_id("import-confirm").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("import-status").get_attribute("data-status") == "running"
    assert page.get_by_test_id("import-progress").is_visible()
    tasks.caseload_import_run(import_id=record.pk, user_id=admin.pk)
    page.get_by_test_id("reconciliation").wait_for()
    ui.check()
    main = page.get_by_role("main").inner_text()
    assert "Le fichier comptait 296 ligne(s) : 288 nouvelle(s)" in main
    persons = page.get_by_test_id("reconciliation").locator("tbody tr").first
    assert persons.locator("td").first.inner_text() == "230"
    ui.screenshot("import-reconciliation")
