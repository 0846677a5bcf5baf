"""Journeys: signing in and landing on one's home page."""

import re

from tests.e2e.conftest import login


def test_demo_cpip_signs_in_and_sees_their_caseload(ui, demo):
    login(ui, "demo.cpip", demo)
    page = ui.page
    assert page.get_by_role("heading", level=1).inner_text() == "Bonjour Camille Martin"
    active = int(page.get_by_test_id("active-cases").inner_text())
    assert active > 0
    assert re.fullmatch(r"\d+,\d %", page.get_by_test_id("load-percent").inner_text())
    ui.screenshot("home-cpip")

    page.get_by_role("link", name="Voir mon portefeuille").click()
    page.wait_for_url(re.compile(r".*/portefeuille/$"))
    ui.check()
    rows = page.locator("table tbody tr")
    assert rows.count() == active
    rows.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/dossiers/\d+/"))
    ui.check()
    assert page.get_by_role("heading", name="Mesures").is_visible()
    ui.screenshot("case-file")


def test_wrong_password_is_refused_in_french(ui, demo):
    ui.goto("/connexion/")
    ui.page.get_by_label("Identifiant", exact=True).fill("demo.cpip")
    ui.page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon")
    ui.page.get_by_role("button", name="Se connecter").click()
    assert (
        ui.page.get_by_role("alert").inner_text().strip()
        == "Identifiant ou mot de passe incorrect."
    )
    ui.check()


def test_the_login_works_with_the_keyboard_only(ui, demo):
    ui.goto("/connexion/")
    page = ui.page
    # The first link of the page skips to the content; the username field has the focus.
    assert page.locator("a").first.inner_text() == "Contenu"
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type("demo.dspip")
    page.keyboard.press("Tab")
    page.keyboard.type(demo)
    page.keyboard.press("Enter")
    page.wait_for_url(ui.base_url + "/")
    assert "SPIP du Rhône" in page.get_by_role("heading", level=1).inner_text()
    ui.check()


def test_home_on_a_phone_has_the_menu_button(phone, demo):
    login(phone, "demo.cpip", demo)
    menu = phone.page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    menu.click()
    assert phone.page.get_by_role("link", name="Dossiers").first.is_visible()
    phone.screenshot("home-cpip-phone")


def test_the_cpip_home_starts_with_the_day_on_a_phone(phone, demo):
    """At 390 px: today's convocations come first, alerts are grouped by type under
    headings to open, and nothing scrolls sideways."""
    login(phone, "demo.cpip", demo)
    page = phone.page
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:2] == ["Convocations du jour", "Issues à saisir"], headings
    assert headings.index("Mes alertes") > 1
    assert page.get_by_test_id("alert-groups").is_visible()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, wide
    phone.check()
    phone.screenshot("home-cpip-day-first-phone")
