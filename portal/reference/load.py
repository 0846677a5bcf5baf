"""Idempotent load of the reference data: running it twice changes nothing."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from django.db import transaction

from cases.workload.models import AlertSettings, ReferenceNorm, WorkloadPolicy
from measures.models import DeadlineRule, MeasureType, ObligationType
from portal.reference import data
from spip.audit import audit_write
from spip.choices import AuditAction
from spip.models import InterregionalUnit, Service

SERVICES_CSV = Path(__file__).with_name("services.csv")


def _upsert(model, lookup: dict, defaults: dict, counts: Counter, create_only: dict | None = None):
    """Create the row, or bring the listed fields back to the reference values.
    ``create_only`` fields are set at creation and then left to the administrators."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **defaults, **(create_only or {}))
        counts["created"] += 1
        return obj
    changed = [k for k, v in defaults.items() if getattr(obj, k) != v]
    if changed:
        for k in changed:
            setattr(obj, k, defaults[k])
        obj.save(update_fields=changed)
        counts["updated"] += 1
    return obj


@transaction.atomic
def reference_load(*, actor=None) -> Counter:

    counts: Counter = Counter()
    units = {
        code: _upsert(InterregionalUnit, {"code": code}, {"name": name}, counts)
        for code, name in data.INTERREGIONAL_UNITS
    }
    with SERVICES_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            code = row["code"]
            _upsert(
                Service,
                {"code": code},
                {
                    "name": row["name"],
                    "department_name": row["department_name"],
                    "seat_city": row["seat_city"],
                    "interregional_unit": units[row["disp"]],
                    "time_zone": data.TIME_ZONES.get(code, "Europe/Paris"),
                    "holiday_subdivision": data.HOLIDAY_SUBDIVISIONS.get(code, ""),
                },
                counts,
                create_only={"seat_address": row["seat_city"]},
            )

    measure_types = {}
    for (
        code,
        legacy,
        label,
        category,
        setting,
        basis,
        min_m,
        max_m,
        tig_min,
        tig_max,
        valid_from,
        valid_to,
        check,
        notes,
    ) in data.MEASURE_TYPES:
        measure_types[code] = _upsert(
            MeasureType,
            {"code": code},
            {
                "legacy_code": legacy,
                "label": label,
                "category": category,
                "setting": setting,
                "legal_basis": basis,
                "min_duration_months": min_m,
                "max_duration_months": max_m,
                "tig_hours_min": tig_min,
                "tig_hours_max": tig_max,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "needs_legal_check": check,
                "notes": notes,
            },
            counts,
        )
    for code, family, group, article, label, proof, hint, check in data.OBLIGATION_TYPES:
        _upsert(
            ObligationType,
            {"code": code},
            {
                "family": family,
                "group": group,
                "article": article,
                "label": label,
                "needs_proof": proof,
                "proof_hint": hint,
                "needs_legal_check": check,
                "valid_from": data.D1994,
            },
            counts,
        )
    for (
        code,
        version,
        label,
        trigger,
        target,
        amount,
        unit,
        codes,
        condition,
        reference,
        check,
        valid_from,
    ) in data.DEADLINE_RULES:
        rule = _upsert(
            DeadlineRule,
            {"code": code, "version": version},
            {
                "label": label,
                "trigger": trigger,
                "target": target,
                "amount": amount,
                "unit": unit,
                "condition": condition,
                "provisionally_enforceable": data.ENFORCEABLE.get(code),
                "legal_reference": reference,
                "needs_legal_check": check,
                "valid_from": valid_from,
            },
            counts,
        )
        wanted = {measure_types[c].pk for c in codes}
        if set(rule.measure_types.values_list("pk", flat=True)) != wanted:
            rule.measure_types.set(wanted)

    # The default policy is created once; later versions are the administrators' to write.
    if not WorkloadPolicy.objects.exists():
        WorkloadPolicy.objects.create(**data.WORKLOAD_POLICY)
        counts["created"] += 1
    if not AlertSettings.objects.exists():
        AlertSettings.objects.create(valid_from=data.WORKLOAD_POLICY["valid_from"])
        counts["created"] += 1
    for code, label, value, source in data.REFERENCE_NORMS:
        _upsert(
            ReferenceNorm,
            {"code": code},
            {"label": label, "persons_per_agent": value, "source": source},
            counts,
        )

    if counts:
        audit_write(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="reference",
            object_repr="Chargement des données de référence",
            changes=dict(counts),
        )
    return counts
