"""Keeping and erasing files on the legal schedule (DOMAIN §9).

- A closed file is **archived** ``SPIP_ARCHIVE_AFTER_DAYS`` after its closing: out of
  every list and page (``spip.access``), read by its service's director only.
- It is **destroyed** ``SPIP_DESTROY_AFTER_YEARS`` after its closing: every row that hangs
  off it (measures, convocations, interviews, messages, proofs and their files, referrals,
  alerts…), and the person when no other file names them. A tombstone row says what,
  when and by which rule — nothing that names the person.
- A **legal hold** on a file stops both.
- Sent messages keep their text ``SPIP_MESSAGE_RETENTION_DAYS``, then only that they went.

The nightly job is idempotent and safe to crash: archiving is one UPDATE; each file is
destroyed in its own transaction; files are removed from the storage after the commit,
and a rerun removes those a crash left behind (the tombstone lists them).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import OPEN_STATUSES, CaseStatus
from cases.files.models import Case, Person, Tombstone, Transfer
from spip.audit import audit_many, audit_write
from spip.choices import AuditAction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    archive_before: date  # closed on or before: archived
    destroy_before: date  # closed on or before: destroyed

    @classmethod
    def on(cls, today: date) -> Schedule:
        years = settings.SPIP_DESTROY_AFTER_YEARS
        try:
            destroy = today.replace(year=today.year - years)
        except ValueError:  # 29 February
            destroy = today.replace(year=today.year - years, day=28)
        return cls(today - timedelta(days=settings.SPIP_ARCHIVE_AFTER_DAYS), destroy)


def _rule_text() -> str:
    return _("Destruction %(years)s ans après la clôture du dossier (DOMAIN §9)") % {
        "years": settings.SPIP_DESTROY_AFTER_YEARS
    }


def archivable(today: date):
    """Closed past the period, not held, and not the sending file of a transfer into a
    file still open (the receiving service reads its history)."""
    still_read = Transfer.objects.filter(
        status="accepted", new_case__status__in=OPEN_STATUSES
    ).values("case_id")
    return Case.objects.filter(
        status=CaseStatus.CLOSED,
        legal_hold=False,
        closed_on__lte=Schedule.on(today).archive_before,
    ).exclude(pk__in=still_read)


def destroyable(today: date):
    """Closed or archived, past the period, not held; and not linked by a transfer to a
    file that must stay (the receiving file reads the sending one)."""
    due = Case.objects.filter(
        status__in=[CaseStatus.CLOSED, CaseStatus.ARCHIVED],
        legal_hold=False,
        closed_on__lte=Schedule.on(today).destroy_before,
    )
    kept = Case.objects.exclude(pk__in=due.values("pk"))
    linked = Transfer.objects.filter(
        Q(case__in=due, new_case__in=kept) | Q(new_case__in=due, case__in=kept)
    )
    return due.exclude(pk__in=linked.values("case_id")).exclude(pk__in=linked.values("new_case_id"))


def retention_apply(today: date | None = None) -> dict[str, int]:
    """The nightly job: archive, destroy, erase old message texts, finish file removals."""
    today = today or timezone.localdate()
    counts = {"archived": archive(today)}
    destroyed = refused = 0
    for case_id in destroyable(today).order_by("closed_on", "id").values_list("pk", flat=True):
        try:
            if destroy(case_id, rule=_rule_text(), today=today) is not None:
                destroyed += 1
        except (RuntimeError, IntegrityError) as exc:
            # Something of another file hangs off this one: kept, said in the job's log
            # (the file's number only), looked at by a person.
            log.warning("retention: file %s kept: %s", case_id, exc.__class__.__name__)
            refused += 1
    counts["destroyed"], counts["refused"] = destroyed, refused
    counts["messages_erased"] = messages_erase(today)
    counts["files_removed"] = files_remove_pending()
    return counts


def archive(today: date) -> int:
    """One UPDATE, and one audit row per file archived (by the system)."""
    with transaction.atomic():
        ids = list(archivable(today).select_for_update().values_list("pk", "service_id"))
        if not ids:
            return 0
        Case.objects.filter(pk__in=[pk for pk, _s in ids]).update(status=CaseStatus.ARCHIVED)
        reason = _("Archivage : dossier clos depuis plus de %(days)s jours") % {
            "days": settings.SPIP_ARCHIVE_AFTER_DAYS
        }
        audit_many(
            {
                "actor": None,
                "action": AuditAction.UPDATE,
                "object_type": "cases.case",
                "object_id": pk,
                "object_repr": reason,
                "service_id": service_id,
                "changes": {"status": ["closed", "archived"]},
            }
            for pk, service_id in ids
        )
    return len(ids)


# --- Destruction ------------------------------------------------------------------------

# Rows that hang off a file but belong to someone else: never followed.
NOT_FOLLOWED = {"spip.auditentry"}


def _reverse_relations(model: type[models.Model]):
    """Every foreign key pointing at ``model``, hidden ones included (the tables of
    many-to-many fields)."""
    for field in model._meta.get_fields(include_hidden=True):
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one):
            yield field


def _collect(model: type[models.Model], ids: set, found: dict, nulls: dict) -> None:
    """Every row reaching ``model``'s ``ids`` through a foreign key, recursively: deleted
    with them; a SET_NULL reference is cleared instead."""
    for rel in _reverse_relations(model):
        related = rel.related_model
        if related._meta.label_lower in NOT_FOLLOWED or not ids:
            continue
        field = rel.field
        rows = set(
            related._base_manager.filter(**{f"{field.name}__in": ids}).values_list("pk", flat=True)
        )
        if not rows:
            continue
        if field.remote_field.on_delete is models.SET_NULL:
            nulls.setdefault((related, field.column), set()).update(rows)
            continue
        new = rows - found.get(related, set())
        found.setdefault(related, set()).update(rows)
        _collect(related, new, found, nulls)


def destroy(case_id: int, *, rule: str, today: date | None = None) -> Tombstone | None:
    """Destroy one file and all that hangs off it, the person when no other file names
    them, in one transaction; the stored files after the commit."""
    Proof = apps.get_model("cases", "Proof")
    with transaction.atomic():
        # Checked again under the lock: reopened, held or linked since the list was read.
        case = (
            destroyable(today or timezone.localdate())
            .select_for_update()
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            return None
        found: dict = {Case: {case.pk}}
        nulls: dict = {}
        _collect(Case, {case.pk}, found, nulls)
        person = case.person
        person_goes = not Case.objects.filter(person=person).exclude(pk=case.pk).exists()
        if person_goes:
            found.setdefault(Person, set()).add(person.pk)
            _collect(Person, {person.pk}, found, nulls)
            found[Case] = found.get(Case, set())
            if found[Case] != {case.pk}:  # the person's only file is this one
                raise RuntimeError(f"file {case.pk}: another file reached through the person")
        _guard(found, case.pk)
        files = sorted(
            name
            for name in Proof.objects.filter(pk__in=found.get(Proof, set())).values_list(
                "file", flat=True
            )
            if name
        )
        counts = _delete(found, nulls)
        tombstone = Tombstone.objects.create(
            case_number=case.pk,
            service_id=case.service_id,
            closed_on=case.closed_on or timezone.localdate(),
            rule=rule[:200],
            counts=counts,
            files=files,
            destroyed_at=timezone.now(),
        )
        audit_write(
            actor=None,
            action=AuditAction.DELETE,
            object_type="cases.case",
            object_id=case.pk,
            object_repr=_("Destruction (conservation) : %(rule)s") % {"rule": rule},
            service_id=case.service_id,
            changes={"rows": counts, "files": len(files)},
        )
        # A storage error after the commit must not stop the night's run: the next run
        # removes what is left (files_remove_pending).
        transaction.on_commit(lambda: _remove_files(tombstone.pk), robust=True)
    return tombstone


def _guard(found: dict, case_id: int) -> None:
    """Nothing of another file may be reached (a measure followed by another file's, a
    transfer): refuse rather than destroy what must stay."""
    for model, ids in found.items():
        if model is Case:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        if "case" in names:
            stray = model._base_manager.filter(pk__in=ids).exclude(case_id=case_id)
            if stray.exists():
                raise RuntimeError(
                    f"file {case_id}: {model._meta.label} rows of another file would go"
                )


def _delete(found: dict, nulls: dict) -> dict[str, int]:
    """Set-based: one UPDATE per cleared reference, one DELETE per table. Django's foreign
    keys are checked at commit, so the order within the transaction does not matter."""
    counts: dict[str, int] = defaultdict(int)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for (model, column), ids in nulls.items():
            cursor.execute(
                f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = NULL "  # noqa: S608
                f"WHERE {quote(model._meta.pk.column)} IN ({', '.join(['%s'] * len(ids))})",
                list(ids),
            )
        for key, ids in found.items():
            cursor.execute(
                f"DELETE FROM {quote(key._meta.db_table)} "  # noqa: S608
                f"WHERE {quote(key._meta.pk.column)} IN ({', '.join(['%s'] * len(ids))})",
                list(ids),
            )
            counts[key._meta.label_lower] += cursor.rowcount
    return dict(sorted(counts.items()))


def _remove_files(tombstone_id: int) -> None:
    tombstone = Tombstone.objects.get(pk=tombstone_id)
    for name in tombstone.files:
        default_storage.delete(name)  # a name already gone is accepted
    Tombstone.objects.filter(pk=tombstone_id).update(files_removed=True)


def files_remove_pending() -> int:
    """Files a crash between the commit and their removal left in the storage."""
    pending = list(Tombstone.objects.filter(files_removed=False).values_list("pk", flat=True))
    for pk in pending:
        _remove_files(pk)
    return len(pending)


def messages_erase(today: date) -> int:
    """The text and recipient of messages sent long ago: only that they went remains."""
    Notification = apps.get_model("cases", "Notification")
    since = timezone.now() - timedelta(days=settings.SPIP_MESSAGE_RETENTION_DAYS)
    return (
        Notification.objects.filter(sent_at__lt=since)
        .exclude(body="", recipient="")
        .update(body="", recipient="")
    )


# --- What comes next (the director's page) ------------------------------------------------


def upcoming(user, today: date | None = None) -> dict:
    """The director's service's files archived and destroyed within the next month, and
    those held: ids, closing dates (the page names no one beyond the file number)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=31)
    visible = Case.objects.visible_to(user)
    return {
        "horizon": horizon,
        "to_archive": list(
            archivable(horizon)
            .filter(pk__in=visible.values("pk"))
            .order_by("closed_on", "id")
            .values("pk", "closed_on")
        ),
        "to_destroy": list(
            destroyable(horizon)
            .filter(pk__in=visible.values("pk"))
            .order_by("closed_on", "id")
            .values("pk", "closed_on", "status")
        ),
        "held": list(
            visible.filter(legal_hold=True).order_by("id").values("pk", "legal_hold_reason")
        ),
        "destroyed": list(Tombstone.objects.visible_to(user)[:50]),
    }


def legal_hold_set(*, actor, case: Case, hold: bool, reason: str) -> Case:
    """Set or lift the legal hold on a file (the director), audited."""
    before = (case.legal_hold, case.legal_hold_reason)
    case.legal_hold, case.legal_hold_reason = hold, (reason.strip() if hold else "")
    case.save(update_fields=["legal_hold", "legal_hold_reason"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        changes={
            "legal_hold": [before[0], case.legal_hold],
            "legal_hold_reason": [before[1], case.legal_hold_reason],
        },
    )
    return case
