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
from spip.communes import communes_load
from spip.models import InterregionalUnit, Service

SERVICES_CSV = Path(__file__).with_name("services.csv")


def _catalogue(name: str, model) -> list[dict]:
    """The rows of ``<name>.csv``, each value converted by its model field (an empty cell
    is None where the field allows it); a column that is not a concrete field (a
    many-to-many's codes) stays text."""
    with Path(__file__).with_name(f"{name}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for row in rows:
        for column, text in row.items():
            field = model._meta.get_field(column)
            if field.many_to_many:
                continue
            row[column] = None if text == "" and field.null else field.to_python(text)
    return rows


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

    measure_types = {
        row["code"]: _upsert(MeasureType, {"code": row.pop("code")}, row, counts)
        for row in _catalogue("measure_types", MeasureType)
    }
    for row in _catalogue("obligation_types", ObligationType):
        _upsert(ObligationType, {"code": row.pop("code")}, row, counts)
    for row in _catalogue("deadline_rules", DeadlineRule):
        codes = row.pop("measure_types")
        lookup = {"code": row.pop("code"), "version": row.pop("version")}
        rule = _upsert(DeadlineRule, lookup, row, counts)
        wanted = {measure_types[c].pk for c in codes.split()}
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

    # A sample of the commune table (the whole INSEE list is loaded with communes_load).
    with Path(__file__).with_name("communes.csv").open(encoding="utf-8") as handle:
        communes = communes_load(handle, actor=actor)
    counts.update({k: v for k, v in communes.items() if k != "refused"})

    if counts:
        audit_write(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="reference",
            object_repr="Chargement des données de référence",
            changes=dict(counts),
        )
    return counts
