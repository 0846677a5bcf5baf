"""One person, one record: likely duplicates found by deterministic rules, reviewed and
merged by a director after a side-by-side preview, with a reason; a merge moves the
files (and with them convocations, interviews, measures, history), is audited, and can
be undone within a period.

Rules (a pair is proposed by the first that holds):
- ``names_birth``: the same birth date, the same first first name, and a birth or usage
  name in common once accents, case and hyphens are folded;
- ``names_phone``: the same first first name and name, and the same phone number.
(The national number is unique: two records cannot share one.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import OPEN_STATUSES
from cases.models import Case, Person, PersonMerge
from spip.access import scope_for
from spip.audit import audit_write
from spip.choices import AuditAction
from spip.normalize import search_key

UNDO_DAYS = 30


def _names(person: Person) -> set[str]:
    return {k for k in (search_key(person.birth_name), search_key(person.usage_name)) if k}


def _first(person: Person) -> str:
    key = search_key(person.first_names)
    return key.split(" ", 1)[0] if key else ""


def _phone(person: Person) -> str:
    return "".join(c for c in person.phone if c.isdigit())[-9:]


def same_person_rule(a: Person, b: Person) -> str:
    """The rule by which two records look like one person, or ""."""
    if _first(a) != _first(b) or not (_names(a) & _names(b)):
        return ""
    if a.birth_date == b.birth_date:
        return "names_birth"
    if _phone(a) and _phone(a) == _phone(b):
        return "names_phone"
    return ""


@dataclass(frozen=True)
class Candidate:
    first: Person
    second: Person
    rule: str


def candidates(user, limit: int = 200) -> list[Candidate]:
    """Likely duplicates among the persons the user reads (a director's service), both
    records readable, not merged already. Grouped by birth date and by phone in SQL; the
    names compared in Python within each group."""
    if not scope_for(user).allocates:
        return []
    persons = list(
        Person.objects.visible_to(user)
        .filter(merged_into__isnull=True)
        .only("id", "birth_name", "usage_name", "first_names", "birth_date", "phone")
        .order_by("id")
    )
    groups: dict[tuple, list[Person]] = {}
    for p in persons:
        groups.setdefault(("birth", p.birth_date), []).append(p)
        if _phone(p):
            groups.setdefault(("phone", _phone(p)), []).append(p)
    found: dict[tuple[int, int], Candidate] = {}
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                rule = same_person_rule(a, b)
                if rule and (a.pk, b.pk) not in found:
                    found[(a.pk, b.pk)] = Candidate(a, b, rule)
    return sorted(found.values(), key=lambda c: (c.first.pk, c.second.pk))[:limit]


def _director(actor, *persons: Person) -> None:
    scope = scope_for(actor)
    if not scope.allocates:
        raise PermissionDenied
    visible = Person.objects.visible_to(actor).filter(pk__in=[p.pk for p in persons]).count()
    if visible != len(persons):
        raise PermissionDenied


@transaction.atomic
def person_merge(*, actor, kept: Person, merged: Person, reason: str) -> PersonMerge:
    """Move ``merged``'s files to ``kept``. Refused: the same record, records that do not
    match a rule, one already merged, or two open files in one service (close or
    transfer one first). Two directors merging the same pair: the second is told."""
    if kept.pk == merged.pk:
        raise ValidationError(_("Choisissez deux fiches différentes."))
    _director(actor, kept, merged)
    if not reason.strip():
        raise ValidationError(
            {"reason": _("Indiquez pourquoi ces deux fiches sont une seule personne.")}
        )
    # Lock both records in a fixed order: two merges of the same pair wait for each other.
    locked = {
        p.pk: p
        for p in Person.objects.select_for_update()
        .filter(pk__in=[kept.pk, merged.pk])
        .order_by("pk")
    }
    kept, merged = locked[kept.pk], locked[merged.pk]
    if kept.merged_into_id or merged.merged_into_id:
        raise ValidationError(_("L'une de ces fiches a déjà été fusionnée."))
    rule = same_person_rule(kept, merged)
    if not rule:
        raise ValidationError(
            _("Ces fiches ne correspondent pas assez (noms, prénom, naissance ou téléphone).")
        )
    cases = list(Case.objects.select_for_update().filter(person=merged).order_by("pk"))
    open_services = set(
        Case.objects.filter(person=kept, status__in=OPEN_STATUSES).values_list(
            "service_id", flat=True
        )
    )
    clash = [c for c in cases if c.status in OPEN_STATUSES and c.service_id in open_services]
    if clash:
        raise ValidationError(
            _(
                "Les deux fiches ont un dossier ouvert dans le même service (%(service)s) : "
                "clôturez ou transférez l'un des deux d'abord."
            )
            % {"service": clash[0].service}
        )
    moved = [c.pk for c in cases]
    Case.objects.filter(pk__in=moved).update(person=kept)
    for field in (
        "usage_name",
        "phone",
        "email",
        "national_number",
        "address",
        "postal_code",
        "commune",
    ):
        if not getattr(kept, field) and getattr(merged, field):
            setattr(kept, field, getattr(merged, field))
            if field == "national_number":
                Person.objects.filter(pk=merged.pk).update(national_number=None)
    kept.save()
    Person.objects.filter(pk=merged.pk).update(merged_into=kept)
    merge = PersonMerge.objects.create(
        kept=kept, merged=merged, reason=reason.strip()[:255], rule=rule, moved_cases=moved,
        merged_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    for person, role in ((kept, "kept"), (merged, "merged")):
        audit_write(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=person,
            changes={"merge": merge.pk, "role": role, "cases": moved, "reason": reason},
        )
    return merge


@transaction.atomic
def person_unmerge(*, actor, merge: PersonMerge) -> PersonMerge:
    """Undo within the period: the moved files go back to the merged record."""
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    _director(actor, merge.kept)
    if merge.undone_at is not None:
        raise ValidationError(_("Cette fusion a déjà été annulée."))
    if timezone.now() - merge.merged_at > timedelta(days=UNDO_DAYS):
        raise ValidationError(
            _("Une fusion s'annule dans les %(days)s jours.") % {"days": UNDO_DAYS}
        )
    Case.objects.filter(pk__in=merge.moved_cases, person=merge.kept).update(person=merge.merged)
    Person.objects.filter(pk=merge.merged_id).update(merged_into=None)
    merge.undone_at = timezone.now()
    merge.undone_by = actor if getattr(actor, "is_authenticated", False) else None
    merge.save(update_fields=["undone_at", "undone_by"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=merge.kept,
        changes={"unmerge": merge.pk, "cases": merge.moved_cases},
    )
    return merge
