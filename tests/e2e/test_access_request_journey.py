"""Journeys of the director: a person asks what the service holds on them (the file
opened, what is withheld read, the PDF and the JSON downloaded); a legal hold set on the
file with its reason, seen on the retention page."""

import json
import re
from pathlib import Path

from cases.models import Case
from spip.models import AuditEntry
from tests.e2e.conftest import login


def test_the_director_answers_an_access_request_from_the_case_file(ui, demo):
    case = (
        Case.objects.filter(service__agents__user__username="demo.dspip", status="active")
        .select_related("person")
        .order_by("id")
        .first()
    )
    login(ui, "demo.dspip", demo)
    page = ui.page
    ui.goto(f"/dossiers/{case.pk}/")
    page.get_by_role("link", name="Droit d'accès de la personne").click()
    page.wait_for_url(re.compile(rf".*/dossiers/{case.pk}/droit-d-acces/$"))
    ui.check()
    assert "notes personnelles des entretiens" in page.get_by_role("main").inner_text()
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Télécharger le PDF à envoyer").click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as data:
        page.get_by_role("link", name="Télécharger les données (JSON)").click()
    record = json.loads(Path(data.value.path()).read_text(encoding="utf-8"))
    assert record["person"]["birth_name"] == case.person.birth_name
    assert case.pk in [f["file"] for f in record["files"]]
    assert list(
        AuditEntry.objects.filter(action="access_request", object_id=str(case.person_id))
        .order_by("id")
        .values_list("changes__format", flat=True)
    ) == ["pdf", "json"]


def test_the_director_blocks_the_retention_of_a_file_and_sees_it_listed(ui, demo):
    case = (
        Case.objects.filter(service__agents__user__username="demo.dspip", status="active")
        .order_by("-id")
        .first()
    )
    login(ui, "demo.dspip", demo)
    page = ui.page
    ui.goto(f"/dossiers/{case.pk}/")
    hold = page.get_by_test_id("legal-hold")
    hold.get_by_role("button", name="Bloquer la conservation").click()
    page.wait_for_load_state()
    assert "Indiquez le motif du blocage" in page.get_by_role("main").inner_text()
    page.get_by_test_id("legal-hold").get_by_label("Motif du blocage de la conservation").fill(
        "Appel du parquet en cours"
    )
    page.get_by_test_id("legal-hold").get_by_role("button", name="Bloquer la conservation").click()
    page.get_by_text("Conservation bloquée : le dossier ne sera ni archivé ni détruit.").wait_for()
    ui.check()
    ui.goto("/dossiers/conservation/")
    ui.check()
    held = page.get_by_test_id("held").inner_text()
    assert f"Dossier {case.pk}" in held and "Appel du parquet en cours" in held
