"""Every write on measures."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from measures.models import ImposedObligation, Measure, MeasureType, ObligationType
from spip.audit import audit_write, snapshot
from spip.choices import AuditAction
from spip.validation import save_checked, validate


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
    errors: dict[str, str] = {}
    if measure_type.valid_from > judgment_date or (
        measure_type.valid_to and measure_type.valid_to < judgment_date
    ):
        errors["measure_type"] = _(
            "Ce type de mesure n'était pas en vigueur à la date du jugement."
        )
    tig_hours = fields.get("tig_hours")
    if tig_hours is not None:
        if measure_type.tig_hours_min is None:
            errors["tig_hours"] = _("Des heures de TIG ne s'appliquent pas à ce type de mesure.")
        elif (
            not measure_type.tig_hours_min <= tig_hours <= (measure_type.tig_hours_max or tig_hours)
        ):
            errors["tig_hours"] = _(
                "Le nombre d'heures doit être compris entre %(min)s et %(max)s."
            ) % {
                "min": measure_type.tig_hours_min,
                "max": measure_type.tig_hours_max,
            }
    if errors:
        raise ValidationError(errors)
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
