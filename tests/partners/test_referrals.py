"""Referrals as a workflow: every allowed and refused step, who may take it, the
reminders of unanswered referrals, and what the partner sees of the case."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from partners import services
from partners.models import PartnerBody, Referral, ReferralEvent
from spip.models import AuditEntry

pytestmark = pytest.mark.django_db

STATES = ["sent", "accepted", "refused", "contacted", "ongoing", "ended", "abandoned"]
# Written by hand from the workflow: proposed → accepted (or refused) → first contact →
# in progress → ended; abandoned from any open state.
ALLOWED = {
    ("sent", "accepted"),
    ("sent", "refused"),
    ("sent", "abandoned"),
    ("accepted", "contacted"),
    ("accepted", "abandoned"),
    ("contacted", "ongoing"),
    ("contacted", "ended"),
    ("contacted", "abandoned"),
    ("ongoing", "ended"),
    ("ongoing", "abandoned"),
}
# What each step needs.
EXTRAS = {
    "refused": {"note": "Plus de place avant mars"},
    "abandoned": {"note": "La personne a déménagé"},
    "ended": {"attended": True, "result": "Logement trouvé"},
    "contacted": {"on": None},
}


@pytest.fixture
def relais(world):
    partner = PartnerBody.objects.get(name="Association Le Relais")
    partner.domains = ["housing"]
    partner.save()
    partner.services.add(world.service)
    return partner


def _referral(world, relais, status="sent", days_ago=3):
    return Referral.objects.create(
        case=world.cases["mine"],
        partner=relais,
        domain="housing",
        status=status,
        reason="Hébergement",
        sent_on=timezone.localdate() - timedelta(days=days_ago),
    )


@pytest.mark.parametrize("start", STATES)
@pytest.mark.parametrize("to", STATES)
def test_every_step_is_allowed_or_refused_as_the_workflow_says(world, relais, start, to):
    referral = _referral(world, relais, status=start)
    actor = world.users["partner"]
    step = lambda: services.referral_step(  # noqa: E731
        actor=actor, referral=referral, to=to, **EXTRAS.get(to, {})
    )
    if (start, to) in ALLOWED:
        step()
        referral.refresh_from_db()
        assert referral.status == to
        assert referral.events.filter(status=to).count() == 1
    else:
        with pytest.raises((ValidationError, PermissionDenied)):
            step()
        referral.refresh_from_db()
        assert referral.status == start
        assert not referral.events.exists()


def test_the_partner_answers_and_reports_and_each_step_is_written_down(world, relais):
    referral = _referral(world, relais)
    partner = world.users["partner"]
    with pytest.raises(ValidationError, match="motif du refus"):
        services.referral_step(actor=partner, referral=referral, to="refused")
    services.referral_step(actor=partner, referral=referral, to="accepted")
    with pytest.raises(ValidationError, match="futur"):
        services.referral_step(
            actor=partner,
            referral=referral,
            to="contacted",
            on=timezone.localdate() + timedelta(days=1),
        )
    services.referral_step(
        actor=partner, referral=referral, to="contacted", on=timezone.localdate()
    )
    services.referral_note(actor=partner, referral=referral, note="Dossier DALO déposé")
    with pytest.raises(ValidationError, match="bilan"):
        services.referral_step(actor=partner, referral=referral, to="ended", attended=True)
    services.referral_step(
        actor=partner, referral=referral, to="ended", attended=True, result="Logé en résidence"
    )
    referral.refresh_from_db()
    assert (referral.answered_on, referral.first_contact_on, referral.ended_on) == (
        timezone.localdate(),
        timezone.localdate(),
        timezone.localdate(),
    )
    assert list(referral.events.values_list("status", flat=True)) == [
        "accepted",
        "contacted",
        "",
        "ended",
    ]
    rows = AuditEntry.objects.filter(object_type="partners.referral", object_id=str(referral.pk))
    assert rows.filter(action="update").count() == 3
    assert "Dossier DALO" not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_only_the_partner_answers_and_only_the_spip_proposes(world, relais):
    referral = _referral(world, relais)
    with pytest.raises(PermissionDenied):  # the CPIP cannot accept in the partner's name
        services.referral_step(actor=world.users["cpip"], referral=referral, to="accepted")
    other = PartnerBody.objects.create(name="Autre association", kind="association")
    referral.partner = other
    referral.save()
    with pytest.raises(PermissionDenied):  # nor another partner's staff
        services.referral_step(actor=world.users["partner"], referral=referral, to="accepted")
    with pytest.raises(PermissionDenied):
        services.referral_propose(
            actor=world.users["partner"],
            case=world.cases["mine"],
            partner=relais,
            domain="housing",
            reason="x",
        )
    # The CPIP may withdraw a referral, with a reason.
    services.referral_step(
        actor=world.users["cpip"], referral=referral, to="abandoned", note="Projet abandonné"
    )


def test_outside_the_partners_domain_or_territory_a_reason_is_required(world, relais):
    case = world.cases["mine"]
    with pytest.raises(ValidationError, match="domaine"):
        services.referral_propose(
            actor=world.users["cpip"], case=case, partner=relais, domain="health", reason="Soins"
        )
    referral = services.referral_propose(
        actor=world.users["cpip"],
        case=case,
        partner=relais,
        domain="health",
        reason="Soins",
        outside_reason="Seule structure avec une permanence santé",
    )
    assert referral.status == "sent" and referral.events.get().status == "sent"
    far = world.cases["other"]  # Marseille: not the partner's territory
    with pytest.raises(ValidationError, match="territoire"):
        services.referral_propose(
            actor=world.users["cpip_other"],
            case=far,
            partner=relais,
            domain="housing",
            reason="Hébergement",
        )
    assert Referral.objects.count() == 1


def test_unanswered_referrals_are_reminded_once_per_period(world, relais):
    today = date(2026, 12, 1)
    old, recent, answered = (
        _referral(world, relais),
        _referral(world, relais),
        _referral(world, relais, status="accepted"),
    )
    for referral, days in ((old, 12), (recent, 3), (answered, 30)):
        referral.sent_on = today - timedelta(days=days)
        referral.save()
    assert services.referrals_remind(days=10, today=today) == 1  # the 12-day-old one
    assert services.referrals_remind(days=10, today=today) == 0  # rerun: nothing more
    assert services.referrals_remind(days=10, today=today + timedelta(days=5)) == 0
    # Eleven days on: the old one again (its reminder is 11 days old), the recent one at
    # 14 days for the first time; the answered one never.
    assert services.referrals_remind(days=10, today=today + timedelta(days=11)) == 2
    old.refresh_from_db()
    assert old.reminded_on == today + timedelta(days=11)
    assert ReferralEvent.objects.filter(referral=old, note__startswith="Relance").count() == 2


def test_the_partner_is_reminded_by_email_without_names(
    world, relais, mailoutbox, django_capture_on_commit_callbacks
):
    relais.email = "accueil@relais.example"
    relais.save()
    for days in (12, 15):
        _referral(world, relais, days_ago=days)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.referrals_remind(days=10) == 2
    (message,) = mailoutbox
    assert message.to == ["accueil@relais.example"]
    assert "2 orientation(s)" in message.body
    assert str(world.cases["mine"].person.birth_name) not in message.body
    with django_capture_on_commit_callbacks(execute=True):
        assert services.referrals_remind(days=10) == 0
    assert len(mailoutbox) == 1


@pytest.fixture
def theirs(world):
    """A referral of a colleague's case to another association."""
    other_partner = PartnerBody.objects.create(name="Autre association", kind="association")
    return Referral.objects.create(
        case=world.cases["colleague"],
        partner=other_partner,
        domain="housing",
        reason="x",
        sent_on=timezone.localdate(),
    )


def test_the_partner_sees_its_referrals_and_nothing_else_of_the_case(
    world, relais, theirs, client_for
):
    from cases.models import Interview

    mine = _referral(world, relais)
    Interview.objects.create(
        case=mine.case,
        agent=world.agents["cpip"],
        held_at=timezone.now(),
        kind="office",
        duration_minutes=30,
        attendance="present",
        notes="Confidentiel : conflit familial",
    )
    client = client_for(world.users["partner"])
    listing = client.get("/orientations/").content.decode()
    assert f"/orientations/{mine.pk}/" in listing and f"/orientations/{theirs.pk}/" not in listing
    page = client.get(f"/orientations/{mine.pk}/").content.decode()
    assert str(mine.case.person) in page and "Hébergement" in page
    assert "Confidentiel" not in page and mine.case.get_risk_level_display() not in page
    assert client.get(f"/orientations/{theirs.pk}/").status_code == 404  # a guessed id
    assert client.get(f"/dossiers/{mine.case_id}/").status_code in (403, 404)
    api = client.get(f"/api/v1/cases/{mine.case_id}/")
    assert api.status_code in (403, 404)


def test_the_cpip_proposes_from_the_case_file_and_the_partner_answers_in_its_space(
    world, relais, client_for
):
    case = world.cases["mine"]
    cpip = client_for(world.users["cpip"])
    page = cpip.get(f"/dossiers/{case.pk}/orientations/nouvelle/").content.decode()
    assert "Association Le Relais" in page
    refused = cpip.post(
        f"/dossiers/{case.pk}/orientations/nouvelle/",
        {"partner": relais.pk, "domain": "health", "reason": "Soins"},
    )
    assert refused.status_code == 400
    assert "domaine" in refused.content.decode()
    done = cpip.post(
        f"/dossiers/{case.pk}/orientations/nouvelle/",
        {"partner": relais.pk, "domain": "housing", "reason": "Hébergement d'urgence"},
    )
    assert done.status_code == 302
    referral = Referral.objects.get(case=case)

    partner = client_for(world.users["partner"])
    assert "1 orientation attend votre réponse." in partner.get("/").content.decode()
    out_of_order = partner.post(f"/orientations/{referral.pk}/", {"to": "ended"})
    assert out_of_order.status_code == 400
    assert "ne peut pas passer" in out_of_order.content.decode()
    partner.post(f"/orientations/{referral.pk}/", {"to": "accepted"})
    partner.post(
        f"/orientations/{referral.pk}/",
        {"to": "contacted", "on": timezone.localdate().isoformat()},
    )
    referral.refresh_from_db()
    assert referral.status == "contacted"
    cpip = client_for(world.users["cpip"])  # the test client is shared: sign in again
    timeline = cpip.get(f"/dossiers/{case.pk}/").content.decode()
    assert "Orientation vers Association Le Relais : Premier contact" in timeline


def test_the_cpip_hears_of_an_unanswered_referral_until_the_partner_answers(world, relais):
    from cases.alerts.services import alerts_refresh
    from cases.models import Alert
    from cases.tasks import referrals_remind
    from spip.models import JobRun

    referral = _referral(world, relais, days_ago=11)  # the setting's default: 10 days
    assert referrals_remind() == 1
    run = JobRun.objects.get(name="referrals_remind")
    assert run.label == "Relance des orientations sans réponse" and run.counts == {"reminded": 1}
    alerts_refresh()
    alert = Alert.objects.get(alert_type="referral_unanswered", closed_at__isnull=True)
    assert (alert.case, alert.agent) == (referral.case, world.agents["cpip"])
    services.referral_step(actor=world.users["partner"], referral=referral, to="accepted")
    alerts_refresh()
    alert.refresh_from_db()
    assert alert.closed_at is not None


def test_the_referrals_api_follows_the_same_rules(world, relais, theirs, api_for):
    mine = _referral(world, relais)
    partner = api_for(world.users["partner"])
    listed = [r["id"] for r in partner.get("/api/v1/referrals/").json()["results"]]
    assert listed == [mine.pk]
    assert partner.get(f"/api/v1/referrals/{theirs.pk}/").status_code == 404
    out_of_order = partner.post(f"/api/v1/referrals/{mine.pk}/step/", {"to": "ended"})
    assert out_of_order.status_code == 400
    assert "ne peut pas passer" in str(out_of_order.json())
    refused = partner.post(f"/api/v1/referrals/{mine.pk}/step/", {"to": "refused"})
    assert refused.status_code == 400 and "note" in refused.json()
    accepted = partner.post(f"/api/v1/referrals/{mine.pk}/step/", {"to": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    proposal = {"case": world.cases["mine"].pk, "partner": relais.pk, "domain": "health"}
    # The case is not the partner's to read: not found, whether it exists or not.
    assert partner.post("/api/v1/referrals/", {**proposal, "reason": "x"}).status_code == 404

    cpip = api_for(world.users["cpip"])
    outside = cpip.post("/api/v1/referrals/", {**proposal, "reason": "Soins"})
    assert outside.status_code == 400 and "outside_reason" in outside.json()
    created = cpip.post(
        "/api/v1/referrals/",
        {**proposal, "reason": "Soins", "outside_reason": "Seule permanence santé"},
    )
    assert created.status_code == 201 and created.json()["status"] == "sent"
    far = {**proposal, "case": world.cases["other"].pk, "reason": "x"}
    assert cpip.post("/api/v1/referrals/", far).status_code == 404
    assert api_for(world.users["bex"]).get("/api/v1/referrals/").json()["results"] == []


def test_the_directory_finds_partners_by_domain_and_territory(world, relais, client_for):
    elsewhere = PartnerBody.objects.create(
        name="Addictions Sud", kind="association", domains=["health"]
    )
    elsewhere.services.add(world.other_service)
    client = client_for(world.users["cpip"])
    own_territory = client.get("/orientations/annuaire/").content.decode()
    assert "Association Le Relais" in own_territory and "Hébergement, logement" in own_territory
    assert "Addictions Sud" not in own_territory  # another service's territory by default
    everywhere = client.get("/orientations/annuaire/", {"service": ""}).content.decode()
    assert "Addictions Sud" in everywhere
    health = client.get("/orientations/annuaire/", {"service": "", "domain": "health"})
    assert "Addictions Sud" in health.content.decode()
    assert "Association Le Relais" not in health.content.decode()
    partner = client_for(world.users["partner"]).get("/orientations/annuaire/")
    assert "Addictions Sud" not in partner.content.decode()
