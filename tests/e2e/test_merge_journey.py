"""Journey: a director reviews a likely duplicate side by side and merges it."""

import re

from cases.models import Case, Person
from tests.e2e.conftest import login


def test_a_director_merges_two_records_after_the_preview(ui, demo):
    login(ui, "demo.dspip", demo)
    page = ui.page
    page.get_by_role("link", name="Doublons").click()
    page.wait_for_url(re.compile(r".*/dossiers/doublons/$"))
    ui.check()
    page.get_by_test_id("candidates").get_by_role(
        "link", name=re.compile("LEFÈVRE|LEFEVRE")
    ).click()
    page.wait_for_url(re.compile(r".*/dossiers/doublons/\d+/\d+/$"))
    ui.check()
    preview = page.get_by_test_id("preview").inner_text()
    assert "Lefèvre" in preview and "LEFEVRE" in preview
    assert "06 45 67 89 01" in preview
    page.get_by_label("Pourquoi est-ce la même personne ?").fill("Même personne : CNI vérifiée")
    page.get_by_role("button", name="Fusionner les deux fiches").click()
    page.get_by_text("Fiches fusionnées").wait_for()
    assert "Même personne : CNI vérifiée" in page.get_by_test_id("merges").inner_text()
    kept = Person.objects.get(national_number__endswith="69-DOUBLON")
    assert Case.objects.filter(person=kept).count() == 2
