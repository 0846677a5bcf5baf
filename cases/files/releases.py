"""Release from prison handed to the home service.

From the planned date and address, the competent home service and antenna are found
(``spip.communes``); the prison's CPIP works the checklist and books the first community
appointment in the home antenna's agenda, after the release and within the release rule
(741-1 CPP: 8 days for a sursis probatoire or an SSJ, one month otherwise, run to the next
working day); at release the case moves to the community and, when home is another
service, is transferred there at once with the appointment already booked."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.agenda import services as agenda
from cases.choices import (
    OPEN_STATUSES,
    CaseSetting,
    ConvocationStatus,
    ConvocationType,
    TransferStatus,
)
from cases.files import transfers
from cases.files.services import person_update
from cases.models import Case, Convocation, ReleasePlan, Transfer
from cases.workload.models import AlertSettings
from measures.models import Measure
from measures.selectors import ONE_MONTH_DAYS, release_deadline  # noqa: F401 (re-exported)
from spip.access import scope_for
from spip.audit import audit_write, snapshot
from spip.choices import AuditAction
from spip.communes import competent_service

# Without alert settings in force: the default of the setting.
HANDOVER_WEEKS = 6


def phase(plan: ReleasePlan, today: date | None = None) -> str:
    """custody (before the handover weeks), handover (within them), community."""
    if plan.released_on is not None:
        return "community"
    today = today or timezone.localdate()
    settings = AlertSettings.objects.in_force(today)
    weeks = settings.release_handover_weeks if settings else HANDOVER_WEEKS
    return "handover" if plan.planned_on <= today + timedelta(weeks=weeks) else "custody"


def _writer(actor, case: Case) -> None:
    if not scope_for(actor).records_interviews or not (
        Case.objects.visible_to(actor).filter(pk=case.pk).exists()
    ):
        raise PermissionDenied


@transaction.atomic
def release_plan(
    *, actor, case: Case, planned_on: date, address: str, postal_code: str, commune: str
) -> ReleasePlan:
    """Prepare (or move) a custody case's release. A date in the past is refused; so is a
    move that would leave the booked appointment before the release or past its rule."""
    _writer(actor, case)
    case = Case.objects.select_for_update().select_related("service").get(pk=case.pk)
    errors: dict[str, str] = {}
    if case.setting != CaseSetting.CLOSED or case.status not in OPEN_STATUSES:
        errors["case"] = _("Seul un dossier suivi en détention prépare une sortie.")
    if planned_on <= timezone.localdate():
        errors["planned_on"] = _("La date de sortie prévue est à venir.")
    home, antenna = competent_service(postal_code, commune)
    if home is None:
        errors["postal_code"] = _("Aucun SPIP n'est compétent pour ce code postal.")
    elif antenna is None:
        try:
            antenna = transfers.antenna_for(home.pk, commune)
        except ValidationError:
            errors["postal_code"] = _("Le service compétent n'a pas d'antenne.")
    if not address.strip() or not commune.strip():
        errors["address"] = _("Indiquez l'adresse à la sortie.")
    if errors:
        raise ValidationError(errors)
    plan = ReleasePlan.objects.filter(case=case, released_on__isnull=True).first()
    if plan is not None and plan.convocation is not None:
        booked = plan.convocation
        local = agenda.local_date(booked.starts_at, case.service.time_zone)
        if not (planned_on < local <= release_deadline(case, planned_on).last_day) or (
            home.pk != plan.home_service_id  # type: ignore[union-attr]
        ):
            raise ValidationError(
                {
                    "planned_on": _(
                        "Le rendez-vous déjà pris (%(day)s) ne convient plus à cette sortie : "
                        "annulez-le d'abord."
                    )
                    % {"day": f"{local:%d/%m/%Y}"}
                }
            )
    before = snapshot(plan) if plan else None
    plan = plan or ReleasePlan(case=case, created_by=actor)
    plan.planned_on = planned_on
    plan.address = address.strip()
    plan.postal_code = postal_code.strip()
    plan.commune = commune.strip()
    plan.home_service = home  # type: ignore[assignment]
    plan.home_antenna = antenna  # type: ignore[assignment]
    plan.full_clean()
    plan.save()
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=plan,
        service_id=case.service_id,
        changes=snapshot(plan),
    )
    return plan


@transaction.atomic
def release_checklist(*, actor, plan: ReleasePlan, **flags: bool) -> ReleasePlan:
    _writer(actor, plan.case)
    plan = ReleasePlan.objects.select_for_update().get(pk=plan.pk)
    changed = {k: [getattr(plan, k), bool(v)] for k, v in flags.items() if k in plan.CHECKLIST}
    for name, (_old, new) in changed.items():
        setattr(plan, name, new)
    plan.save(update_fields=list(changed) or None)
    audit_write(
        actor=actor, action=AuditAction.UPDATE, obj=plan, service_id=plan.case.service_id,
        changes=changed,
    )  # fmt: skip
    return plan


def release_slots(plan: ReleasePlan):
    """The home antenna's free slots after the release, each said within the rule or not."""
    deadline = release_deadline(plan.case, plan.planned_on)
    zone = plan.home_service.time_zone
    slots = [
        s
        for s in agenda.free_slots(antenna=plan.home_antenna, days=120)
        if agenda.local_date(s.starts_at, zone) > plan.planned_on
    ]
    return deadline, [
        {
            "slot": s,
            "local": s.starts_at.astimezone(timezone.get_current_timezone()),
            "within": agenda.local_date(s.starts_at, zone) <= deadline.last_day,
        }
        for s in slots[:40]
    ]


@transaction.atomic
def release_book(*, actor, plan: ReleasePlan, slot, beyond_reason: str = "") -> Convocation:
    """Book the first community appointment before release, in the home antenna."""
    _writer(actor, plan.case)
    plan = ReleasePlan.objects.select_for_update().select_related("case__service").get(pk=plan.pk)
    if plan.released_on is not None:
        raise ValidationError(_("La personne est déjà sortie."))
    if plan.convocation_id and plan.convocation.status == ConvocationStatus.BOOKED:  # type: ignore[union-attr]
        raise ValidationError(_("Le premier rendez-vous est déjà pris."))
    if slot.agenda.antenna_id != plan.home_antenna_id:
        raise ValidationError({"slot": _("Ce créneau n'est pas celui de l'antenne d'accueil.")})
    zone = plan.home_service.time_zone
    day = agenda.local_date(slot.starts_at, zone)
    if day <= plan.planned_on:
        raise ValidationError({"slot": _("Le rendez-vous doit suivre la sortie.")})
    deadline = release_deadline(plan.case, plan.planned_on)
    if day > deadline.last_day and not beyond_reason.strip():
        raise ValidationError(
            {
                "beyond_reason": _(
                    "Ce créneau dépasse le délai (%(label)s, au plus tard le %(day)s) : "
                    "indiquez pourquoi."
                )
                % {"label": deadline.label, "day": f"{deadline.last_day:%d/%m/%Y}"}
            }
        )
    measure = (
        Measure.objects.filter(case=plan.case, actual_end_date__isnull=True)
        .order_by("judgment_date", "pk")
        .first()
    )
    convocation = agenda.convocation_book(
        actor=actor,
        case=plan.case,
        slot=slot,
        measure=measure,
        kind=ConvocationType.RELEASE_741_1,
        issued_from="spip",
        beyond_reason=beyond_reason,
        home_service_id=plan.home_service_id,
    )
    plan.convocation = convocation
    plan.booked_on = timezone.localdate()
    plan.save(update_fields=["convocation", "booked_on"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=plan,
        service_id=plan.case.service_id,
        changes={"convocation": convocation.pk},
    )
    return convocation


@transaction.atomic
def release_done(*, actor, plan: ReleasePlan, released_on: date | None = None) -> ReleasePlan:
    """The person is released: the case moves to the community; home elsewhere, the case
    is transferred there at once, the booked appointment with it."""
    plan = ReleasePlan.objects.select_for_update().select_related("case").get(pk=plan.pk)
    if actor is not None:
        _writer(actor, plan.case)
    if plan.released_on is not None:
        raise ValidationError(_("La sortie est déjà enregistrée."))
    today = timezone.localdate()
    released_on = released_on or today
    if released_on > today:
        raise ValidationError({"released_on": _("La sortie ne peut pas être dans le futur.")})
    case = Case.objects.select_for_update().select_related("person").get(pk=plan.case_id)
    # The person now lives at the release address.
    person_update(
        actor=actor,
        person=case.person,
        address=plan.address,
        postal_code=plan.postal_code,
        commune=plan.commune,
    )
    case.setting = CaseSetting.OPEN
    case.prison = None
    case.version += 1
    case.save(update_fields=["setting", "prison", "version"])
    plan.released_on = released_on
    if plan.home_service_id != case.service_id:
        open_one = Transfer.objects.filter(
            case=case, status__in=(TransferStatus.PROPOSED, TransferStatus.REQUESTED)
        ).first()
        if open_one is not None:  # replaced by the transfer at release
            Transfer.objects.filter(pk=open_one.pk).update(
                status=TransferStatus.CANCELLED,
                answered_on=today,
                answer_note=_("Remplacé par le transfert à la sortie de détention"),
            )
        transfer = Transfer.objects.create(
            case=case,
            from_service_id=case.service_id,
            to_service_id=plan.home_service_id,
            to_antenna_id=plan.home_antenna_id,
            status=TransferStatus.PROPOSED,
            requested_on=today,
            reason=_("Sortie de détention : domicile dans le ressort du service"),
            proposed_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        transfer = transfers.transfer_complete(transfer, actor=actor, note=_("Sortie de détention"))
        plan.transfer = transfer  # the appointment booked in the home antenna follows
    plan.save(update_fields=["released_on", "transfer"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=plan,
        service_id=case.service_id,
        changes={"released_on": released_on.isoformat(), "transfer": plan.transfer_id},
    )
    return plan


def releases_tick(*, today: date | None = None) -> int:
    """The daily job: a planned release whose day has passed without being recorded is
    recorded as of its planned day (each in its own transaction)."""
    today = today or timezone.localdate()
    done = 0
    for plan in ReleasePlan.objects.filter(released_on__isnull=True, planned_on__lt=today):
        release_done(actor=None, plan=plan, released_on=plan.planned_on)
        done += 1
    return done
