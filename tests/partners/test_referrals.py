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
