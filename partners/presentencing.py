"""The pre-sentencing handover: an association records what it did before the judgment
(socio-educational judicial control, social inquiry, mediation); once the person is
sentenced and followed, the case file proposes the matching record, the CPIP confirms,
the summary joins the timeline and the association sees that it was handed over.

Matching is strict on purpose: the same birth date, the same first first name, and one of
the names (birth or usage, on either side) equal once accents, case, hyphens and
apostrophes are folded. A near miss (one letter, another birth date) is not proposed:
a wrong match would put one person's evaluation into another's file."""

from __future__ import annotations

from datetime import date

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.choices import PRESENTENCING_MANDATES, ConventionKind
from partners.models import Convention, PartnerBody, PresentencingMandate
from spip.access import scope_for
from spip.audit import audit_write
from spip.choices import AuditAction, Role
from spip.normalize import search_key


def _names(*names: str) -> set[str]:
    return {key for name in names if (key := search_key(name))}


def _first(first_names: str) -> str:
    key = search_key(first_names)
    return key.split(" ", 1)[0] if key else ""


def same_person(mandate: PresentencingMandate, person) -> bool:
    return (
        mandate.birth_date == person.birth_date
        and _first(mandate.first_names) == _first(person.first_names)
        and bool(
            _names(mandate.birth_name, mandate.usage_name)
            & _names(person.birth_name, person.usage_name)
        )
    )


def handover_candidates(user, case) -> list[PresentencingMandate]:
    """The association records that match the case's person, not yet handed over, from
    associations serving the case's service. Only for a user who reads the case and
    records interviews: the match itself is the need to know."""
    Case = apps.get_model("cases", "Case")
    scope = scope_for(user)
    if not scope.records_interviews or not (
        Case.objects.visible_to(user).filter(pk=case.pk).exists()
    ):
        return []
    person = case.person
    rows = PresentencingMandate.objects.filter(
        case__isnull=True,
        birth_date=person.birth_date,
        partner__services=case.service_id,
    ).select_related("partner")
    return [m for m in rows if same_person(m, person)]


def mandate_convention(partner: PartnerBody, mandate: str, day: date) -> Convention | None:
    """The partner's judicial-mandate convention in force that day for this mandate."""
    return (
        Convention.objects.filter(
            partner=partner, kind=ConventionKind.JUDICIAL_MANDATE, mandate=mandate
        )
        .filter(starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .order_by("-starts_on")
        .first()
    )


@transaction.atomic
def presentencing_record(
    *,
    actor,
    mandate: str,
    birth_name: str,
    first_names: str,
    birth_date: date,
    starts_on: date,
    summary: str,
    usage_name: str = "",
    ends_on: date | None = None,
) -> PresentencingMandate:
    """The association's staff record a pre-sentencing mandate under a convention in
    force; an expired convention takes no new mandate."""
    scope = scope_for(actor)
    if scope.role != Role.PARTNER or not scope.partner_id:
        raise PermissionDenied
    partner = PartnerBody.objects.get(pk=scope.partner_id)
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if mandate not in PRESENTENCING_MANDATES:
        errors["mandate"] = _("Ce mandat n'est pas un mandat présentenciel.")
    if starts_on > today:
        errors["starts_on"] = _("Le mandat ne peut pas commencer dans le futur.")
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("La fin du mandat doit suivre son début.")
    if birth_date >= starts_on:
        errors["birth_date"] = _("La date de naissance doit précéder le début du mandat.")
    if not summary.strip():
        errors["summary"] = _("La synthèse est ce que le SPIP recevra : elle est requise.")
    convention = None if errors else mandate_convention(partner, mandate, starts_on)
    if not errors and convention is None:
        errors["mandate"] = _(
            "Aucune convention en vigueur au %(day)s ne confie ce mandat à votre "
            "association : une convention expirée ne prend pas de nouveau mandat."
        ) % {"day": f"{starts_on:%d/%m/%Y}"}
    if errors:
        raise ValidationError(errors)
    record = PresentencingMandate(
        partner=partner,
        convention=convention,
        mandate=mandate,
        birth_name=birth_name.strip(),
        usage_name=usage_name.strip(),
        first_names=first_names.strip(),
        birth_date=birth_date,
        starts_on=starts_on,
        ends_on=ends_on,
        summary=summary.strip(),
        created_by=actor,
    )
    record.full_clean()
    record.save()
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        changes={"mandate": mandate, "partner": partner.name},
    )
    return record


@transaction.atomic
def presentencing_handover(*, actor, record: PresentencingMandate, case) -> PresentencingMandate:
    """The CPIP confirms that the record is the person's: it joins the case file."""
    candidates = {m.pk for m in handover_candidates(actor, case)}
    if record.pk not in candidates:
        if not scope_for(actor).records_interviews:
            raise PermissionDenied
        raise ValidationError(_("Ce mandat ne correspond pas à la personne de ce dossier."))
    record = PresentencingMandate.objects.select_for_update().get(pk=record.pk)
    if record.case_id is not None:
        raise ValidationError(_("Ce mandat a déjà été transmis."))
    record.case = case
    record.handed_over_on = timezone.localdate()
    record.save(update_fields=["case", "handed_over_on"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=record,
        object_repr=str(case),
        service_id=case.service_id,
        changes={"case": [None, case.pk]},
    )
    return record
