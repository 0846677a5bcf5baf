"""Service functions: validation in French, one transaction, an audit row each."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.agenda import services as agenda_services
from cases.files import services as case_services
from cases.models import Case, Person
from measures import services as measure_services
from measures.models import Measure, MeasureType
from spip import services as org_services
from spip.choices import Role
from spip.models import AuditEntry, Service
from spip.tasks import agents_deactivate_departed

pytestmark = pytest.mark.django_db


def test_agent_create_writes_the_account_the_profile_and_an_audit_row(world):
    agent = org_services.agent_create(
        actor=world.users["admin"],
        username="nouvelle.cpip",
        first_name="Inès",
        last_name="Petit",
        role=Role.CPIP,
        service=world.service,
        antenna=world.antenna,
        quotite=Decimal("0.8"),
        password="un-mot-de-passe-solide",
    )
    assert agent.user.check_password("un-mot-de-passe-solide")
    entry = AuditEntry.objects.get(object_type="spip.agent", object_id=str(agent.pk))
    assert (entry.action, entry.username, entry.service_id) == ("create", "admin", world.service.pk)


def test_agent_create_refuses_an_antenna_of_another_service(world):
    with pytest.raises(ValidationError) as exc:
        org_services.agent_create(
            actor=None,
            username="x",
            first_name="A",
            last_name="B",
            role=Role.CPIP,
            service=world.service,
            antenna=world.other_antenna,
        )
    assert exc.value.message_dict == {
        "antenna": ["L'antenne doit appartenir au service de l'agent."]
    }
    assert not AuditEntry.objects.filter(object_type="spip.agent", action="create").exists()


@pytest.mark.parametrize(
    ("role", "field"),
    [
        (Role.BEX_CLERK, "court"),
        (Role.DISP, "interregional_unit"),
        (Role.PARTNER, "partner"),
        (Role.CPIP, "service"),
    ],
)
def test_agent_create_requires_the_attachment_of_the_role(db, role, field):
    with pytest.raises(ValidationError) as exc:
        org_services.agent_create(
            actor=None, username="x", first_name="A", last_name="B", role=role
        )
    assert field in exc.value.message_dict


def test_departed_agents_are_deactivated_once(world):
    agent = world.agents["cpip2"]
    agent.active_to = timezone.localdate() - timedelta(days=1)
    agent.save()
    assert agents_deactivate_departed.apply().get() == 1
    agent.user.refresh_from_db()
    assert agent.user.is_active is False
    assert agents_deactivate_departed.apply().get() == 0
    assert (
        AuditEntry.objects.filter(
            object_type="spip.agent", object_id=str(agent.pk), action="update"
        ).count()
        == 1
    )


def test_case_open_refuses_a_second_open_file_in_french(world):
    case = world.cases["mine"]
    with pytest.raises(ValidationError) as exc:
        case_services.case_open(actor=world.users["bex"], person=case.person, antenna=world.antenna)
    assert "déjà un dossier ouvert dans ce service" in str(exc.value)
    assert Case.objects.filter(person=case.person).count() == 1


def test_case_open_in_another_service_is_allowed(world):
    case = world.cases["mine"]
    other = case_services.case_open(
        actor=world.users["admin"], person=case.person, antenna=world.other_antenna
    )
    assert other.service == world.other_service
    assert other.status == "awaiting"


def test_case_assign_refuses_a_cpip_of_another_service(world):
    with pytest.raises(ValidationError):
        case_services.case_assign(
            actor=world.users["dpip"],
            case=world.cases["arrival"],
            referent=world.agents["cpip_other"],
        )
    world.cases["arrival"].refresh_from_db()
    assert world.cases["arrival"].referent is None


def test_person_create_builds_the_search_key(db):
    person = case_services.person_create(
        actor=None,
        birth_name="Lefèvre-D'Arc",
        first_names="Zoé Anaïs",
        sex="F",
        birth_date=date(1991, 2, 3),
    )
    assert person.search_key == "LEFEVRE D ARC ZOE ANAIS"


def test_person_create_refuses_a_duplicate_national_number(db):
    case_services.person_create(
        actor=None,
        birth_name="A",
        first_names="B",
        sex="M",
        birth_date=date(1990, 1, 1),
        national_number="123",
    )
    with pytest.raises(ValidationError) as exc:
        case_services.person_create(
            actor=None,
            birth_name="C",
            first_names="D",
            sex="M",
            birth_date=date(1990, 1, 1),
            national_number="123",
        )
    assert "national_number" in exc.value.message_dict
    assert Person.objects.filter(national_number="123").count() == 1


def test_measure_record_saves_obligations_and_audits(world):
    from measures.models import ObligationType

    obligations = list(ObligationType.objects.filter(code__in=["G-CONVOC", "S-SOINS"]))
    measure = measure_services.measure_record(
        actor=world.users["bex"],
        case=world.cases["arrival"],
        measure_type=MeasureType.objects.get(code="SP"),
        court=world.court,
        judgment_date=timezone.localdate(),
        obligations=obligations,
    )
    assert set(measure.obligations.values_list("obligation_type__code", flat=True)) == {
        "G-CONVOC",
        "S-SOINS",
    }
    entry = AuditEntry.objects.get(object_type="measures.measure", object_id=str(measure.pk))
    assert sorted(entry.changes["obligations"]) == ["G-CONVOC", "S-SOINS"]


@pytest.mark.parametrize(
    ("code", "hours", "message"),
    [
        ("TIG-C", 150, "Le nombre d'heures doit être compris entre 20 et 120."),
        ("TIG", 401, "Le nombre d'heures doit être compris entre 20 et 400."),
        ("SP", 50, "Des heures de TIG ne s'appliquent pas à ce type de mesure."),
    ],
)
def test_measure_record_checks_tig_hours_against_the_type(world, code, hours, message):
    with pytest.raises(ValidationError) as exc:
        measure_services.measure_record(
            actor=None,
            case=world.cases["arrival"],
            measure_type=MeasureType.objects.get(code=code),
            court=world.court,
            judgment_date=timezone.localdate(),
            tig_hours=hours,
        )
    assert exc.value.message_dict["tig_hours"] == [message]
    assert Measure.objects.filter(case=world.cases["arrival"]).count() == 1  # only the fixture's


def test_measure_record_refuses_a_type_not_in_force_on_the_judgment_date(world):
    with pytest.raises(ValidationError) as exc:
        measure_services.measure_record(
            actor=None,
            case=world.cases["arrival"],
            measure_type=MeasureType.objects.get(code="SME"),
            court=world.court,
            judgment_date=date(2024, 1, 10),
        )
    assert "measure_type" in exc.value.message_dict


def test_a_database_constraint_becomes_a_french_error(world):
    with pytest.raises(ValidationError) as exc:
        measure_services.measure_record(
            actor=None,
            case=world.cases["arrival"],
            measure_type=MeasureType.objects.get(code="SP"),
            court=world.court,
            judgment_date=date(2025, 6, 1),
            start_date=date(2025, 5, 1),
        )
    assert "La mesure ne peut pas commencer avant le jugement." in exc.value.messages


def test_convocation_outcome_requires_a_reason_when_excused(world):
    conv = agenda_services.convocation_create(
        actor=None,
        case=world.cases["mine"],
        kind="follow_up",
        starts_at=timezone.now() + timedelta(days=2),
    )
    with pytest.raises(ValidationError) as exc:
        agenda_services.convocation_set_outcome(actor=None, convocation=conv, status="excused")
    assert exc.value.message_dict == {"outcome_reason": ["Une absence excusée demande un motif."]}


def test_convocation_in_the_past_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        agenda_services.convocation_create(
            actor=None,
            case=world.cases["mine"],
            kind="follow_up",
            starts_at=timezone.now() - timedelta(hours=1),
        )
    assert exc.value.message_dict == {
        "starts_at": ["La convocation ne peut pas être dans le passé."]
    }


def test_risk_assessment_updates_the_case_and_keeps_history(world):
    case = world.cases["mine"]
    today = timezone.localdate()
    case_services.risk_assess(
        actor=None, case=case, level="low", assessed_on=today - timedelta(days=10), assessor=None
    )
    case_services.risk_assess(actor=None, case=case, level="high", assessed_on=today, assessor=None)
    case.refresh_from_db()
    assert case.risk_level == "high"
    assert list(case.assessments.values_list("level", flat=True)) == ["high", "low"]


def test_service_list_is_not_writable_through_the_api(world, api_for):
    api = api_for(world.users["admin"])
    response = api.post("/api/v1/services/", {"code": "999", "name": "X"}, format="json")
    assert response.status_code == 405
    assert not Service.objects.filter(code="999").exists()
