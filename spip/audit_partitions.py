"""The audit table's monthly partitions on PostgreSQL (migration 0013): created ahead every
day, dropped whole once their month is past the retention period. On SQLite the table is
one plain table and there is nothing to do.

Partitions cover UTC months and are named ``spip_auditentry_YYYY_MM``; a DEFAULT partition
catches a row whose month has none (it stays empty while the daily job runs, and the
partition created for that month takes its rows back).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

# Partitions exist for this month and the next three: a quarter of missed daily runs
# before a row falls into the default partition.
MONTHS_AHEAD = 3

# The append-only trigger's own floor (migration 0002): a DROP fires no trigger, so no
# partition holding a row younger than this is dropped, whatever the retention setting says.
PROTECTED_DAYS = 365

# The months, from the partitions' names (spip_audit_partition_create, migration 0013).
_MONTHS = """
SELECT name, lower_bound, upper_bound FROM (
    SELECT c.relname AS name,
           to_date(right(c.relname, 7), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC' AS lower_bound,
           (to_date(right(c.relname, 7), 'YYYY_MM') + interval '1 month')::timestamp
               AT TIME ZONE 'UTC' AS upper_bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'spip_auditentry'::regclass
      AND c.relname ~ '^spip_auditentry_[0-9]{4}_[0-9]{2}$'
) months
"""


def _partitioned() -> bool:
    return connection.vendor == "postgresql"


def audit_partitions_ensure(*, months_ahead: int = MONTHS_AHEAD) -> int:
    """Create the partitions of this month and of the ``months_ahead`` next ones that do not
    exist yet; the number created. Idempotent. Runs as the table's owner whoever calls it
    (a SECURITY DEFINER function the runtime role may execute, nothing more)."""
    if not _partitioned():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT spip_audit_partitions_ensure(%s)", [months_ahead])
        return cursor.fetchone()[0]


def audit_partitions() -> list[tuple[str, datetime, datetime]]:
    """The monthly partitions, oldest first: ``(name, first instant, first instant after)``."""
    if not _partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(_MONTHS + " ORDER BY lower_bound")
        return list(cursor.fetchall())


def audit_partitions_drop_expired(*, cutoff: datetime) -> int:
    """Drop the partitions whose whole month is before ``cutoff`` (and older than the
    trigger's floor); the number of rows they held. Owner only: the runtime role owns no
    partition, so it can neither drop nor detach one."""
    if not _partitioned():
        return 0
    dropped = 0
    with connection.cursor() as cursor:
        cursor.execute(
            _MONTHS + " WHERE upper_bound <= least(%s, now() - make_interval(days => %s))"
            " ORDER BY lower_bound",
            [cutoff, PROTECTED_DAYS],
        )
        names = [name for name, _lower, _upper in cursor.fetchall()]
    for name in names:
        table = connection.ops.quote_name(name)
        # One short transaction per month: the DROP locks the parent until it commits.
        with transaction.atomic(), connection.cursor() as cursor:
            # DROP waits for no deferred check: those of the caller's transaction run now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a partition's name
            dropped += cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {table}")
    return dropped
