"""Every write on persons and case files. Each function validates, saves and audits."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.agenda.services import convocation_cancel
from cases.alerts.services import alerts_follow_owner
from cases.choices import (
    OPEN_STATUSES,
    CaseSetting,
    CaseStatus,
    ConvocationStatus,
)
from cases.models import (
    Case,
    Convocation,
    IntensityChange,
    Person,
    RiskAssessment,
)
from spip.audit import audit_write, diff, snapshot
from spip.choices import AuditAction, Role
from spip.models import Agent, Antenna, Prison
from spip.normalize import search_key
from spip.validation import save_checked, validate


def person_key(person: Person) -> str:
    """The person's search key, as every write of a person keeps it."""
    return search_key(person.usage_name or person.birth_name, person.first_names)


# A person followed by the SPIP is of age to be sentenced by an adult court's measures
# (13 at the very least) and alive: a birth date outside this span is a typing error.
AGE_RANGE = (13, 110)


def birth_date_check(birth_date: date | None, *, today: date | None = None) -> None:
    """A birth date a person followed can have: not in the future, not implausible."""
    if birth_date is None:
        return
    today = today or timezone.localdate()
    if birth_date > today:
        raise ValidationError({"birth_date": _("La date de naissance est dans le futur.")})
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    if not AGE_RANGE[0] <= age <= AGE_RANGE[1]:
        raise ValidationError(
            {
                "birth_date": _(
                    "Date de naissance invraisemblable (%(age)s ans) : vérifiez la saisie."
                )
                % {"age": age}
            }
        )


@transaction.atomic
def person_create(
    *, actor, service_id: int | None = None, note: dict | None = None, **fields
) -> Person:
    """Record a person. ``service_id``: the service whose file they are recorded for, so
    that its director sees the creation in the journal (a person belongs to no service);
    ``note``: what else the journal keeps (why a likely duplicate is another person)."""
    birth_date_check(fields.get("birth_date"))
    person = Person(
        **fields, created_by=actor if getattr(actor, "is_authenticated", False) else None
    )
    person.search_key = person_key(person)
    validate(person, unique=True)
    save_checked(person)
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=person,
        changes={**snapshot(person), **(note or {})},
        service_id=service_id,
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, **fields) -> Person:
    before = snapshot(person)
    for name, value in fields.items():
        setattr(person, name, value)
    person.search_key = person_key(person)
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


def _history_record(*, actor, case: Case, record, field: str, value: str):
    """Save a history row of ``case`` (a risk assessment, an intensity change) and carry
    ``value`` onto the case's ``field``, with one audit row naming the case."""
    changes = {field: [getattr(case, field), value]}
    Case.objects.filter(pk=case.pk).update(**{field: value})
    setattr(case, field, value)
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        object_repr=str(case),
        changes=changes,
        service_id=case.service_id,
    )
    return record


@transaction.atomic
def risk_assess(
    *, actor, case: Case, level: str, assessed_on: date, assessor: Agent | None, reason: str = ""
) -> RiskAssessment:
    """Record an assessment; the case carries the level of its latest one (an older
    assessment entered late does not override a newer)."""
    assessment = RiskAssessment(
        case=case, level=level, assessed_on=assessed_on, assessor=assessor, reason=reason
    )
    validate(assessment)
    save_checked(assessment)
    latest = (
        case.assessments.order_by("-assessed_on", "-id").values_list("level", flat=True).first()
        or level
    )
    return _history_record(
        actor=actor, case=case, record=assessment, field="risk_level", value=latest
    )


@transaction.atomic
def intensity_set(
    *, actor, case: Case, intensity: str, on: date, agent: Agent | None, reason: str = ""
) -> IntensityChange:
    change = IntensityChange(
        case=case, intensity=intensity, changed_on=on, changed_by=agent, reason=reason
    )
    validate(change)
    save_checked(change)
    return _history_record(
        actor=actor, case=case, record=change, field="intensity", value=intensity
    )


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
    if locked.status not in OPEN_STATUSES:
        raise ValidationError(
            _("Ce dossier est clos (transféré ou terminé) : il ne se modifie plus.")
        )
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
