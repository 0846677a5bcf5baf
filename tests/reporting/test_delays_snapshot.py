"""The national and regional delays over the default twelve months: stored by the nightly
job, read by the pages and the API, the same figures as the live computation. Expected
numbers are worked out by hand in the comments."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from reporting import indicators, snapshots
from reporting.forms import ReportParams
from reporting.models import DelaysSnapshot, EntityType
from reporting.stats import last_twelve_months
from tests.reporting.test_indicators import NOW, PARIS, TODAY, period, sentenced

DEFAULT = ReportParams(*last_twelve_months(TODAY))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _night(world):
    """Three measures judged 100 days ago beside the world's five (judged 40 days ago,
    their deadline still running: pending): in the Rhône a first appointment on day 10
    (within the 45 days) and one on day 50 (late); in Marseille one on day 5 (within)."""
    sentenced(world, TODAY - timedelta(days=100), appointment=10)
    sentenced(world, TODAY - timedelta(days=100), appointment=50)
    sentenced(world, TODAY - timedelta(days=100), antenna=world.other_antenna, appointment=5)
    snapshots.compute(day=TODAY)


def test_the_night_stores_the_nation_and_each_region(frozen, world):
    _night(world)

    nation = DelaysSnapshot.objects.get(day=TODAY, entity_type=EntityType.NATION, entity_id=0)
    # 8 measures: 2 within (days 10 and 5), 1 late (day 50), the world's 5 pending.
    # Appointments 5, 10, 50: median the 2nd (10), 9th decile ceil(2.7) = 3rd (50).
    assert nation.figures["total"] == {
        "measures": 8,
        "within": 2,
        "late": 1,
        "pending": 5,
        "appointment_median": 10,
        "appointment_p90": 50,
        "contact_median": None,
        "contact_p90": None,
        "within_share": 66.7,
    }
    lyon_unit = world.service.interregional_unit_id
    region = DelaysSnapshot.objects.get(
        day=TODAY, entity_type=EntityType.INTERREGIONAL, entity_id=lyon_unit
    )
    # The Rhône alone: its 4 world measures and days 10 and 50.
    assert (region.figures["total"]["measures"], region.figures["total"]["late"]) == (6, 1)
    assert [s["label"] for s in region.figures["services"]] == ["SPIP du Rhône"]
    # The service snapshots carry the same figures (one computation for both).
    assert (
        snapshots.WorkloadSnapshot.objects.get(
            day=TODAY, entity_type="service", entity_id=world.service.pk
        ).delay_measures
        == 6
    )


def test_the_dap_and_the_disp_read_the_stored_figures_until_the_next_night(frozen, world):
    _night(world)
    # A measure recorded after the night's run: tomorrow's figures.
    sentenced(world, TODAY - timedelta(days=100), appointment=20)

    dap = indicators.delays(world.users["dap"], DEFAULT)
    assert dap["stored_on"] == TODAY
    assert dap["total"]["measures"] == 8
    disp = indicators.delays(world.users["disp"], DEFAULT)
    assert (disp["stored_on"], disp["total"]["measures"]) == (TODAY, 6)
    # Any other period or a filter is computed live and counts it.
    live = indicators.delays(world.users["dap"], period(TODAY - timedelta(days=120)))
    assert (live["stored_on"], live["total"]["measures"]) == (None, 9)
    narrowed = ReportParams(*last_twelve_months(TODAY), service_id=world.service.pk)
    assert indicators.delays(world.users["dap"], narrowed)["total"]["measures"] == 7
    # A director of a service always reads live figures.
    dspip = indicators.delays(world.users["dspip"], DEFAULT)
    assert (dspip["stored_on"], dspip["total"]["measures"]) == (None, 7)


def test_stored_and_live_figures_are_the_same(frozen, world):
    _night(world)
    stored = indicators.delays(world.users["dap"], DEFAULT)
    DelaysSnapshot.objects.all().delete()  # no night yet today: computed live
    live = indicators.delays(world.users["dap"], DEFAULT)
    assert live["stored_on"] is None
    assert {**stored, "stored_on": None, "stored_at": None} == live
    assert [m["label"] for m in live["months"]] == [m["label"] for m in stored["months"]]


def test_the_stored_figures_are_scoped(frozen, world):
    _night(world)
    # Figures only, yet each reader their own: the DISP their region, the DAP every row.
    dap_rows = DelaysSnapshot.objects.visible_to(world.users["dap"])
    assert dap_rows.filter(entity_type=EntityType.NATION).count() == 1
    assert dap_rows.filter(entity_id=world.other_service.interregional_unit_id).count() == 1
    assert dap_rows.count() == DelaysSnapshot.objects.count()
    assert {r.entity_id for r in DelaysSnapshot.objects.visible_to(world.users["disp"])} == {
        world.service.interregional_unit_id
    }
    for role in ("cpip", "dpip", "dspip", "bex"):
        assert not DelaysSnapshot.objects.visible_to(world.users[role]).exists(), role


def test_the_national_page_reads_them_in_a_few_queries(
    frozen, world, client_for, django_assert_max_num_queries
):
    _night(world)
    client = client_for(world.users["dap"])
    with django_assert_max_num_queries(12):
        page = client.get("/tableaux/delais/")
    body = page.content.decode()
    assert 'data-testid="stored-on"' in body
    assert "15 juin 2026 à 12:00" in body
    # Several services: the antennas are behind the service filter (and in the exports).
    assert 'data-testid="antennas-by-service"' in body
    assert 'data-testid="delay-antennas"' not in body
    export = b"".join(client.get("/tableaux/delais/", {"format": "csv"})).decode()
    # Each antenna with its service: two towns' antennas share a name across the nation.
    assert f"Antenne;{world.antenna.name} — SPIP du Rhône;" in export
    # A service's director sees the antennas' table, live.
    dspip = client_for(world.users["dspip"]).get("/tableaux/delais/").content.decode()
    assert 'data-testid="delay-antennas"' in dspip
    assert 'data-testid="stored-on"' not in dspip


def test_a_regions_stored_figures_are_its_live_ones(frozen, world):
    """The DISP's row against the DISP's live page, on data that exercises each part: two
    services of the direction, custody apart, a first interview, two months of judgment."""
    from cases.models import Interview
    from spip.models import Prison, Service
    from tests.factories import AntennaFactory, CaseFactory, MeasureFactory

    neighbour = (
        Service.objects.filter(interregional_unit_id=world.service.interregional_unit_id)
        .exclude(pk=world.service.pk)
        .order_by("code")
        .first()
    )
    assert neighbour is not None
    elsewhere = AntennaFactory(service=neighbour, name="Antenne voisine")
    seen = sentenced(world, TODAY - timedelta(days=100), antenna=elsewhere, appointment=12)
    Interview.objects.create(
        case=seen,
        agent=world.agents["cpip"],
        held_at=datetime(2026, 3, 25, 10, tzinfo=PARIS),  # day 18 after 7 March
        kind="office",
        duration_minutes=30,
        attendance="present",
    )
    from cases.files.contacts import first_contact_refresh

    first_contact_refresh(case_ids=[seen.pk])
    sentenced(world, TODAY - timedelta(days=70), appointment=30)
    prison = Prison.objects.create(
        name="Maison d'arrêt de Lyon-Corbas", kind="ma", service=world.service, city="Corbas"
    )
    custody = CaseFactory(
        antenna=world.antenna, referent=world.agents["cpip"], setting="mf", prison=prison
    )
    MeasureFactory(case=custody, judgment_date=TODAY - timedelta(days=70), court=world.court)
    snapshots.compute(day=TODAY)

    stored = indicators.delays(world.users["disp"], DEFAULT)
    DelaysSnapshot.objects.all().delete()
    live = indicators.delays(world.users["disp"], DEFAULT)
    assert stored["stored_on"] == TODAY
    assert {**stored, "stored_on": None, "stored_at": None} == live
    # By hand: the Rhône's 4 world measures and day 30, the neighbour's day 12 (met on
    # day 18); custody apart: 1. Two services, the antennas of both, three months.
    assert live["total"]["measures"] == 6
    assert live["custody"] == 1
    assert live["total"]["contact_median"] == 18
    assert [s["label"] for s in live["services"]] == sorted(["SPIP du Rhône", neighbour.name])
    assert "Antenne voisine" in [a["label"] for a in live["antennas"]]
    assert len(live["months"]) == 3


def test_the_stored_figures_keep_a_month(frozen, world):
    _night(world)
    for days_ago in (40, 30):
        DelaysSnapshot.objects.create(
            day=TODAY - timedelta(days=days_ago),
            entity_type=EntityType.NATION,
            entity_id=0,
            figures={},
            computed_at=NOW,
        )
    snapshots.compute(day=TODAY)
    assert sorted(
        DelaysSnapshot.objects.filter(entity_type=EntityType.NATION).values_list("day", flat=True)
    ) == [TODAY - timedelta(days=30), TODAY]
