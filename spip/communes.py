"""Which service is competent for a commune: the commune table first; failing that, the
département read from the postal code (Corsica's 20xxx split into 2A and 2B, overseas
départements on three digits)."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable

from django.db import transaction

from spip.audit import audit_write
from spip.choices import AuditAction
from spip.models import Antenna, Commune, Service
from spip.normalize import search_key


def department_of_postal_code(postal_code: str) -> str | None:
    """The département of a postal code: overseas on three digits, Corsica's 200xx-201xx
    Corse-du-Sud and the rest (202xx, 206xx) Haute-Corse."""
    code = (postal_code or "").strip()
    if len(code) != 5 or not code.isdigit():
        return None
    if code.startswith(("97", "98")):
        return code[:3]
    if code.startswith("20"):
        return "2A" if int(code[:3]) < 202 else "2B"
    return code[:2]


def department_of_insee(insee_code: str) -> str:
    code = insee_code.strip().upper()
    return code[:3] if code.startswith("97") else code[:2]


def commune_for(postal_code: str, name: str = "") -> Commune | None:
    """The commune of an address: by postal code and name, or the postal code's only
    commune."""
    rows = list(Commune.objects.filter(postal_code=(postal_code or "").strip()))
    key = search_key(name)
    named = [c for c in rows if c.search_key == key]
    if named:
        return named[0]
    return rows[0] if len(rows) == 1 else None


def competent_service(postal_code: str, name: str = "") -> tuple[Service | None, Antenna | None]:
    commune = commune_for(postal_code, name)
    if commune is not None:
        return commune.service, commune.antenna
    department = department_of_postal_code(postal_code)
    service = Service.objects.filter(code=department).first() if department else None
    return service, None


@transaction.atomic
def communes_load(lines: Iterable[str], *, actor=None) -> Counter:
    """Load ``insee_code;name;postal_code[;antenna]`` rows (a header line first): created,
    updated, or refused when the département has no service or the antenna is unknown.
    Idempotent: loading the same file twice changes nothing."""
    counts: Counter = Counter()
    services = {s.code: s for s in Service.objects.all()}
    antennas = {(a.service_id, search_key(a.name)): a for a in Antenna.objects.all()}
    for row in csv.DictReader(lines, delimiter=";"):
        insee = (row.get("insee_code") or "").strip().upper()
        service = services.get(department_of_insee(insee)) if len(insee) == 5 else None
        if service is None:
            counts["refused"] += 1
            continue
        antenna_name = (row.get("antenna") or "").strip()
        antenna = antennas.get((service.pk, search_key(antenna_name))) if antenna_name else None
        if antenna_name and antenna is None:
            counts["refused"] += 1
            continue
        values = {
            "name": row["name"].strip(),
            "postal_code": row["postal_code"].strip(),
            "search_key": search_key(row["name"]),
            "service": service,
            "antenna": antenna,
        }
        commune = Commune.objects.filter(insee_code=insee).first()
        if commune is None:
            Commune.objects.create(insee_code=insee, **values)
            counts["created"] += 1
        elif any(getattr(commune, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(commune, k, v)
            commune.save()
            counts["updated"] += 1
    if not (counts["created"] or counts["updated"]):
        return counts
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="spip.commune",
        object_repr="Table des communes",
        changes=dict(counts),
    )
    return counts
