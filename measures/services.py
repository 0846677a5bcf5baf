"""Every write on measures."""

from __future__ import annotations

import calendar
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from measures.models import ImposedObligation, Measure, MeasureType, ObligationType
from spip.audit import audit_write, snapshot
from spip.choices import AuditAction
from spip.validation import save_checked, validate

# The longest a court may give to complete a TIG (131-22 CP: 18 months at most).
TIG_DEADLINE_MONTHS = 18


def measure_terms_check(
    *, measure_type: MeasureType, judgment_date: date, tig_hours=None, tig_deadline=None
) -> None:
    """What a measure pronounced at a hearing must say, checked before anything is written
    (the desk calls it as soon as the form is sent, ``measure_record`` again): the type in
    force on the judgment date; for a TIG, its hours within the legal range and a deadline
    after the judgment, 18 months at most. ValidationError with field errors."""
    errors: dict[str, str] = {}
    if measure_type.valid_from > judgment_date or (
        measure_type.valid_to and measure_type.valid_to < judgment_date
    ):
        errors["measure_type"] = _(
            "Ce type de mesure n'était pas en vigueur à la date du jugement."
        )
    if measure_type.tig_hours_min is None:
        if tig_hours is not None:
            errors["tig_hours"] = _("Des heures de TIG ne s'appliquent pas à ce type de mesure.")
    else:
        low, high = measure_type.tig_hours_min, measure_type.tig_hours_max
        if tig_hours is None:
            errors["tig_hours"] = _("Indiquez le nombre d'heures de TIG prononcées.")
        elif not low <= tig_hours <= (high or tig_hours):
            errors["tig_hours"] = _(
                "Le nombre d'heures doit être compris entre %(min)s et %(max)s."
            ) % {"min": low, "max": high}
        if tig_deadline is not None:
            if tig_deadline <= judgment_date:
                errors["tig_deadline"] = _("La date limite du TIG doit suivre la date du jugement.")
            elif tig_deadline > _months_after(judgment_date, TIG_DEADLINE_MONTHS):
                errors["tig_deadline"] = _(
                    "Le délai d'exécution d'un TIG ne peut dépasser 18 mois après le jugement."
                )
    if errors:
        raise ValidationError(errors)


def _months_after(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


@transaction.atomic
def measure_record(
    *,
    actor,
    case,
    measure_type: MeasureType,
    court,
    judgment_date: date,
    obligations: list[ObligationType] | tuple[ObligationType, ...] = (),
    **fields,
) -> Measure:
    """Record a measure pronounced by ``court`` with its obligations, in one transaction."""
    measure_terms_check(
        measure_type=measure_type,
        judgment_date=judgment_date,
        tig_hours=fields.get("tig_hours"),
        tig_deadline=fields.get("tig_deadline"),
    )
    measure = Measure(
        case=case,
        measure_type=measure_type,
        court=court,
        judgment_date=judgment_date,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
    )
    validate(measure)
    save_checked(measure)
    ImposedObligation.objects.bulk_create(
        ImposedObligation(measure=measure, obligation_type=o) for o in obligations
    )
    changes = snapshot(measure)
    changes["obligations"] = [o.code for o in obligations]
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=measure,
        changes=changes,
        service_id=case.service_id,
    )
    return measure


@transaction.atomic
def measure_end(*, actor, measure: Measure, end_date: date, reason: str) -> Measure:
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    before = {"actual_end_date": measure.actual_end_date, "end_reason": measure.end_reason}
    measure.actual_end_date = end_date
    measure.end_reason = reason
    validate(measure)
    measure.save(update_fields=["actual_end_date", "end_reason"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=measure,
        changes={k: [v, getattr(measure, k)] for k, v in before.items()},
        service_id=measure.case.service_id,
    )
    return measure
