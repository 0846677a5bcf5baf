"""Every write of the follow-up: interviews (with their proofs and next appointment),
incidents, reports to the judge, proofs, absence covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.agenda.models import Convocation
from cases.agenda.services import convocation_book, convocation_create, convocation_set_outcome
from cases.alerts.services import alerts_follow_owner
from cases.choices import (
    CONTACT,
    OPEN_STATUSES,
    Attendance,
    ConvocationStatus,
    ConvocationType,
    IncidentStatus,
    IssuedFrom,
    ReportKind,
    ReportStatus,
)
from cases.files.contacts import first_contact_refresh
from cases.files.models import Case
from cases.followup.models import Cover, Incident, Interview, Proof, Report, proof_path
from cases.followup.uploads import sniff
from spip.audit import audit_created, audit_write
from spip.choices import AuditAction, Role
from spip.models import Agent
from spip.validation import create_audited, save_checked, validate


@transaction.atomic
def interview_record(
    *,
    actor,
    case: Case,
    agent: Agent,
    held_at: datetime,
    kind: str,
    duration_minutes: int,
    attendance: str,
    notes: str = "",
    private_notes: str = "",
    convocation: Convocation | None = None,
) -> Interview:
    """Record an interview held (never one to come: that is a convocation). The case row
    is locked: an interview and a transfer or closing of the same file never cross."""
    if held_at > timezone.now():
        raise ValidationError({"held_at": _("Un entretien ne peut pas être saisi dans le futur.")})
    status = Case.objects.select_for_update().filter(pk=case.pk).values_list("status", flat=True)
    if status.first() not in OPEN_STATUSES:
        raise ValidationError(
            _("Ce dossier est clos (transféré ou terminé) : il ne se modifie plus.")
        )
    interview = Interview(
        case=case,
        agent=agent,
        held_at=held_at,
        kind=kind,
        duration_minutes=duration_minutes,
        attendance=attendance,
        notes=notes,
        private_notes=private_notes,
        convocation=convocation,
    )
    validate(interview)
    save_checked(interview)
    first_contact_refresh(case_ids=[case.pk])
    # Notes are personal data: the audit row says that they changed, not what they say.
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=interview,
        object_repr=str(case),
        changes={"kind": kind, "held_at": held_at, "attendance": attendance, "notes": "…"},
        service_id=case.service_id,
    )
    return interview


@dataclass(frozen=True)
class PastAppointment:
    """One appointment of a case's past: its outcome, and the interview held if honoured."""

    starts_at: datetime
    kind: str
    status: str = ConvocationStatus.BOOKED  # booked: held, outcome not recorded yet
    outcome_at: datetime | None = None
    interview_kind: str = ""
    duration_minutes: int = 30
    notes: str = ""


@transaction.atomic
def history_record(
    *, actor, case: Case, agent: Agent, appointments: list[PastAppointment], measure=None
) -> int:
    """A case's past follow-up written at once (an imported or seeded history): the past
    convocations with their outcomes and the interviews held, each validated, then inserted
    in bulk with one audit row each. Nothing in the future: that is a convocation to book."""
    now = timezone.now()
    if any(a.starts_at > now for a in appointments):
        raise ValidationError(_("Un historique ne contient que des rendez-vous passés."))
    convocations = [
        Convocation(
            case=case,
            measure=measure,
            kind=a.kind,
            antenna=case.antenna,
            starts_at=a.starts_at,
            issued_from=IssuedFrom.SPIP,
            status=a.status,
            outcome_recorded_at=a.outcome_at,
        )
        for a in appointments
    ]
    # Field by field here (the related rows are the case's own, already checked); the
    # table constraints hold at the insert, which is all or nothing.
    related = ["case", "measure", "antenna", "slot", "issued_by", "rescheduled_from"]
    for convocation in convocations:
        convocation.clean_fields(exclude=[*related, "request_token"])
    interviews = [
        Interview(
            case=case,
            agent=agent,
            held_at=a.starts_at,
            convocation=convocation,
            kind=a.interview_kind,
            duration_minutes=a.duration_minutes,
            attendance=Attendance.PRESENT,
            notes=a.notes,
        )
        for a, convocation in zip(appointments, convocations, strict=True)
        if a.interview_kind
    ]
    for interview in interviews:
        interview.clean_fields(exclude=["case", "agent", "convocation"])
    try:
        with transaction.atomic():
            Convocation.objects.bulk_create(convocations)
            # Each interview's convocation has its id now; bulk_create reads it.
            Interview.objects.bulk_create(interviews)
    except IntegrityError as error:
        raise ValidationError(
            _("Cet historique contredit le dossier : rien n'a été écrit.")
        ) from error
    first_contact_refresh(case_ids=[case.pk])
    audit_created(
        actor=actor,
        objects=convocations,
        service_id=case.service_id,
        changes=lambda c: {"kind": c.kind, "starts_at": c.starts_at, "status": c.status},
    )
    # Notes are personal data: the audit row says that they were written, not what they say.
    audit_created(
        actor=actor,
        objects=interviews,
        service_id=case.service_id,
        changes=lambda i: {"kind": i.kind, "held_at": i.held_at, "notes": "…"},
    )
    return len(convocations)


@transaction.atomic
def report_record(
    *,
    actor,
    case: Case,
    kind: str,
    measure=None,
    body: str = "",
    sent_on: date | None = None,
    author: Agent | None = None,
):

    report = Report(
        case=case,
        measure=measure,
        kind=kind,
        body=body,
        author=author,
        status=ReportStatus.SENT if sent_on else ReportStatus.DRAFT,
        sent_on=sent_on,
    )
    create_audited(
        actor=actor,
        obj=report,
        object_repr=str(case),
        service_id=case.service_id,
        changes={"kind": kind, "status": report.status, "sent_on": sent_on},
    )
    return report


@transaction.atomic
def incident_record(
    *,
    actor,
    case: Case,
    author: Agent,
    noticed_on: date,
    facts: str,
    measure=None,
    sent_on: date | None = None,
):

    incident = Incident(
        case=case,
        author=author,
        noticed_on=noticed_on,
        facts=facts,
        measure=measure,
        sent_on=sent_on,
        status=IncidentStatus.SENT if sent_on else IncidentStatus.DRAFT,
    )
    create_audited(
        actor=actor,
        obj=incident,
        object_repr=str(case),
        service_id=case.service_id,
        changes={"noticed_on": noticed_on},
    )
    return incident


@transaction.atomic
def proof_record(*, actor, case: Case, obligation, upload, received_on: date, interview=None):
    """Store a proof outside the web root, after checking its content and its obligation."""

    if obligation.measure.case_id != case.pk:
        raise ValidationError({"obligation": _("Cette obligation ne concerne pas ce dossier.")})
    content_type = sniff(upload)
    proof = Proof(
        case=case,
        obligation=obligation,
        interview=interview,
        received_on=received_on,
        original_name=(getattr(upload, "name", "") or "justificatif")[:200],
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )

    stored = proof.file.storage.save(proof_path(proof, proof.original_name), upload)
    proof.file.name = stored
    try:
        proof.save()
    except Exception:
        proof.file.storage.delete(stored)
        raise
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=proof,
        object_repr=str(case),
        service_id=case.service_id,
        changes={
            "obligation": obligation.obligation_type.code,
            "size": proof.size,
            "content_type": content_type,
        },
    )
    return proof


@transaction.atomic
def interview_log(
    *,
    actor,
    proofs: list | tuple = (),
    next_at: datetime | None = None,
    next_slot=None,
    next_kind: str = "follow_up",
    **fields,
) -> Interview:
    """The whole form in one transaction: the interview (``fields`` are those of
    ``interview_record``), its proofs, the convocation it honours, and the next
    appointment. Any error and nothing is written."""

    interview = interview_record(actor=actor, **fields)
    case, convocation, held_at = interview.case, interview.convocation, interview.held_at
    if convocation is not None and convocation.status == ConvocationStatus.BOOKED:
        convocation_set_outcome(
            actor=actor, convocation=convocation, status=ConvocationStatus.HONOURED
        )
    if next_slot is not None:
        try:
            convocation_book(
                actor=actor,
                case=case,
                slot=next_slot,
                kind=next_kind or ConvocationType.FOLLOW_UP,
                issued_from=IssuedFrom.SPIP,
                notify=False,
            )
        except ValidationError as error:  # the slot taken meanwhile, or past: the form's field
            raise ValidationError({"next_slot": error.messages}) from error
    if next_at is not None:
        if next_at <= timezone.now():
            raise ValidationError(
                {"next_at": _("Le prochain rendez-vous doit être dans le futur.")}
            )
        # The same next appointment given twice (two interviews logged, a form sent twice)
        # is one convocation.
        already = Convocation.objects.filter(
            case=case, starts_at=next_at, status=ConvocationStatus.BOOKED
        ).exists()
        if not already:
            convocation_create(
                actor=actor,
                case=case,
                kind=next_kind or ConvocationType.FOLLOW_UP,
                starts_at=next_at,
                issued_from=IssuedFrom.SPIP,
            )
    # Files last: every check that could refuse the form has passed.
    for obligation, upload in proofs:
        proof_record(
            actor=actor,
            case=case,
            obligation=obligation,
            upload=upload,
            received_on=held_at.date(),
            interview=interview,
        )
    return interview


@transaction.atomic
def cover_create(
    *, actor, absent: Agent, covering: Agent, starts_on: date, ends_on: date, reason: str = ""
):
    """Name a colleague to answer for an absent CPIP's cases. A cover that runs today takes
    over their open alerts at once; the alert job hands them over on the first day of a
    cover set in advance, and back the day after it ends."""

    if absent.service_id != covering.service_id or covering.role != Role.CPIP:
        raise ValidationError(
            {"covering_agent": _("L'intérimaire doit être un CPIP du même service.")}
        )
    cover = Cover(
        absent_agent=absent,
        covering_agent=covering,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        created_by=actor,
    )
    create_audited(
        actor=actor,
        obj=cover,
        service_id=absent.service_id,
        changes={"absent": absent.pk, "covering": covering.pk, "from": starts_on, "to": ends_on},
    )
    alerts_follow_owner(case_ids=Case.objects.filter(referent=absent).values("pk"))
    return cover


@transaction.atomic
def cover_end(*, actor, cover, on: date | None = None):
    """End a cover early: it last runs the day before ``on`` (today by default), and the
    absent CPIP, back, answers for their cases and their open alerts again."""

    day = on or timezone.localdate()
    cover = Cover.objects.select_for_update().get(pk=cover.pk)
    if cover.ends_on < day:
        raise ValidationError(_("Cet intérim est déjà terminé."))
    if cover.starts_on >= day:
        raise ValidationError(_("Cet intérim n'a pas commencé : supprimez-le plutôt."))
    before = {"ends_on": cover.ends_on}
    cover.ends_on = day - timedelta(days=1)
    cover.save(update_fields=["ends_on"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=cover,
        service_id=cover.absent_agent.service_id,
        changes={"ends_on": [before["ends_on"], cover.ends_on]},
    )
    alerts_follow_owner(
        case_ids=Case.objects.filter(referent_id=cover.absent_agent_id).values("pk"), day=day
    )
    return cover


# What the draft leaves for the CPIP to write: a report still saying it is not sent.
PLACEHOLDERS = ("à rédiger", "à préciser")


def _report_body(case: Case, kind: str, measure) -> str:
    """A first draft from the file's data; the CPIP edits it before sending."""

    person = case.person
    lines = [f"Personne suivie : {person.full_name}, né(e) le {person.birth_date:%d/%m/%Y}."]
    if measure is not None:
        lines.append(
            f"Mesure : {measure.measure_type.label} prononcée le {measure.judgment_date:%d/%m/%Y}"
            + (
                f", fin prévue le {measure.planned_end_date:%d/%m/%Y}."
                if measure.planned_end_date
                else "."
            )
        )
        obligations = [
            o.obligation_type.label for o in measure.obligations.select_related("obligation_type")
        ]
        if obligations:
            lines.append("Obligations : " + " ; ".join(obligations) + ".")
    year_ago = timezone.now() - timedelta(days=365)
    missed = list(
        Convocation.objects.filter(
            case=case, status=ConvocationStatus.MISSED, starts_at__gte=year_ago
        )
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )
    if kind == ReportKind.INCIDENT:
        lines.append("")
        lines.append("Faits :")
        if missed:
            dates = ", ".join(
                f"{d.astimezone(timezone.get_current_timezone()):%d/%m/%Y}" for d in missed
            )
            lines.append(f"- Convocations non honorées : {dates}.")
        lines.append("- Obligations non respectées : à préciser.")
        lines.append("")
        lines.append(
            "Proposition : à préciser (rappel des obligations, audition par le juge, révocation…)."
        )
    else:
        # Both counts over the same year, written out in French.
        # Held as the caseload counts a contact: present, or late.
        held = Interview.objects.filter(
            case=case, attendance__in=CONTACT, held_at__gte=year_ago
        ).count()
        lines.append("")
        lines.append(
            "Suivi sur les douze derniers mois : "
            + ngettext("%(n)s entretien réalisé", "%(n)s entretiens réalisés", held) % {"n": held}
            + ", "
            + ngettext(
                "%(n)s convocation non honorée.", "%(n)s convocations non honorées.", len(missed)
            )
            % {"n": len(missed)}
        )
        lines.append(
            f"Niveau de risque : {case.get_risk_level_display().lower()} ; "
            f"intensité : {case.get_intensity_display().lower()}."
        )
        lines.append("")
        lines.append("Évaluation : à rédiger.")
    return "\n".join(lines)


@transaction.atomic
def report_draft(*, actor, case: Case, kind: str, measure=None, author: Agent | None = None):

    if kind not in ReportKind.values:
        raise ValidationError({"kind": _("Type de rapport inconnu.")})
    measure = (
        measure
        or case.measures.filter(actual_end_date__isnull=True).order_by("-judgment_date").first()
    )
    return report_record(
        actor=actor,
        case=case,
        kind=kind,
        measure=measure,
        body=_report_body(case, kind, measure),
        author=author,
    )


@transaction.atomic
def report_update(*, actor, report, body: str, send: bool = False, author: Agent | None = None):
    """Edit a draft; sending fixes it (date sent) and, for an incident report, records the breach."""

    report = Report.objects.select_for_update().select_related("case").get(pk=report.pk)
    if report.status == ReportStatus.SENT:
        raise ValidationError(_("Un rapport transmis ne peut plus être modifié."))
    if len(body) > 20000:
        raise ValidationError({"body": _("Le rapport dépasse 20 000 caractères.")})
    if send:
        unwritten = [m for m in PLACEHOLDERS if m in body]
        if unwritten:
            raise ValidationError(
                {
                    "body": _(
                        "Le rapport ne peut pas être transmis : une partie reste à rédiger "
                        "(« %(mark)s »)."
                    )
                    % {"mark": unwritten[0]}
                }
            )
    before = {"status": report.status}
    report.body = body
    if send:
        report.status = ReportStatus.SENT
        report.sent_on = timezone.localdate()
    report.save(update_fields=["body", "status", "sent_on"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=report,
        object_repr=str(report.case),
        service_id=report.case.service_id,
        changes={"status": [before["status"], report.status]},
    )
    if send and report.kind == ReportKind.INCIDENT and author is not None:
        incident_record(
            actor=actor,
            case=report.case,
            author=author,
            noticed_on=timezone.localdate(),
            facts=body[:12000],
            measure=report.measure,
            sent_on=report.sent_on,
        )
    return report
