"""The pre-sentencing handover (matching, confirmation, audit, timeline) and conventions
(an expired one takes no new mandate, the director's warning, capacity)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.files.selectors import timeline
from partners import presentencing, services
from partners.models import Convention, PartnerBody, PresentencingMandate, Referral
from spip.models import AuditEntry
from tests.factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db

SUMMARY = "Six mois de contrôle judiciaire : présentations régulières, soins engagés."


@pytest.fixture
def relais(world):
    partner = PartnerBody.objects.get(name="Association Le Relais")
    partner.domains = ["housing", "judicial"]
    partner.save()
    partner.services.add(world.service)
    Convention.objects.create(
        partner=partner,
        kind="mandate",
        mandate="cjse",
        court=world.court,
        starts_on=date(2024, 1, 1),
        ends_on=timezone.localdate() + timedelta(days=30),
        places=2,
    )
    return partner


@pytest.fixture
def lefevre(world):
    """Born Lefèvre, uses Martin; "Jean-Pierre Marie"; followed by the CPIP."""
    person = PersonFactory(
        birth_name="Lefèvre",
        usage_name="Martin",
        first_names="Jean-Pierre Marie",
        birth_date=date(1990, 5, 17),
    )
    return CaseFactory(person=person, antenna=world.antenna, referent=world.agents["cpip"])


def mandate(
    world, birth_name, first_names="Jean-Pierre", usage_name="", born=date(1990, 5, 17), days=200
):
    return presentencing.presentencing_record(
        actor=world.users["partner"],
        mandate="cjse",
        birth_name=birth_name,
        usage_name=usage_name,
        first_names=first_names,
        birth_date=born,
        starts_on=timezone.localdate() - timedelta(days=days),
        ends_on=None if days < 20 else timezone.localdate() - timedelta(days=20),
        summary=SUMMARY,
    )


@pytest.mark.parametrize(
    ("birth_name", "usage_name", "first_names", "born", "matches"),
    [
        ("LEFEVRE", "", "Jean-Pierre", date(1990, 5, 17), True),  # capitals, no accent
        ("lefèvre", "", "jean pierre", date(1990, 5, 17), True),  # hyphen left out
        ("Martin", "", "Jean", date(1990, 5, 17), True),  # the usage name as the name
        ("Dupont", "Lefèvre", "Jean", date(1990, 5, 17), True),  # usage on the record
        ("Lefèvres", "", "Jean-Pierre", date(1990, 5, 17), False),  # one letter more
        ("Lefèvre", "", "Jean-Pierre", date(1990, 5, 18), False),  # another birth date
        ("Lefèvre", "", "Pierre", date(1990, 5, 17), False),  # another first first name
        ("Lefebvre", "", "Jean-Pierre", date(1990, 5, 17), False),  # a near spelling
    ],
)
def test_the_record_is_proposed_only_for_the_same_person(
    world, relais, lefevre, birth_name, usage_name, first_names, born, matches
):
    record = mandate(world, birth_name, first_names, usage_name, born)
    proposed = presentencing.handover_candidates(world.users["cpip"], lefevre)
    assert (record in proposed) is matches


def test_only_who_reads_the_case_and_records_interviews_is_proposed_the_record(
    world, relais, lefevre
):
    mandate(world, "Lefèvre")
    for key in ("cpip_other", "bex", "partner", "dap", "dspip_other"):
        assert presentencing.handover_candidates(world.users[key], lefevre) == []
    assert len(presentencing.handover_candidates(world.users["cpip"], lefevre)) == 1


def test_the_handover_joins_the_summary_to_the_timeline_and_is_audited(world, relais, lefevre):
    record = mandate(world, "LEFEVRE")
    other = CaseFactory(antenna=world.antenna, referent=world.agents["cpip"])
    with pytest.raises(ValidationError):  # not this person's record
        presentencing.presentencing_handover(actor=world.users["cpip"], record=record, case=other)
    presentencing.presentencing_handover(actor=world.users["cpip"], record=record, case=lefevre)
    record.refresh_from_db()
    assert record.case == lefevre
    assert record.handed_over_on == timezone.localdate()
    entry = AuditEntry.objects.filter(
        object_type="partners.presentencingmandate", object_id=str(record.pk), action="update"
    ).get()
    assert entry.user == world.users["cpip"]
    events = timeline(world.users["cpip"], lefevre)
    assert any(e["kind"] == "presentencing" and e["detail"] == SUMMARY for e in events)
    with pytest.raises(ValidationError):  # once only
        presentencing.presentencing_handover(actor=world.users["cpip"], record=record, case=lefevre)
    # The association sees that it was handed over; nothing else of the file.
    assert PresentencingMandate.objects.visible_to(world.users["partner"]).get().handed_over_on


def test_an_expired_convention_takes_no_new_mandate(world, relais):
    Convention.objects.update(ends_on=timezone.localdate() - timedelta(days=1))
    with pytest.raises(ValidationError) as refused:  # begun today, the day after its end
        mandate(world, "Durand", days=0)
    assert "convention expirée" in refused.value.message_dict["mandate"][0]
    assert not PresentencingMandate.objects.exists()
    mandate(world, "Durand", days=200)  # begun while it was in force: recorded late, kept
    assert PresentencingMandate.objects.count() == 1
    with pytest.raises(PermissionDenied):  # the SPIP does not record an association's mandate
        presentencing.presentencing_record(
            actor=world.users["cpip"],
            mandate="cjse",
            birth_name="Durand",
            first_names="Luc",
            birth_date=date(1990, 1, 1),
            starts_on=timezone.localdate(),
            summary=SUMMARY,
        )


def test_a_partner_at_capacity_takes_a_referral_only_with_a_reason(world, relais):
    for key in ("mine", "colleague"):
        Referral.objects.create(
            case=world.cases[key],
            partner=relais,
            domain="housing",
            status="accepted",
            reason="Hébergement",
            sent_on=timezone.localdate(),
        )
    with pytest.raises(ValidationError) as refused:
        services.referral_propose(
            actor=world.users["cpip_a2"],
            case=world.cases["a2"],
            partner=relais,
            domain="housing",
            reason="Hébergement",
        )
    assert (
        "pleine capacité (2 suivis pour 2 places)"
        in refused.value.message_dict["outside_reason"][0]
    )
    services.referral_propose(
        actor=world.users["cpip_a2"],
        case=world.cases["a2"],
        partner=relais,
        domain="housing",
        reason="Hébergement",
        outside_reason="Seule structure avec une place d'urgence ce soir",
    )


def test_the_same_referral_twice_is_refused(world, relais):
    def propose():
        services.referral_propose(
            actor=world.users["cpip"],
            case=world.cases["mine"],
            partner=relais,
            domain="housing",
            reason="Hébergement",
        )

    propose()
    with pytest.raises(ValidationError) as refused:
        propose()
    assert "déjà en cours" in refused.value.message_dict["partner"][0]
    assert Referral.objects.count() == 1


def test_the_director_is_warned_of_a_convention_ending_within_the_setting(
    world, relais, client_for
):
    page = client_for(world.users["dspip"]).get("/")
    assert 'data-testid="conventions-expiring"' in page.content.decode()  # ends in 30 days
    Convention.objects.update(ends_on=timezone.localdate() + timedelta(days=61))
    page = client_for(world.users["dspip"]).get("/")
    assert 'data-testid="conventions-expiring"' not in page.content.decode()
    listing = client_for(world.users["dspip"]).get("/conventions/").content.decode()
    assert "Contrôle judiciaire socio-éducatif" in listing
    assert client_for(world.users["cpip"]).get("/conventions/").status_code == 403
    assert client_for(world.users["partner"]).get("/conventions/").status_code == 403


def test_the_court_keeps_an_association_for_the_follow_up_under_a_convention_in_force(
    world, relais
):
    from measures.models import Measure

    measure = Measure.objects.get(case=world.cases["mine"])
    with pytest.raises(ValidationError) as refused:  # no 471 convention yet
        services.measure_entrust(actor=world.users["cpip"], measure=measure, partner=relais)
    assert "471" in refused.value.message_dict["partner"][0]
    Convention.objects.create(
        partner=relais,
        kind="mandate",
        mandate="471",
        court=world.court,
        starts_on=date(2024, 1, 1),
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    with pytest.raises(ValidationError):  # expired yesterday: no new mandate
        services.measure_entrust(actor=world.users["cpip"], measure=measure, partner=relais)
    Convention.objects.filter(mandate="471").update(ends_on=None)
    with pytest.raises(PermissionDenied):  # not the case of another service's CPIP
        services.measure_entrust(actor=world.users["cpip_other"], measure=measure, partner=relais)
    services.measure_entrust(actor=world.users["cpip"], measure=measure, partner=relais)
    measure.refresh_from_db()
    assert (measure.followed_by, measure.partner, measure.convention.mandate) == (
        "partner",
        relais,
        "471",
    )
    # Still the service's: counted in its figures.
    assert Measure.objects.counted_for(world.users["dspip"]).filter(pk=measure.pk).exists()


def test_the_directory_finds_partners_by_the_persons_commune(world, relais, client_for):
    from spip.models import Commune

    villeurbanne = Commune.objects.get(name="Villeurbanne")
    venissieux = Commune.objects.get(name="Vénissieux")
    local = PartnerBody.objects.create(name="Maison de quartier", kind="association")
    local.communes.add(villeurbanne)
    client = client_for(world.users["cpip"])

    def names(commune):
        html = client.get("/orientations/annuaire/", {"commune": commune}).content.decode()
        return {n for n in ("Association Le Relais", "Maison de quartier") if n in html}

    # Le Relais serves the whole service; the house of the quarter, Villeurbanne only.
    assert names("Villeurbanne") == {"Association Le Relais", "Maison de quartier"}
    assert names("69100") == {"Association Le Relais", "Maison de quartier"}
    assert names(venissieux.name) == {"Association Le Relais"}
    assert names("Atlantis") == set()


def test_the_mandate_form_shows_every_error_at_once(world, relais, client_for):
    page = client_for(world.users["partner"]).post(
        "/orientations/presentenciel/",
        {
            "mandate": "cjse",
            "birth_name": "Durand",
            "first_names": "Luc",
            "birth_date": "2026-01-10",
            "starts_on": "2026-01-01",
            "summary": "",
        },
    )
    assert page.status_code == 400
    errors = page.context["form"].errors
    assert set(errors) >= {"birth_date", "summary"}
