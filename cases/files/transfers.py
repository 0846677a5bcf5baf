"""Transfers between services ("dessaisissement"): the sending director proposes, or the
receiving one requests; the other side accepts or refuses with a reason; unanswered, the
transfer is accepted by itself after N days when the person has no appointment left in
the sending service, and both directors are reminded every M days before that.

On acceptance the receiving service gets a new case, awaiting allocation, holding the
open measures (their obligations and TIG with them), the open alerts and the reports not
yet sent; the sending case is closed and keeps what happened while it was held, read by
both services (``spip.access.case_q``). Every step is audited and shown in the timeline.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.agenda.services import convocation_cancel
from cases.alerts.services import alerts_follow_owner
from cases.choices import (
    OPEN_STATUSES,
    OPEN_TRANSFER_STATUSES,
    CaseStatus,
    ConvocationStatus,
    ReportStatus,
    TransferStatus,
)
from cases.files.contacts import first_contact_refresh
from cases.models import Alert, Case, Convocation, Report, Transfer
from measures.models import Measure
from spip.access import scope_for
from spip.audit import audit_write, snapshot
from spip.choices import AuditAction, Role
from spip.communes import commune_for
from spip.models import Agent, Antenna, Service
from spip.normalize import search_key

AUTO_ACCEPT_DAYS = 10
REMINDER_DAYS = 5


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _director_of(actor, service_id: int) -> bool:
    scope = scope_for(actor)
    return scope.allocates and (scope.is_admin or scope.service_id == service_id)


def _audit(actor, transfer: Transfer, action: str, changes: dict) -> None:
    for service_id in {transfer.from_service_id, transfer.to_service_id}:
        audit_write(
            actor=actor,
            action=action,
            obj=transfer,
            object_repr=str(transfer.case),
            service_id=service_id,
            changes=changes,
        )


@transaction.atomic
def transfer_open(
    *,
    actor,
    case: Case,
    to_service: Service,
    reason: str,
    to_antenna: Antenna | None = None,
    override_reason: str = "",
    requested: bool = False,
) -> Transfer:
    """The sending director proposes (``requested=False``), or the receiving one asks
    for the case (``requested=True``). A restricted case needs the sending director's
    explicit override, with its reason."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    deciding_service = to_service.pk if requested else case.service_id
    if not _director_of(actor, deciding_service):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if case.status not in OPEN_STATUSES:
        errors["case"] = _("Ce dossier est clos.")
    if to_service.pk == case.service_id:
        errors["to_service"] = _("Le service d'accueil est le service actuel du dossier.")
    if to_antenna is not None and to_antenna.service_id != to_service.pk:
        errors["to_antenna"] = _("Cette antenne n'est pas du service d'accueil.")
    if not reason.strip():
        errors["reason"] = _("Indiquez le motif du transfert (déménagement, compétence…).")
    if case.restricted:
        if requested:
            errors["case"] = _(
                "Dossier sensible : seul le directeur du service d'origine peut le transférer."
            )
        elif scope_for(actor).role != Role.DSPIP and not scope_for(actor).is_admin:
            errors["override_reason"] = _("Dossier sensible : dérogation du DSPIP requise.")
        elif not override_reason.strip():
            errors["override_reason"] = _("Dossier sensible : indiquez la raison de la dérogation.")
    if Transfer.objects.filter(case=case, status__in=OPEN_TRANSFER_STATUSES).exists():
        errors["case"] = _("Un transfert de ce dossier est déjà en cours.")
    if errors:
        raise ValidationError(errors)
    transfer = Transfer(
        case=case,
        from_service_id=case.service_id,
        to_service=to_service,
        to_antenna=to_antenna,
        status=TransferStatus.REQUESTED if requested else TransferStatus.PROPOSED,
        requested_on=timezone.localdate(),
        reason=reason.strip(),
        override_reason=override_reason.strip() if case.restricted else "",
        proposed_by=_user(actor),
    )
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError as exc:  # the same case proposed at the same moment elsewhere
        raise ValidationError({"case": _("Un transfert de ce dossier est déjà en cours.")}) from exc
    _audit(actor, transfer, AuditAction.CREATE, {"status": transfer.status, "reason": reason})
    return transfer


def _answering_service(transfer: Transfer) -> int:
    """Who answers: the receiving service a proposal, the sending one a request."""
    if transfer.status == TransferStatus.PROPOSED:
        return transfer.to_service_id
    return transfer.from_service_id


@transaction.atomic
def transfer_answer(*, actor, transfer: Transfer, accept: bool, note: str = "") -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if not transfer.is_open:
        raise ValidationError(
            _("Ce transfert est déjà « %(state)s ».") % {"state": transfer.get_status_display()}
        )
    if not _director_of(actor, _answering_service(transfer)):
        raise PermissionDenied
    if not accept and not note.strip():
        raise ValidationError({"note": _("Indiquez le motif du refus.")})
    if accept:
        scope = scope_for(actor)
        if transfer.to_antenna_id is None and scope.antenna_id:
            # A head of antenna accepts into their antenna: the file lands where they see it.
            antenna = Antenna.objects.filter(
                pk=scope.antenna_id, service_id=transfer.to_service_id
            ).first()
            if antenna is not None:
                transfer.to_antenna = antenna
        return _complete(transfer, actor=actor, note=note)
    transfer.status = TransferStatus.REFUSED
    transfer.answered_on = timezone.localdate()
    transfer.answered_by = _user(actor)
    transfer.answer_note = note.strip()[:255]
    transfer.save()
    _audit(actor, transfer, AuditAction.UPDATE, {"status": "refused", "note": note})
    return transfer


@transaction.atomic
def transfer_cancel(*, actor, transfer: Transfer, note: str = "") -> Transfer:
    """Whoever opened it withdraws it while it waits."""
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    opener = (
        transfer.to_service_id
        if transfer.status == TransferStatus.REQUESTED
        else transfer.from_service_id
    )
    if not transfer.is_open:
        raise ValidationError(_("Ce transfert n'est plus en attente."))
    if not _director_of(actor, opener):
        raise PermissionDenied
    transfer.status = TransferStatus.CANCELLED
    transfer.answered_on = timezone.localdate()
    transfer.answered_by = _user(actor)
    transfer.answer_note = note.strip()[:255]
    transfer.save()
    _audit(actor, transfer, AuditAction.UPDATE, {"status": "cancelled"})
    return transfer


def _receiving_antenna(transfer: Transfer) -> Antenna:
    if transfer.to_antenna_id:
        return transfer.to_antenna  # type: ignore[return-value]
    person = transfer.case.person
    commune = commune_for(person.postal_code, person.commune)
    if commune is not None and commune.antenna_id and commune.service_id == transfer.to_service_id:
        return commune.antenna  # type: ignore[return-value]
    return antenna_for(transfer.to_service_id, person.commune)


def antenna_for(service_id: int, commune: str) -> Antenna:
    """The service's antenna in the person's town, else its first antenna."""
    antennas = list(Antenna.objects.filter(service_id=service_id).order_by("name"))
    town = search_key(commune)
    antenna = next((a for a in antennas if town and search_key(a.city) == town), None)
    antenna = antenna or (antennas[0] if antennas else None)
    if antenna is None:
        raise ValidationError(_("Le service d'accueil n'a pas d'antenne."))
    return antenna


def _complete(transfer: Transfer, *, actor, note: str = "", auto: bool = False) -> Transfer:
    """Hand the file over (inside the caller's transaction, the transfer locked)."""
    old = Case.objects.select_for_update().select_related("person").get(pk=transfer.case_id)
    if old.status not in OPEN_STATUSES:
        raise ValidationError(_("Ce dossier est clos : il ne peut plus être transféré."))
    today = timezone.localdate()
    antenna = _receiving_antenna(transfer)
    new = (
        Case.objects.select_for_update()
        .filter(
            person_id=old.person_id, service_id=transfer.to_service_id, status__in=OPEN_STATUSES
        )
        .first()
    )
    if new is None:
        new = Case.objects.create(
            person_id=old.person_id,
            service_id=transfer.to_service_id,
            antenna=antenna,
            status=CaseStatus.AWAITING_ALLOCATION,
            setting=old.setting,
            prison_id=old.prison_id,
            risk_level=old.risk_level,
            intensity=old.intensity,
            restricted=old.restricted,
            opened_on=today,
            created_by=_user(actor),
        )
        audit_write(
            actor=actor,
            action=AuditAction.CREATE,
            obj=new,
            service_id=new.service_id,
            changes=snapshot(new),
        )
    moved = {
        "measures": Measure.objects.filter(case=old, actual_end_date__isnull=True).update(case=new),
        "alerts": Alert.objects.filter(case=old, closed_at__isnull=True).update(
            case=new, agent=None
        ),
        "reports": Report.objects.filter(case=old, status=ReportStatus.DRAFT).update(case=new),
    }
    # The sending service's appointments still to come are cancelled (the person is told);
    # those booked in the receiving service (a release's first appointment) follow the file.
    for convocation in Convocation.objects.filter(
        case=old, status=ConvocationStatus.BOOKED, starts_at__gt=timezone.now()
    ).exclude(antenna__service_id=transfer.to_service_id):
        convocation_cancel(
            actor=actor,
            convocation=convocation,
            reason=_("Dossier transféré à %(service)s") % {"service": transfer.to_service},
        )
    moved["appointments"] = Convocation.objects.filter(
        case=old, status=ConvocationStatus.BOOKED, antenna__service_id=transfer.to_service_id
    ).update(case=new)
    # The measures moved read the new case's contacts, in its service's time zone.
    first_contact_refresh(case_ids=[new.pk])
    old.status = CaseStatus.CLOSED
    old.closed_on = today
    old.version += 1
    old.save(update_fields=["status", "closed_on", "version"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=old,
        service_id=old.service_id,
        changes={"status": ["open", "closed"], "transfer": transfer.pk},
    )
    transfer.status = TransferStatus.ACCEPTED
    transfer.answered_on = today
    transfer.answered_by = _user(actor)
    transfer.answer_note = note.strip()[:255]
    transfer.auto_accepted = auto
    transfer.completed_on = today
    transfer.new_case = new
    transfer.save()
    _audit(actor, transfer, AuditAction.UPDATE, {"status": "accepted", "auto": auto, **moved})
    # The moved alerts go to whoever answers for the new case (its director until
    # allocated), at once.
    alerts_follow_owner(case_ids=[new.pk], day=today)
    return transfer


def transfer_complete(transfer: Transfer, *, actor, note: str = "") -> Transfer:
    """Complete a transfer the caller has decided and locked (a release to another
    service's territory)."""
    return _complete(transfer, actor=actor, note=note)


def _appointments_left(transfer: Transfer, today: date) -> bool:
    return Convocation.objects.filter(
        case__person_id=transfer.case.person_id,
        case__service_id=transfer.from_service_id,
        status=ConvocationStatus.BOOKED,
        starts_at__date__gte=today,
    ).exists()


def transfers_tick(
    *,
    today: date | None = None,
    auto_days: int = AUTO_ACCEPT_DAYS,
    remind_days: int = REMINDER_DAYS,
) -> dict:
    """The daily job: accept the transfers unanswered for ``auto_days`` when the person
    has no appointment left in the sending service; remind both directors of the others
    every ``remind_days``. Each transfer in its own transaction; rerun the same day,
    nothing more happens."""
    today = today or timezone.localdate()
    counts = {"accepted": 0, "reminded": 0}
    due = Transfer.objects.filter(
        status__in=OPEN_TRANSFER_STATUSES, requested_on__lte=today - timedelta(days=auto_days)
    ).select_related("case")
    for transfer in due:
        if _appointments_left(transfer, today):
            continue
        with transaction.atomic():
            locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
            if locked.is_open:
                _complete(locked, actor=None, note=_("Sans réponse : accepté d'office."), auto=True)
                counts["accepted"] += 1
    reminders = Transfer.objects.filter(
        status__in=OPEN_TRANSFER_STATUSES,
        requested_on__lte=today - timedelta(days=remind_days),
    ).exclude(reminded_on__gt=today - timedelta(days=remind_days))
    rows = list(reminders.values_list("pk", "from_service_id", "to_service_id"))
    if rows:
        Transfer.objects.filter(pk__in=[r[0] for r in rows]).update(reminded_on=today)
        _remind_directors(rows)
        counts["reminded"] = len(rows)
    return counts


def _remind_directors(rows) -> None:
    per_service: dict[int, int] = {}
    for _pk, sending, receiving in rows:
        for service_id in (sending, receiving):
            per_service[service_id] = per_service.get(service_id, 0) + 1
    directors = (
        Agent.objects.filter(role__in=(Role.DSPIP, Role.DPIP))
        .filter(Q(service_id__in=per_service) | Q(antenna__service_id__in=per_service))
        .exclude(user__email="")
        .select_related("user", "antenna")
    )

    def service_of(agent) -> int | None:
        return agent.service_id or (agent.antenna.service_id if agent.antenna else None)

    messages = [
        (
            _("Transferts en attente de réponse"),
            _(
                "Bonjour,\n\n%(n)s transfert(s) de dossier concernant votre service attendent "
                "une réponse. Sans réponse, un transfert est accepté d'office quand la personne "
                "n'a plus de rendez-vous au service d'origine.\n\nCe message est automatique."
            )
            % {"n": per_service[service]},
            None,
            [d.user.email],
        )
        for d in directors
        if (service := service_of(d)) in per_service
    ]
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
