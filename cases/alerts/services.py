"""Opening and closing alerts from the rules. Idempotent and safe to run twice at once.

Per alert type, in its own transaction: open an alert for each finding that has none
(inserted with ON CONFLICT DO NOTHING against the partial unique index, so two runs at
once cannot double an alert), close the open alerts whose condition no longer holds.
A run killed half-way leaves whole types done or untouched; the next run completes.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.alerts.rules import RULES, Context, contexts
from cases.choices import AlertType
from cases.files.selectors import answering_agent
from cases.models import Alert, Case
from spip.audit import audit_write
from spip.choices import AuditAction


def alerts_follow_owner(*, case_ids: Iterable | None = None, day: date | None = None) -> int:
    """Give the open alerts of ``case_ids`` (every case when None) to whoever answers for
    their case on ``day`` (``answering_agent``): one UPDATE of the rows that differ.

    Called inside the services that change who answers for a case (allocation,
    reassignment, cover and its end), in their transaction, and by the alert job, which
    repairs any drift (a cover that ended, an agent who left). Returns the rows moved."""
    day = day or timezone.localdate()
    owner, orphan = answering_agent(day)
    per_case = Case.objects.filter(pk=OuterRef("case_id")).annotate(owner=owner, orphan=orphan)
    new_owner = Subquery(per_case.values("owner")[:1])
    new_orphan = Subquery(per_case.values("orphan")[:1])
    alerts = Alert.objects.filter(closed_at__isnull=True)
    if case_ids is not None:
        alerts = alerts.filter(case_id__in=case_ids)
    # NULL-safe "differs": 0 is never an agent's id.
    drifted = alerts.annotate(
        current=Coalesce("agent_id", 0), wanted=Coalesce(new_owner, 0), wanted_orphan=new_orphan
    ).filter(~Q(current=F("wanted")) | ~Q(without_referent=F("wanted_orphan")))
    return Alert.objects.filter(pk__in=drifted.values("pk")).update(
        agent_id=new_owner, without_referent=new_orphan
    )


def alerts_refresh(*, now: datetime | None = None, types: list[str] | None = None) -> Counter:
    """Refresh every alert type (or ``types``), each in its own transaction, then give the
    open alerts to whoever answers for their case."""
    now = now or timezone.now()
    counts: Counter = Counter()
    ctxs = list(contexts(now))
    for alert_type in RULES:
        if types and alert_type not in types:
            continue
        counts.update(alert_type_refresh(alert_type, ctxs=ctxs, now=now))
    with transaction.atomic():
        _without_jit()
        counts["moved"] = alerts_follow_owner(day=timezone.localdate(now))
    return counts


def _without_jit() -> None:
    """No JIT compilation for the rest of the transaction (PostgreSQL). The rules' queries
    are many small index lookups per row, whose plans cost enough to be compiled: compiling
    took longer than running them (seconds per rule at national scale). The results are
    the same; only the time changes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


@transaction.atomic
def alert_type_refresh(alert_type: str, *, ctxs: list[Context], now: datetime) -> Counter:
    """One alert type: open an alert for each finding that has none, close the open alerts
    whose condition no longer holds. Returns the opened, closed and unchanged counts."""
    rule, severity = RULES[AlertType(alert_type)]
    _without_jit()
    findings = {}
    for ctx in ctxs:
        for finding in rule(ctx):
            findings[finding.dedup_key] = finding
    open_keys = set(
        Alert.objects.filter(alert_type=alert_type, closed_at__isnull=True).values_list(
            "dedup_key", flat=True
        )
    )
    # The new findings go straight to rows of column values, in INSERT_FIELDS order: no
    # model instance per row (tens of thousands on a first run), each column prepared as
    # the model would.
    opened_at = _prepare("opened_at", now)
    # A date column as the backend takes it (the field's own preparation, resolved once).
    adapt_date = connection.ops.adapt_datefield_value
    new = [
        (
            alert_type,
            severity,
            f.case_id,
            f.agent_id,
            f.rule[:255],
            f.legal_reference[:120],
            adapt_date(f.due_on),
            f.measure_id,
            f.convocation_id,
            f.dedup_key,
            opened_at,
            "",
            False,
        )
        for key, f in findings.items()
        if key not in open_keys
    ]
    opened = _insert_rows(new)
    cleared = open_keys - findings.keys()
    closed = (
        Alert.objects.filter(
            alert_type=alert_type, closed_at__isnull=True, dedup_key__in=cleared
        ).update(closed_at=now)
        if cleared
        else 0
    )
    return Counter(opened=opened, closed=closed, unchanged=len(open_keys & findings.keys()))


INSERT_FIELDS = (
    *Alert.FINDING_FIELDS,
    "dedup_key",
    "opened_at",
    "snooze_reason",
    "without_referent",
)


def _fields() -> list[models.Field]:
    return [
        f for name in INSERT_FIELDS if isinstance(f := Alert._meta.get_field(name), models.Field)
    ]


def _prepare(name: str, value):
    """``value`` as the database takes it for the alert column ``name``."""
    field = Alert._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_db_prep_save(value, connection)


def _insert_new(alerts: list[Alert], batch_size: int = 1000) -> int:
    """Insert ``alerts`` (unsaved instances), skipping any another run opened meanwhile."""
    fields = _fields()
    return _insert_rows(
        [
            tuple(f.get_db_prep_save(getattr(alert, f.attname), connection) for f in fields)
            for alert in alerts
        ],
        batch_size,
    )


def _insert_rows(rows: list[tuple], batch_size: int = 1000) -> int:
    """Insert rows of prepared values in ``INSERT_FIELDS`` order, skipping any alert
    another run opened meanwhile (the partial unique index): ON CONFLICT DO NOTHING, and
    the rows counted from the database's own row count, so two runs at once never both
    count the same alert as opened."""
    fields = _fields()
    table = connection.ops.quote_name(Alert._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM:
        return _copy_rows(rows, table, columns)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Within the backend's limit on bound parameters (SQLite's is the lower).
    batch_size = max(min(batch_size, connection.ops.bulk_batch_size(fields, rows)), 1)
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            params = [value for row in batch for value in row]
            values = ", ".join([row_sql] * len(batch))
            # Table and column names are the model's own; every value is bound.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT DO NOTHING",  # noqa: S608
                params,
            )
            inserted += max(cursor.rowcount, 0)
    return inserted


# From this many new alerts (a first run, a new rule), PostgreSQL takes them by COPY: the
# statements of bound values cost 41 µs a row to send and parse (129,000 alerts: 5.4 s),
# COPY and one INSERT … SELECT a fraction of that.
COPY_FROM = 2000


def _copy_rows(rows: list[tuple], table: str, columns: str) -> int:
    """``_insert_rows`` on PostgreSQL: the rows copied into a scratch table of the same
    columns, then inserted from it in one statement, skipping the alerts another run
    opened meanwhile. The scratch table lives for the transaction."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        # Names are the model's own; the values travel in COPY's text format.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.new_alert")
        scratch = f"CREATE TEMP TABLE new_alert ON COMMIT DROP AS SELECT {columns} FROM {table}"  # noqa: S608
        cursor.execute(f"{scratch} WITH NO DATA")
        # psycopg2's COPY (the project pins psycopg2): errors as Django's, like execute's.
        with connection.wrap_database_errors:
            cursor.copy_expert(f"COPY new_alert ({columns}) FROM STDIN", buffer)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM new_alert "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
        inserted = max(cursor.rowcount, 0)
        cursor.execute("DROP TABLE new_alert")
    return inserted


def _copy_text(value) -> str:
    """One prepared column value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


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
