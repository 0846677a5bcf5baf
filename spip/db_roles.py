"""The application's runtime database role: everything it needs, and on the audit trail
only INSERT and SELECT (DOMAIN.md §9: the trail cannot be altered by its application).

Migrations and the audit purge run as the owner (``DATABASE_OWNER_URL``); the web and
worker processes connect as the runtime role (``DATABASE_URL``). The owner re-grants after
every ``migrate``, so a new table is reachable the moment it exists. Being neither owner
nor superuser, the runtime role cannot TRUNCATE, ALTER (DISABLE TRIGGER) or set
``session_replication_role``.

On PostgreSQL the audit table is partitioned by month (migration 0013). The runtime role
reads and writes it through the parent only, whose rights PostgreSQL checks for every
partition; on the partitions themselves it holds nothing, and it owns none, so it can
neither drop nor detach one. It may execute ``spip_audit_partitions_ensure``, which creates
the months ahead as the owner (the daily Celery task).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

AUDIT_TABLE = "spip_auditentry"
ENSURE_FUNCTION = "spip_audit_partitions_ensure(integer)"


def grant_runtime_role(role: str, using: str = "default") -> bool:
    """Grant ``role`` what the application needs on PostgreSQL. False if there is nothing
    to do (another database engine, or the role does not exist)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not role:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return False
        name = connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"
        )
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}")
        cursor.execute(f"REVOKE ALL ON TABLE {AUDIT_TABLE} FROM {name}")
        cursor.execute(f"GRANT SELECT, INSERT ON TABLE {AUDIT_TABLE} TO {name}")
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
            [AUDIT_TABLE],
        )
        for (partition,) in cursor.fetchall():
            cursor.execute(f"REVOKE ALL ON TABLE {partition} FROM {name}")
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [ENSURE_FUNCTION])
        if cursor.fetchone()[0]:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {ENSURE_FUNCTION} TO {name}")
        cursor.execute(f"REVOKE ALL ON TABLE django_migrations FROM {name}")
        cursor.execute(f"GRANT SELECT ON TABLE django_migrations TO {name}")
    return True


def after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: re-grant the runtime role (once per migrate, from the base app)."""
    grant_runtime_role(settings.DATABASE_RUNTIME_ROLE, using=using)
