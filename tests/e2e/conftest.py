"""Browser journeys in Debian's Chromium driven by Playwright, with axe-core on every page.

The browser cannot be downloaded here (`playwright install`); Debian's /usr/bin/chromium
is used. Without it the journeys skip, except in CI (CI=true), where they must run.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by
# the test itself (fixtures) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BLOCKING_IMPACTS = {"serious", "critical"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI and was not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class AxeChecked:
    """A page whose every navigation is checked with axe-core."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.checked: list[str] = []

    def goto(self, path: str):
        self.page.goto(self.base_url + path)
        self.check()

    def check(self):
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        blocking = [
            v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS
        ]
        details = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in blocking
        )
        assert not blocking, f"Accessibility violations on {self.page.url}:\n{details}"
        self.checked.append(self.page.url)

    def screenshot(self, name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def ui(browser, live_server):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield AxeChecked(page, live_server.url)
    context.close()


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield AxeChecked(page, live_server.url)
    context.close()


@pytest.fixture
def demo(transactional_db):
    """A small demo world (the same seed as `make run`), committed for the live server."""
    from django.core.management import call_command

    from portal.reference.load import reference_load

    reference_load()
    call_command(
        "seed_demo",
        "--password",
        "mot-de-passe-e2e",
        "--scale",
        "0.1",
        stdout=io.StringIO(),
    )
    return "mot-de-passe-e2e"


def login(ui: AxeChecked, username: str, password: str):
    ui.goto("/connexion/")
    ui.page.get_by_label("Identifiant", exact=True).fill(username)
    ui.page.get_by_label("Mot de passe", exact=True).fill(password)
    ui.page.get_by_role("button", name="Se connecter").click()
    ui.page.wait_for_url(ui.base_url + "/")
    ui.check()
