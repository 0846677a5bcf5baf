"""Journey: demo.cpip signs in through ProConnect (the test provider of tests/oidc_provider)
and lands on her caseload; signing out ends the provider's session too."""

import re

from tests.oidc_provider.fixtures import AGENT


def test_demo_cpip_signs_in_with_proconnect_and_lands_on_her_caseload(ui, demo, proconnect):
    ui.goto("/connexion/")
    page = ui.page
    button = page.get_by_role("button", name="S'identifier avec ProConnect")
    assert button.is_visible()
    what = page.get_by_role("link", name="Qu'est-ce que ProConnect ?")
    assert what.get_attribute("target") == "_blank"
    ui.screenshot("login-proconnect")

    # With the keyboard: the button takes the focus and Enter follows it.
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(proconnect.base_url) + r"/accounts/login/"))
    page.get_by_label("Identifiant ProConnect").fill(AGENT.username)
    page.get_by_label("Mot de passe ProConnect").fill(AGENT.password)
    page.get_by_role("button", name="Valider").click()

    page.wait_for_url(ui.base_url + "/")
    ui.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Bonjour Camille Martin"
    active = int(page.get_by_test_id("active-cases").inner_text())
    assert active > 0
    page.get_by_role("link", name="Voir mon portefeuille").click()
    page.wait_for_url(re.compile(r".*/portefeuille/$"))
    ui.check()
    assert page.locator("table tbody tr").count() == active
    ui.screenshot("caseload-after-proconnect")

    page.get_by_role("button", name="Se déconnecter").first.click()
    page.wait_for_url(re.compile(re.escape(ui.base_url) + r"/connexion/\?state="))
    ui.check()
    # Both sessions are over: the application and then the provider ask again.
    ui.goto("/")
    assert page.url.startswith(ui.base_url + "/connexion/")
    page.get_by_role("button", name="S'identifier avec ProConnect").click()
    page.wait_for_url(re.compile(re.escape(proconnect.base_url) + r"/accounts/login/"))
