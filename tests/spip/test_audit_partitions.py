"""The audit table partitioned by month (PostgreSQL): rows land in their month, the purge
drops whole months, every partition keeps the append-only trigger, and the journal's
queries read indexes of the months they name."""

from datetime import UTC, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from spip.audit import audit_write
from spip.audit_partitions import (
    audit_partitions,
    audit_partitions_drop_expired,
    audit_partitions_ensure,
)
from spip.models import AuditEntry
from spip.services import audit_purge_expired
from tests.conftest import needs_postgres

pytestmark = [needs_postgres(), pytest.mark.django_db]

TABLE = AuditEntry._meta.db_table


def _insert(at) -> int:
    """An audit row dated ``at``, written as the owner (who may date a row; the runtime
    role may not)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (at, username, role, action, object_type, object_id, "  # noqa: S608
            "object_repr, changes) VALUES (%s, 'x', '', 'view', 'test', '', '', '{}') "
            "RETURNING id",
            [at],
        )
        return cursor.fetchone()[0]


def _partition_of(row_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [row_id])  # noqa: S608
        return cursor.fetchone()[0]


def _month(at) -> str:
    at = at.astimezone(UTC)
    return f"{TABLE}_{at:%Y_%m}"


def _create_partition(at) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT spip_audit_partition_create(%s)", [at.date()])


def _exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def test_the_months_ahead_have_their_partitions_from_the_migration_on():
    now = timezone.now()
    names = [name for name, _lower, _upper in audit_partitions()]
    assert _month(now) in names
    assert _month(now + timedelta(days=62)) in names
    assert audit_partitions_ensure() == 0  # idempotent: they are all there


def test_rows_land_in_the_partition_of_their_month():
    entry = audit_write(actor=None, action="view", object_type="test", object_id=1)
    assert _partition_of(entry.pk) == _month(entry.at)
    ahead = timezone.now() + timedelta(days=40)
    assert _partition_of(_insert(ahead)) == _month(ahead)


def test_a_row_of_a_month_without_partition_lands_in_the_default_one_until_its_month_is_created():
    ancient = timezone.now() - timedelta(days=3 * 365)
    row_id = _insert(ancient)
    assert _partition_of(row_id) == f"{TABLE}_default"
    _create_partition(ancient)
    assert _partition_of(row_id) == _month(ancient)  # moved, unchanged
    assert AuditEntry.objects.filter(pk=row_id, at=ancient, username="x").exists()


def test_the_purge_drops_the_months_past_retention_and_deletes_the_boundary_rows():
    now = timezone.now()
    ancient = now - timedelta(days=3 * 365)
    _create_partition(ancient)
    _insert(ancient)
    _insert(ancient + timedelta(days=1))
    boundary = now - timedelta(days=400)
    _create_partition(boundary)
    old = _insert(boundary)
    kept = _insert(now - timedelta(days=300))
    recent = audit_write(actor=None, action="view", object_type="test", object_id=1)

    assert audit_purge_expired() == 3
    assert not _exists(_month(ancient))  # dropped whole
    assert not AuditEntry.objects.filter(pk=old).exists()
    assert set(AuditEntry.objects.values_list("pk", flat=True)) >= {kept, recent.pk}
    assert _exists(_month(now))


@override_settings(AUDIT_RETENTION_DAYS=30)
def test_the_purge_drops_no_month_younger_than_the_triggers_floor_whatever_the_setting():
    two_months_ago = timezone.now() - timedelta(days=62)
    _create_partition(two_months_ago)
    row_id = _insert(two_months_ago)
    assert audit_partitions_drop_expired(cutoff=timezone.now() - timedelta(days=31)) == 0
    assert _exists(_month(two_months_ago))
    # And the row-by-row delete that follows is refused by the trigger, as before.
    with pytest.raises(DatabaseError), transaction.atomic():
        audit_purge_expired()
    assert AuditEntry.objects.filter(pk=row_id).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE {partition} SET username = 'y' WHERE id = %s",
        "DELETE FROM {partition} WHERE id = %s",
    ],
)
def test_the_trigger_refuses_update_and_delete_on_a_partition_addressed_directly(sql):
    entry = audit_write(actor=None, action="view", object_type="test", object_id=1)
    partition = _month(entry.at)
    with (
        pytest.raises(DatabaseError, match="audit entries"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql.format(partition=partition), [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, username=entry.username).exists()


def test_a_partition_created_later_has_the_trigger_and_the_indexes():
    later = timezone.now() + timedelta(days=31 * 8)
    _create_partition(later)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
            "ORDER BY 1",
            [_month(later)],
        )
        assert [name for (name,) in cursor.fetchall()] == ["spip_audit_protect", "spip_audit_stamp"]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [_month(later)])
        assert cursor.fetchone()[0] == 7  # the primary key and the six of the parent


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # A test table holds a handful of rows, where a sequential scan is cheapest: the
        # point here is that an index serves each query and that the months are pruned.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(line for (line,) in cursor.fetchall())


def test_the_journals_queries_read_indexes_and_only_the_months_they_name():
    now = timezone.now()
    entries = AuditEntry.objects.order_by("-at", "-id")
    by_service = _plan(entries.filter(service_id=1)[:50])
    by_object = _plan(entries.filter(object_type="cases.person", object_id="12")[:50])
    by_user = _plan(entries.filter(user_id=1)[:50])
    by_date = _plan(entries.filter(at__gte=now - timedelta(hours=1), at__lt=now)[:50])
    for plan in (by_service, by_object, by_user, by_date):
        assert "Seq Scan" not in plan, plan
    assert "service_id_at_idx" in by_service
    assert "object_type_object_id_idx" in by_object
    assert "user_id_at_idx" in by_user
    assert _month(now) in by_date
    assert _month(now + timedelta(days=62)) not in by_date  # pruned
