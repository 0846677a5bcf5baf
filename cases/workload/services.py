"""Every write of the workload sub-domain: allocating arrivals, reassigning cases."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import CaseStatus
from cases.files.services import case_assign
from cases.models import Case
from cases.workload.models import CapacityReduction
from cases.workload.selectors import allocation_options, reassignment_impact
from spip.audit import audit_write
from spip.choices import AuditAction
from spip.jobs import job_enqueue
from spip.models import Agent
from spip.validation import create_audited


@transaction.atomic
def case_allocate(
    *, actor, case: Case, referent: Agent, reason: str = "", on: date | None = None
) -> Case:
    """Allocate an arrival from the ranking: someone other than the top choice needs a reason.

    The CPIP is told by email once the allocation is committed."""
    day = on or timezone.localdate()
    options = allocation_options(case, day)
    if referent.pk not in {o["agent"].pk for o in options}:
        raise ValidationError(
            {"referent": _("Choisissez un CPIP en poste dans l'antenne du dossier.")}
        )
    if options and options[0]["agent"].pk != referent.pk and not reason.strip():
        raise ValidationError(
            {
                "reason": _(
                    "Indiquez pourquoi vous n'attribuez pas le dossier au CPIP le moins chargé."
                )
            }
        )
    case = case_assign(actor=actor, case=case, referent=referent, on=day)
    chosen = next(o for o in options if o["agent"].pk == referent.pk)
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        changes={
            "allocation": {
                "before": str(chosen["before"]),
                "after": str(chosen["after"]),
                "reason": reason.strip(),
                "rank": [o["agent"].pk for o in options].index(referent.pk) + 1,
            },
        },
    )
    transaction.on_commit(lambda: _notify_allocation(case.pk, referent.pk))
    return case


@transaction.atomic
def cases_allocate_to_top(*, actor, cases, on: date | None = None) -> list[tuple[Case, Agent]]:
    """Allocate ``cases`` one after the other, each to the CPIP then on top of the ranking
    (absent CPIPs skipped), all or nothing."""
    day = on or timezone.localdate()
    done = []
    for case in cases:
        options = [o for o in allocation_options(case, day) if not o["absent"]]
        if options:
            top = options[0]["agent"]
            case_allocate(actor=actor, case=case, referent=top, on=day)
            done.append((case, top))
    return done


@transaction.atomic
def case_reassign(
    *, actor, case: Case, referent: Agent, reason: str, on: date | None = None
) -> dict:
    """Move a followed case to another CPIP of its antenna, with a reason, from a director's
    dashboard. Returns the impact ("X % → Y %" for both CPIPs, ``reassignment_impact``)
    and the run that recomputes the service's snapshots once this has committed."""
    day = on or timezone.localdate()
    if case.status not in (CaseStatus.ACTIVE, CaseStatus.SUSPENDED) or case.referent_id is None:
        raise ValidationError(_("Seul un dossier suivi peut être réaffecté."))
    if referent.pk == case.referent_id:
        raise ValidationError({"referent": _("Le dossier est déjà suivi par ce CPIP.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif de la réaffectation.")})
    options = {o["agent"].pk: o for o in allocation_options(case, day)}
    if referent.pk not in options:
        raise ValidationError(
            {"referent": _("Choisissez un CPIP en poste dans l'antenne du dossier.")}
        )
    impact = {**reassignment_impact(case, options[referent.pk], day), "reason": reason.strip()}
    case = case_assign(actor=actor, case=case, referent=referent, on=day)
    audit_write(actor=actor, action=AuditAction.UPDATE, obj=case, changes={"reassignment": impact})
    transaction.on_commit(lambda: _notify_allocation(case.pk, referent.pk))
    # The service's snapshots are recomputed in the background once this commits (without
    # the delays: a reassignment changes loads, not delays); the page says it is on its way.
    run = job_enqueue(
        "reporting.tasks.workload_snapshot_compute",
        job="workload_snapshot_compute",
        service_id=case.service_id,
        day=day.isoformat(),
        delays=False,
    )
    return {**impact, "run": run.pk}


def _notify_allocation(case_id: int, agent_id: int) -> None:

    agent = Agent.objects.select_related("user").get(pk=agent_id)
    if not agent.user.email:
        return
    send_mail(
        subject=_("Nouveau dossier attribué"),
        message=_("Le dossier n° %(id)s vous a été attribué. Il figure dans votre portefeuille.")
        % {"id": case_id},
        from_email=None,
        recipient_list=[agent.user.email],
        fail_silently=True,
    )


@transaction.atomic
def capacity_reduction_create(
    *,
    actor,
    agent: Agent,
    kind: str,
    percent: int,
    starts_on: date,
    ends_on: date | None,
    note: str,
) -> CapacityReduction:
    """A head of antenna or director records a share of a CPIP's time that does not go to
    the caseload (training, union time, part-time…): the reason is required, the dates in
    order, the share between 1 and 100 %. The service's loads are recomputed once this
    has committed."""
    if not note.strip():
        raise ValidationError({"note": _("Indiquez le motif de la réduction.")})
    if not 1 <= percent <= 100:
        raise ValidationError(
            {"percent": _("La part du temps doit être comprise entre 1 et 100 %.")}
        )
    reduction = CapacityReduction(
        agent=agent,
        kind=kind,
        percent=percent,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note.strip(),
    )
    create_audited(
        actor=actor,
        obj=reduction,
        service_id=agent.service_id,
        object_repr=f"{agent} — {percent} %",
    )
    job_enqueue(
        "reporting.tasks.workload_snapshot_compute",
        job="workload_snapshot_compute",
        service_id=agent.service_id,
        delays=False,
    )
    return reduction
