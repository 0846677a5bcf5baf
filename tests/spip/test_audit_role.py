"""The trail survives its own application: connected as the runtime role, the application
can add audit rows and read them, and nothing else (PostgreSQL)."""

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from spip.db_roles import grant_runtime_role
from tests.conftest import needs_postgres

pytestmark = [needs_postgres(), pytest.mark.django_db(transaction=True)]

ROLE = "spip_runtime_test"


@pytest.fixture
def runtime():
    """A connection to the test database as a freshly granted runtime role."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN CREATE ROLE {ROLE} LOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    assert grant_runtime_role(ROLE) is True
    settings = connection.settings_dict
    conn = psycopg2.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=ROLE,
    )
    conn.autocommit = True
    yield conn
    conn.close()


def _fails(conn, sql: str) -> str:
    with conn.cursor() as cursor, pytest.raises(psycopg2.Error) as caught:
        cursor.execute(sql)
    return caught.value.pgerror or str(caught.value)


INSERT = (
    "INSERT INTO spip_auditentry (at, username, role, action, object_type, object_id, "
    "object_repr, changes) VALUES ({at}, 'intrus', '', 'view', 'x', '1', '', '{{}}') "
    "RETURNING id"
)


def test_the_runtime_role_adds_and_reads_audit_rows(runtime):
    with runtime.cursor() as cursor:
        cursor.execute(INSERT.format(at="now()"))
        new_id = cursor.fetchone()[0]
        cursor.execute("SELECT username FROM spip_auditentry WHERE id = %s", [new_id])
        assert cursor.fetchone() == ("intrus",)
        # Everything else of the application stays writable.
        cursor.execute("UPDATE cases_person SET commune = commune WHERE false")


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("UPDATE spip_auditentry SET username = 'x'", "permission denied"),
        ("DELETE FROM spip_auditentry", "permission denied"),
        ("TRUNCATE spip_auditentry", "permission denied"),
        ("ALTER TABLE spip_auditentry DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE spip_auditentry DISABLE TRIGGER spip_audit_protect", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("DROP TABLE spip_auditentry", "must be owner"),
        ("DROP TRIGGER spip_audit_protect ON spip_auditentry", "must be owner"),
    ],
)
def test_the_runtime_role_cannot_alter_or_erase_the_trail(runtime, sql, refusal):
    assert refusal in _fails(runtime, sql)


def test_the_runtime_role_cannot_backdate_a_row_nor_delete_it(runtime):
    # Backdated within its month, a row is stamped by the database; into another month (its
    # partition), it is refused: a row cannot leave the partition it was routed to.
    with runtime.cursor() as cursor:
        cursor.execute(INSERT.format(at="now() - interval '50 seconds' - interval '3 minutes'"))
        row_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT now() - at < interval '1 minute' FROM spip_auditentry WHERE id = %s", [row_id]
        )
        assert cursor.fetchone() == (True,)  # stamped by the database, not minutes ago
    assert "partition" in _fails(runtime, INSERT.format(at="now() - interval '3 years'"))
    assert "permission denied" in _fails(
        runtime, f"DELETE FROM spip_auditentry WHERE id = {row_id}"
    )


def _this_months_partition() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')")
        return f"spip_auditentry_{cursor.fetchone()[0]}"


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("DROP TABLE {partition}", "must be owner"),
        ("ALTER TABLE spip_auditentry DETACH PARTITION {partition}", "must be owner"),
        ("ALTER TABLE spip_auditentry DETACH PARTITION spip_auditentry_default", "must be owner"),
        ("ALTER TABLE {partition} DISABLE TRIGGER ALL", "must be owner"),
        ("TRUNCATE {partition}", "permission denied"),
        ("UPDATE {partition} SET username = 'x'", "permission denied"),
        ("DELETE FROM {partition}", "permission denied"),
        ("DELETE FROM spip_auditentry_default", "permission denied"),
        (
            "CREATE TABLE spip_auditentry_2099_01 PARTITION OF spip_auditentry "
            "FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')",
            "permission denied",
        ),
    ],
)
def test_the_runtime_role_can_neither_drop_detach_nor_alter_a_partition(runtime, sql, refusal):
    assert refusal in _fails(runtime, sql.format(partition=_this_months_partition()))


def test_the_runtime_role_creates_the_months_ahead_as_the_owner(runtime):
    with runtime.cursor() as cursor:
        cursor.execute("SELECT spip_audit_partitions_ensure(6)")
        assert cursor.fetchone()[0] == 3  # the migration created three months ahead
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'spip_auditentry'::regclass AND c.relowner <> "
            "(SELECT relowner FROM pg_class WHERE oid = 'spip_auditentry'::regclass)"
        )
        assert cursor.fetchone() == (0,)  # all owned by the owner: the runtime role owns none
    assert "permission denied" in _fails(
        runtime, "SELECT spip_audit_partition_create('2099-01-01')"
    )


def test_the_purge_runs_as_the_owner(runtime):
    # This test's own connection is the owner's (the one that ran the migrations): the
    # owner may write a past date (fixtures, imports), the runtime role may not.
    with connection.cursor() as cursor:
        cursor.execute(INSERT.format(at="now() - interval '3 years'"))
        cursor.execute(INSERT.format(at="now()"))
    call_command("purge_audit")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM spip_auditentry WHERE username = 'intrus'")
        assert cursor.fetchone() == (1,)
