"""Journey: the court desk at 09:23 on a working morning (the clock frozen there, then
running): nothing proposed before the lead time, the clerk pages forward, books and prints,
and a second booking of the same person stops at the duplicate."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.utils import timezone

from tests.e2e.conftest import login

PARIS = ZoneInfo("Europe/Paris")
SLOT_LABEL = re.compile(r"(\d{2}/\d{2}/\d{4} \d{2}:\d{2})")


@pytest.fixture
def morning():
    """The next working day at 09:23 in Paris; the clock runs from there."""
    import time_machine

    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() >= 5 or day in holidays.France(years=day.year):
        day += timedelta(days=1)
    moment = datetime.combine(day, time(9, 23), tzinfo=PARIS)
    with time_machine.travel(moment, tick=True):
        yield moment


def _slot_times(page) -> list[datetime]:
    labels = page.locator("input[name=slot] + label").all_inner_texts()
    return [
        datetime.strptime(SLOT_LABEL.search(text).group(1), "%d/%m/%Y %H:%M").replace(tzinfo=PARIS)
        for text in labels
    ]


def _fill_person(page):
    page.get_by_label("Nom de naissance").fill("Garnier")
    page.get_by_label("Prénoms").fill("Léon")
    page.get_by_label("Sexe").select_option("M")
    page.get_by_label("Date de naissance", exact=True).fill("1990-02-03")
    page.get_by_label("Adresse").fill("12 quai Saint-Antoine")
    page.get_by_label("Code postal").fill("69002")
    page.get_by_label("Commune").fill("Lyon")
    page.get_by_label("Mesure prononcée").select_option(label="SP (ex-SME) — Sursis probatoire")


def test_the_desk_at_nine_twenty_three(morning, ui, demo, live_server):
    from cases.models import Person, Slot

    login(ui, "demo.bex", demo)
    page = ui.page
    ui.goto("/bex/")
    _fill_person(page)
    page.get_by_role("button", name="Proposer des créneaux").click()
    page.wait_for_load_state()
    first_page = _slot_times(page)
    assert first_page, "no slot offered"
    # The service's lead time (two hours by default): nothing before 11:23 today, although
    # the agenda has free slots in between.
    within_lead = Slot.objects.filter(
        agenda__kind="spip", starts_at__gte=morning, starts_at__lt=morning + timedelta(hours=2)
    )
    assert within_lead.exists()
    assert min(first_page) >= morning + timedelta(hours=2)
    ui.check()

    page.get_by_role("button", name="Créneaux suivants").click()
    page.wait_for_load_state()
    next_page = _slot_times(page)
    assert next_page and min(next_page) > max(first_page)
    assert (
        "dans le délai légal" in page.locator("input[name=slot] + label").first.inner_text().lower()
    )
    ui.check()

    page.get_by_role("button", name="Convoquer et imprimer").click()
    page.wait_for_url(re.compile(r".*/bex/convocations/\d+/$"))
    main = page.get_by_role("main").inner_text()
    assert "Convocation devant le JAP" in main
    pdf = page.context.request.get(
        live_server.url
        + page.get_by_role("link", name="Imprimer la convocation (PDF)").get_attribute("href")
    )
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")

    # The same person at the next hearing: the desk stops at the likely duplicate.
    ui.goto("/bex/")
    _fill_person(page)
    page.get_by_role("button", name="Proposer des créneaux").click()
    page.wait_for_load_state()
    assert "semble déjà connue" in page.get_by_test_id("duplicates").inner_text()
    page.get_by_role("button", name="Convoquer et imprimer").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("duplicates").count() == 1
    ui.check()
    assert Person.objects.filter(birth_name__iexact="Garnier", first_names="Léon").count() == 1
