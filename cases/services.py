"""Every write on persons and case files. Each function validates, saves and audits."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.alerts.services import alerts_follow_owner
from cases.booking import convocation_cancel, convocation_set_outcome
from cases.choices import (
    CaseSetting,
    CaseStatus,
    ConvocationStatus,
    ConvocationType,
    IncidentStatus,
    IssuedFrom,
    MissedReaction,
    ReportKind,
    ReportStatus,
)
from cases.models import (
    Case,
    Convocation,
    Cover,
    Incident,
    IntensityChange,
    Interview,
    Person,
    Proof,
    Report,
    RiskAssessment,
    proof_path,
)
from cases.normalize import search_key
from cases.uploads import sniff
from spip.audit import audit_write, diff, snapshot
from spip.choices import AuditAction, Role
from spip.models import Agent, Antenna, Prison
from spip.validation import create_audited, save_checked, validate


def _person_key(person: Person) -> str:
    return search_key(person.usage_name or person.birth_name, person.first_names)


@transaction.atomic
def person_create(*, actor, service_id: int | None = None, **fields) -> Person:
    """Record a person. ``service_id``: the service whose file they are recorded for, so
    that its director sees the creation in the journal (a person belongs to no service)."""
    person = Person(
        **fields, created_by=actor if getattr(actor, "is_authenticated", False) else None
    )
    person.search_key = _person_key(person)
    validate(person, unique=True)
    save_checked(person)
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=person,
        changes=snapshot(person),
        service_id=service_id,
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, **fields) -> Person:
    before = snapshot(person)
    for name, value in fields.items():
        setattr(person, name, value)
    person.search_key = _person_key(person)
    validate(person, unique=True)
    save_checked(person)
    audit_write(
        actor=actor, action=AuditAction.UPDATE, obj=person, changes=diff(before, snapshot(person))
    )
    return person


@transaction.atomic
def case_open(
    *,
    actor,
    person: Person,
    antenna: Antenna,
    opened_on: date | None = None,
    setting: str = CaseSetting.OPEN,
    prison: Prison | None = None,
    referent: Agent | None = None,
) -> Case:
    """Open a file for ``person`` in the antenna's service; awaiting allocation unless a
    referent is given."""
    if referent is not None:
        _check_referent(referent, antenna)
    case = Case(
        person=person,
        service_id=antenna.service_id,
        antenna=antenna,
        setting=setting,
        prison=prison,
        referent=referent,
        status=CaseStatus.ACTIVE if referent else CaseStatus.AWAITING_ALLOCATION,
        opened_on=opened_on or timezone.localdate(),
        allocated_on=(opened_on or timezone.localdate()) if referent else None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    validate(case)
    save_checked(case)
    audit_write(actor=actor, action=AuditAction.CREATE, obj=case, changes=snapshot(case))
    return case


def _check_referent(referent: Agent, antenna: Antenna) -> None:
    if referent.role != Role.CPIP or referent.service_id != antenna.service_id:
        raise ValidationError({"referent": _("Le référent doit être un CPIP du service.")})


def _case_save(actor, case: Case, before: dict) -> Case:
    """Save the fields snapshotted in ``before`` (the version among them) with a new
    version, and audit the change."""
    case.version += 1
    case.save(update_fields=list(before))
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        changes=diff(before, snapshot(case, before)),
    )
    return case


@transaction.atomic
def case_assign(*, actor, case: Case, referent: Agent, on: date | None = None) -> Case:
    """Allocate (or reallocate) a case to a CPIP of its service."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    _check_referent(referent, case.antenna)
    before = snapshot(case, ["referent_id", "status", "allocated_on", "version"])
    case.referent = referent
    if case.status == CaseStatus.AWAITING_ALLOCATION:
        case.status = CaseStatus.ACTIVE
        case.allocated_on = on or timezone.localdate()
    _case_save(actor, case, before)
    # The case's open alerts go to whoever now answers for it, in this transaction.
    alerts_follow_owner(case_ids=[case.pk])
    return case


@transaction.atomic
def risk_assess(
    *, actor, case: Case, level: str, assessed_on: date, assessor: Agent | None, reason: str = ""
) -> RiskAssessment:
    assessment = RiskAssessment(
        case=case, level=level, assessed_on=assessed_on, assessor=assessor, reason=reason
    )
    validate(assessment)
    save_checked(assessment)
    latest = (
        case.assessments.order_by("-assessed_on", "-id").values_list("level", flat=True).first()
        or level
    )
    changes = {"level": [case.risk_level, latest]}
    Case.objects.filter(pk=case.pk).update(risk_level=latest)
    case.risk_level = latest
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=assessment,
        object_repr=str(case),
        changes=changes,
        service_id=case.service_id,
    )
    return assessment


@transaction.atomic
def intensity_set(
    *, actor, case: Case, intensity: str, on: date, agent: Agent | None, reason: str = ""
) -> IntensityChange:
    change = IntensityChange(
        case=case, intensity=intensity, changed_on=on, changed_by=agent, reason=reason
    )
    validate(change)
    save_checked(change)
    changes = {"intensity": [case.intensity, intensity]}
    Case.objects.filter(pk=case.pk).update(intensity=intensity)
    case.intensity = intensity
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=change,
        object_repr=str(case),
        changes=changes,
        service_id=case.service_id,
    )
    return change


@transaction.atomic
def convocation_create(
    *,
    actor,
    case: Case,
    kind: str,
    starts_at: datetime,
    issued_from: str = IssuedFrom.SPIP,
    antenna: Antenna | None = None,
    duration_minutes: int = 30,
    measure=None,
    allow_past: bool = False,
) -> Convocation:
    """An appointment at a free time (slot booking with capacity comes with the agendas)."""
    if not allow_past and starts_at < timezone.now():
        raise ValidationError({"starts_at": _("La convocation ne peut pas être dans le passé.")})
    convocation = Convocation(
        case=case,
        measure=measure,
        kind=kind,
        antenna=antenna or case.antenna,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        issued_from=issued_from,
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    create_audited(
        actor=actor,
        obj=convocation,
        changes=snapshot(convocation),
        service_id=case.service_id,
    )
    return convocation


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
    """Record an interview held (never one to come: that is a convocation)."""
    if held_at > timezone.now():
        raise ValidationError({"held_at": _("Un entretien ne peut pas être saisi dans le futur.")})
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


@transaction.atomic
def case_close(*, actor, case: Case, on: date) -> Case:
    """Close a case whose measures have all ended."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.measures.filter(actual_end_date__isnull=True).exists():
        raise ValidationError(_("Une mesure du dossier est encore en cours."))
    before = snapshot(case, ["status", "closed_on", "version"])
    case.status = CaseStatus.CLOSED
    case.closed_on = on
    _case_save(actor, case, before)
    # Appointments still to come are cancelled, each with its audit row, and their
    # reminders withdrawn (no message: the closing letter tells the person).
    upcoming = Convocation.objects.filter(
        case=case, status=ConvocationStatus.BOOKED, starts_at__gt=timezone.now()
    ).order_by("starts_at")
    for convocation in upcoming:
        convocation_cancel(
            actor=actor, convocation=convocation, reason=_("Dossier clos"), notify=False
        )
    return case


@transaction.atomic
def alert_snooze(*, actor, alert, until: date, reason: str):
    """Hide an open alert until a date, with a reason. The condition still closes it."""
    if not reason.strip():
        raise ValidationError({"snooze_reason": _("Indiquez le motif du report.")})
    if until <= timezone.localdate():
        raise ValidationError({"snoozed_until": _("La date de report doit être dans le futur.")})
    if alert.closed_at is not None:
        raise ValidationError(_("Cette alerte est déjà close."))
    before = {"snoozed_until": alert.snoozed_until, "snooze_reason": alert.snooze_reason}
    alert.snoozed_until = until
    alert.snooze_reason = reason.strip()[:255]
    alert.save(update_fields=["snoozed_until", "snooze_reason"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=alert,
        service_id=alert.case.service_id,
        changes={k: [v, getattr(alert, k)] for k, v in before.items()},
    )
    return alert


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
    case: Case,
    agent: Agent,
    held_at: datetime,
    kind: str,
    duration_minutes: int,
    attendance: str,
    notes: str = "",
    private_notes: str = "",
    convocation: Convocation | None = None,
    proofs: list | tuple = (),
    next_at: datetime | None = None,
    next_kind: str = "follow_up",
) -> Interview:
    """The whole form in one transaction: the interview, its proofs, the convocation it
    honours, and the next appointment. Any error and nothing is written."""

    interview = interview_record(
        actor=actor,
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
    if convocation is not None and convocation.status == ConvocationStatus.BOOKED:
        convocation_set_outcome(
            actor=actor, convocation=convocation, status=ConvocationStatus.HONOURED
        )
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
def convocation_react(
    *, actor, convocation: Convocation, reaction: str, new_at: datetime | None = None
) -> Convocation:
    """What was done after a missed convocation (the alert jobs chase those without)."""

    convocation = (
        Convocation.objects.select_for_update().select_related("case").get(pk=convocation.pk)
    )
    if convocation.status != ConvocationStatus.MISSED:
        raise ValidationError(_("Seule une convocation non honorée appelle une suite."))
    if reaction not in MissedReaction.values:
        raise ValidationError({"reaction": _("Choisissez une suite.")})
    if reaction == MissedReaction.NEW_CONVOCATION:
        if new_at is None:
            raise ValidationError({"new_at": _("Indiquez la date de la nouvelle convocation.")})
        convocation_create(
            actor=actor,
            case=convocation.case,
            kind=ConvocationType.FOLLOW_UP,
            starts_at=new_at,
            issued_from=IssuedFrom.SPIP,
            measure=convocation.measure,
        )
    convocation.reaction = reaction
    convocation.reaction_at = timezone.now()
    convocation.save(update_fields=["reaction", "reaction_at"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=convocation,
        service_id=convocation.case.service_id,
        changes={"reaction": ["", reaction]},
    )
    return convocation


@transaction.atomic
def case_follow_up_update(
    *,
    actor,
    case: Case,
    version: int,
    risk_level: str,
    intensity: str,
    reason: str,
    agent: Agent | None,
    on: date | None = None,
) -> Case:
    """Change the risk level and/or the intensity, with a reason. Optimistic check: the
    form carries the version it was drawn from; if the case changed since (another tab,
    a colleague), nothing is written and the user is told."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.version != version:
        raise ValidationError(
            _(
                "Le dossier a été modifié entre-temps (par vous dans un autre onglet ou par un collègue). "
                "Rechargez la page pour voir la version à jour, puis refaites votre modification."
            )
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif du changement.")})
    day = on or timezone.localdate()
    if risk_level != locked.risk_level:
        risk_assess(
            actor=actor,
            case=locked,
            level=risk_level,
            assessed_on=day,
            assessor=agent,
            reason=reason,
        )
    if intensity != locked.intensity:
        intensity_set(
            actor=actor, case=locked, intensity=intensity, on=day, agent=agent, reason=reason
        )
    Case.objects.filter(pk=locked.pk).update(version=locked.version + 1)
    locked.refresh_from_db()
    return locked


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
        interviews = Interview.objects.filter(case=case)
        held = interviews.filter(attendance="present").count()
        lines.append("")
        lines.append(
            f"Suivi : {held} entretien(s) réalisé(s), {len(missed)} convocation(s) non honorée(s) sur un an."
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
