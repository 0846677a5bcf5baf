"""Referrals to partners as a workflow: the CPIP proposes, the partner answers, meets the
person, reports; every step is an event of the case's timeline and an audit row."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from measures.choices import FollowedBy
from measures.models import Measure
from partners.choices import OPEN_REFERRAL_STATUSES, REFERRAL_STEPS, MandateKind, ReferralStatus
from partners.conventions import capacity
from partners.models import PartnerBody, Referral, ReferralEvent, serving_q
from partners.presentencing import mandate_convention
from spip.access import scope_for
from spip.audit import audit_write
from spip.choices import AuditAction, Role
from spip.communes import commune_for

# The steps the partner takes; the SPIP proposes and may withdraw (abandon).
PARTNER_STEPS = {
    ReferralStatus.ACCEPTED,
    ReferralStatus.REFUSED,
    ReferralStatus.FIRST_CONTACT,
    ReferralStatus.IN_PROGRESS,
    ReferralStatus.ENDED,
    ReferralStatus.ABANDONED,
}
SPIP_STEPS = {ReferralStatus.ABANDONED}


def _event(referral: Referral, actor, status: str = "", note: str = "") -> ReferralEvent:
    return ReferralEvent.objects.create(
        referral=referral,
        status=status,
        note=note,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def partner_fits(partner: PartnerBody, case, domain: str) -> list[str]:
    """What is unusual about sending this case to this partner: a domain it does not
    cover, a territory it does not serve (allowed, with a reason)."""
    warnings = []
    if partner.domains and domain not in partner.domains:
        warnings.append(_("Ce partenaire n'intervient pas dans ce domaine."))
    commune = commune_for(case.person.postal_code, case.person.commune)
    if commune is not None:
        if not PartnerBody.objects.filter(serving_q(commune), pk=partner.pk).exists():
            warnings.append(
                _("Ce partenaire ne couvre pas la commune de la personne (%(commune)s).")
                % {"commune": commune.name}
            )
    elif not partner.services.filter(pk=case.service_id).exists():
        warnings.append(_("Ce partenaire ne couvre pas le territoire du service."))
    held = capacity(partner, timezone.localdate())
    if held.full:
        warnings.append(
            _("Ce partenaire est à pleine capacité (%(used)s suivis pour %(places)s places).")
            % {"used": held.used, "places": held.places}
        )
    return warnings


@transaction.atomic
def referral_propose(
    *,
    actor,
    case,
    partner: PartnerBody,
    domain: str,
    reason: str,
    message: str = "",
    outside_reason: str = "",
    sent_on: date | None = None,
) -> Referral:
    """A CPIP refers the person to a partner (today, or on ``sent_on`` for a referral
    made before, never in the future). Outside the partner's domain or territory, a
    reason is required."""
    if not scope_for(actor).records_interviews:
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif de l'orientation.")})
    today = timezone.localdate()
    if sent_on is not None and sent_on > today:
        raise ValidationError({"sent_on": _("Une orientation ne peut pas être datée du futur.")})
    if Referral.objects.filter(
        case=case, partner=partner, domain=domain, status__in=OPEN_REFERRAL_STATUSES
    ).exists():
        raise ValidationError(
            {
                "partner": _(
                    "Une orientation vers ce partenaire pour ce domaine est déjà en cours "
                    "pour cette personne."
                )
            }
        )
    warnings = partner_fits(partner, case, domain)
    if warnings and not outside_reason.strip():
        raise ValidationError(
            {"outside_reason": " ".join(warnings) + " " + _("Indiquez pourquoi.")}
        )
    referral = Referral(
        case=case,
        partner=partner,
        domain=domain,
        reason=reason.strip(),
        message=message.strip(),
        outside_reason=outside_reason.strip() if warnings else "",
        sent_on=sent_on or today,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    referral.full_clean()
    referral.save()
    _event(referral, actor, ReferralStatus.SENT)
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=referral,
        object_repr=str(case),
        service_id=case.service_id,
        changes={"partner": partner.name, "domain": domain},
    )
    return referral


@transaction.atomic
def referral_step(
    *,
    actor,
    referral: Referral,
    to: str,
    note: str = "",
    on: date | None = None,
    attended: bool | None = None,
    result: str = "",
) -> Referral:
    """Move a referral one step: accepted, refused (with a reason), first contact (on a
    date), in progress, ended (with the end report), abandoned. Out of order, refused."""
    referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    scope = scope_for(actor)
    partner_side = scope.role == Role.PARTNER and scope.partner_id == referral.partner_id
    allowed_by_role = PARTNER_STEPS if partner_side else SPIP_STEPS
    if not partner_side and not scope.records_interviews:
        raise PermissionDenied
    if to not in allowed_by_role:
        raise PermissionDenied
    if to not in REFERRAL_STEPS.get(ReferralStatus(referral.status), set()):
        raise ValidationError(
            _("Une orientation « %(state)s » ne peut pas passer à « %(to)s ».")
            % {
                "state": referral.get_status_display(),
                "to": ReferralStatus(to).label if to in ReferralStatus.values else to,
            }
        )
    today = timezone.localdate()
    before = referral.status
    note = note.strip()
    if to == ReferralStatus.REFUSED:
        if not note:
            raise ValidationError({"note": _("Indiquez le motif du refus.")})
        referral.refusal_reason = note[:255]
    if to in (ReferralStatus.ACCEPTED, ReferralStatus.REFUSED):
        referral.answered_on = today
    if to == ReferralStatus.FIRST_CONTACT:
        on = on or today
        if on > today:
            raise ValidationError({"on": _("Le premier contact ne peut pas être dans le futur.")})
        if on < referral.sent_on:
            raise ValidationError({"on": _("Le premier contact doit suivre l'orientation.")})
        referral.first_contact_on = on
    if to == ReferralStatus.ENDED:
        if attended is None or not result.strip():
            raise ValidationError(
                {"result": _("Le bilan de fin dit si la personne a suivi et ce qui en ressort.")}
            )
        referral.attended = attended
        referral.result = result.strip()
    if to == ReferralStatus.ABANDONED and not note:
        raise ValidationError({"note": _("Indiquez pourquoi l'orientation est abandonnée.")})
    if to in (ReferralStatus.REFUSED, ReferralStatus.ENDED, ReferralStatus.ABANDONED):
        referral.ended_on = today
    referral.status = to
    referral.full_clean()
    referral.save()
    _event(referral, actor, to, note)
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=referral,
        object_repr=str(referral.case),
        service_id=referral.case.service_id,
        changes={"status": [before, to]},
    )
    return referral


@transaction.atomic
def referral_note(*, actor, referral: Referral, note: str) -> ReferralEvent:
    """A note the partner writes for the CPIP while the person is followed."""
    scope = scope_for(actor)
    if not (scope.role == Role.PARTNER and scope.partner_id == referral.partner_id):
        raise PermissionDenied
    referral = Referral.objects.select_related("case").get(pk=referral.pk)
    if referral.status not in (ReferralStatus.FIRST_CONTACT, ReferralStatus.IN_PROGRESS):
        raise ValidationError(_("Une note s'écrit pendant l'accompagnement."))
    if not note.strip():
        raise ValidationError({"note": _("La note est vide.")})
    event = _event(referral, actor, note=note.strip())
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=event,
        service_id=referral.case.service_id,
        changes={"note": "…"},
    )
    return event


@transaction.atomic
def referrals_remind(*, days: int, today: date | None = None) -> int:
    """Referrals proposed ``days`` ago or more and still unanswered, not reminded within
    ``days``: marked reminded (the partner's list puts them first), one event each. One
    UPDATE; rerun the same day, nothing more."""
    today = today or timezone.localdate()
    limit = today - timedelta(days=days)
    due = Referral.objects.filter(status=ReferralStatus.SENT, sent_on__lte=limit).exclude(
        reminded_on__gt=limit
    )
    rows = list(due.values_list("id", "partner_id"))
    ids = [pk for pk, _partner in rows]
    Referral.objects.filter(id__in=ids).update(reminded_on=today)
    ReferralEvent.objects.bulk_create(
        ReferralEvent(
            referral_id=pk,
            note=_("Relance : sans réponse depuis au moins %(days)s jours.") % {"days": days},
        )
        for pk in ids
    )
    if ids:
        audit_write(
            actor=None,
            action=AuditAction.UPDATE,
            object_type="partners.referral",
            object_repr=_("Relance des orientations sans réponse"),
            changes={"relancées": len(ids)},
        )
        per_partner = Counter(partner for _pk, partner in rows)
        transaction.on_commit(lambda: _remind_by_email(per_partner, days))
    return len(ids)


def _remind_by_email(per_partner: Counter, days: int) -> int:
    """One message per partner with an address: how many referrals wait, never who (the
    names stay behind the partner's sign-in)."""
    messages = [
        (
            _("Orientations en attente de votre réponse"),
            _(
                "Bonjour,\n\n%(n)s orientation(s) du SPIP attendent votre réponse depuis au "
                "moins %(days)s jours. Elles sont en tête de votre liste, dans votre espace "
                "partenaire.\n\nCe message est automatique."
            )
            % {"n": n, "days": days},
            None,
            [email],
        )
        for email, n in (
            (p.email, per_partner[p.pk])
            for p in PartnerBody.objects.filter(pk__in=per_partner).exclude(email="")
        )
    ]
    return send_mass_mail(messages, fail_silently=True)


@transaction.atomic
def measure_entrust(*, actor, measure, partner: PartnerBody):
    """The court keeps an association for the follow-up (471 CPP): the measure is
    followed by it, under its convention in force, and still counts in the service's
    figures. An expired convention takes no new mandate."""
    scope = scope_for(actor)
    if not scope.records_interviews or not (
        Measure.objects.visible_to(actor).filter(pk=measure.pk).exists()
    ):
        raise PermissionDenied
    measure = Measure.objects.select_for_update().select_related("case").get(pk=measure.pk)
    if measure.actual_end_date is not None:
        raise ValidationError(_("Cette mesure est terminée."))
    if measure.followed_by == FollowedBy.PARTNER:
        raise ValidationError(_("Le suivi de cette mesure est déjà confié à une association."))
    convention = mandate_convention(partner, MandateKind.DOMESTIC_VIOLENCE, timezone.localdate())
    if convention is None:
        raise ValidationError(
            {
                "partner": _(
                    "Aucune convention « suivi 471 CPP » en vigueur avec cette association : "
                    "une convention expirée ne prend pas de nouveau mandat."
                )
            }
        )
    measure.followed_by = FollowedBy.PARTNER
    measure.partner = partner
    measure.convention = convention
    measure.full_clean()
    measure.save(update_fields=["followed_by", "partner", "convention"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=measure,
        object_repr=str(measure.case),
        service_id=measure.case.service_id,
        changes={"followed_by": [FollowedBy.SERVICE, FollowedBy.PARTNER], "partner": partner.name},
    )
    return measure
