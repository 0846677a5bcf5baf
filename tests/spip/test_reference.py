"""Reference data: complete, correct and idempotent."""

from zoneinfo import ZoneInfo

import pytest

from cases.workload.models import ReferenceNorm, WorkloadPolicy
from measures.models import DeadlineRule, MeasureType, ObligationType
from portal.reference.load import reference_load
from spip.models import AuditEntry, InterregionalUnit, Service

pytestmark = pytest.mark.django_db


def test_it_loads_the_10_interregional_units_and_the_103_services():
    assert InterregionalUnit.objects.count() == 10
    assert Service.objects.count() == 103
    # Every service belongs to one unit, and each metropolitan DISP has its départements.
    counts = {u.code: u.services.count() for u in InterregionalUnit.objects.all()}
    assert counts == {
        "BORDEAUX": 12,
        "DIJON": 14,
        "LILLE": 5,
        "LYON": 12,
        "MARSEILLE": 8,
        "PARIS": 8,
        "RENNES": 14,
        "STRASBOURG": 10,
        "TOULOUSE": 13,
        "MOM": 7,
    }


def test_every_service_has_a_valid_time_zone():
    for service in Service.objects.all():
        ZoneInfo(service.time_zone)  # raises if unknown


@pytest.mark.parametrize(
    ("code", "zone", "subdivision"),
    [
        ("75", "Europe/Paris", ""),
        ("2A", "Europe/Paris", ""),
        ("57", "Europe/Paris", "57"),
        ("67", "Europe/Paris", "6AE"),
        ("971", "America/Guadeloupe", "971"),
        ("973", "America/Cayenne", "973"),
        ("974", "Indian/Reunion", "974"),
        ("976", "Indian/Mayotte", "976"),
        ("987", "Pacific/Tahiti", "PF"),
        ("988", "Pacific/Noumea", "NC"),
    ],
)
def test_overseas_and_alsace_moselle_services_have_their_zone_and_holidays(code, zone, subdivision):
    service = Service.objects.get(code=code)
    assert service.time_zone == zone
    assert service.holiday_subdivision == subdivision


def test_holiday_subdivisions_are_known_to_the_holidays_package():
    import holidays

    known = set(holidays.France.subdivisions)
    for sub in Service.objects.exclude(holiday_subdivision="").values_list(
        "holiday_subdivision", flat=True
    ):
        assert sub in known


def test_measure_catalogue_has_current_and_legacy_codes():
    sp = MeasureType.objects.get(code="SP")
    assert sp.legacy_code == "SME"
    assert MeasureType.objects.get(code="DDSE").legacy_code == "PSE"
    tig = MeasureType.objects.get(code="TIG")
    assert (tig.tig_hours_min, tig.tig_hours_max) == (20, 400)
    expected = {
        "SP",
        "SME",
        "SPR",
        "TIG",
        "TIG-C",
        "DDSE",
        "SL",
        "PE",
        "LC",
        "LSC",
        "SSJ",
        "STAGE",
        "SJ",
        "AJP",
        "CJ",
        "ARSE",
        "ESR",
        "MF",
    }
    assert set(MeasureType.objects.values_list("code", flat=True)) == expected


def test_obligation_catalogue_has_the_six_general_control_measures():
    general = ObligationType.objects.filter(family="general")
    assert general.count() == 6
    assert all(o.article.startswith("132-44") for o in general)
    assert ObligationType.objects.filter(family="special", needs_proof=True).exists()
    assert ObligationType.objects.filter(family="cj").exists()


def test_deadline_rules_are_data_with_their_legal_reference():
    rule = DeadlineRule.objects.get(code="SPIP_AFTER_SENTENCE", version=1)
    assert (rule.amount, rule.unit) == (45, "days")
    assert "474 CPP" in rule.legal_reference
    assert rule.measure_types.filter(code="SP").exists()
    spr = DeadlineRule.objects.get(code="SPR_ENFORCEABLE")
    assert spr.amount == 8
    assert list(spr.measure_types.values_list("code", flat=True)) == ["SPR"]


def test_default_workload_policy_is_appa():
    from decimal import Decimal

    policy = WorkloadPolicy.objects.get()
    assert policy.weight_high == Decimal("0.05")  # 1/20
    assert policy.weight_moderate == Decimal("0.02")  # 1/50
    assert policy.weight_low == Decimal("0.005")  # 1/200
    assert (
        policy.interval_reinforced_days,
        policy.interval_standard_days,
        policy.interval_light_days,
    ) == (14, 30, 90)
    assert (policy.threshold_amber, policy.threshold_red) == (90, 110)
    assert dict(ReferenceNorm.objects.values_list("code", "persons_per_agent")) == {
        "EUROPE": 60,
        "FRANCE_2011": 82,
        "SWEDEN": 25,
    }


def test_running_it_again_changes_nothing():
    before = {
        "services": list(Service.objects.order_by("code").values()),
        "measure_types": list(MeasureType.objects.order_by("code").values()),
        "rules": list(DeadlineRule.objects.order_by("code").values()),
        "audit": AuditEntry.objects.count(),
    }
    counts = reference_load()
    assert counts == {}
    assert list(Service.objects.order_by("code").values()) == before["services"]
    assert list(MeasureType.objects.order_by("code").values()) == before["measure_types"]
    assert list(DeadlineRule.objects.order_by("code").values()) == before["rules"]
    assert AuditEntry.objects.count() == before["audit"]


def test_it_repairs_a_reference_row_and_keeps_an_administrators_seat_address():
    service = Service.objects.get(code="974")
    Service.objects.filter(pk=service.pk).update(
        time_zone="Europe/Paris", seat_address="1 rue de Paris, Saint-Denis"
    )
    counts = reference_load()
    service.refresh_from_db()
    assert counts["updated"] == 1
    assert service.time_zone == "Indian/Reunion"
    assert service.seat_address == "1 rue de Paris, Saint-Denis"
