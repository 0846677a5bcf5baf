"""Make the audit table append-only below the application.

UPDATE is always refused; DELETE only for rows past the retention period (365 days),
which is what the purge job removes. Works on PostgreSQL and on SQLite. TRUNCATE is a
schema owner's operation: the application's database role must not be the table owner
in production (see README, "Audit trail").
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION spip_audit_protect() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit entries are append-only';
    END IF;
    IF OLD.at >= now() - interval '365 days' THEN
        RAISE EXCEPTION 'audit entries are kept 365 days';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS spip_audit_protect ON spip_auditentry;
CREATE TRIGGER spip_audit_protect BEFORE UPDATE OR DELETE ON spip_auditentry
    FOR EACH ROW EXECUTE FUNCTION spip_audit_protect();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS spip_audit_protect ON spip_auditentry;
DROP FUNCTION IF EXISTS spip_audit_protect();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER IF NOT EXISTS spip_audit_no_update BEFORE UPDATE ON spip_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS spip_audit_no_delete BEFORE DELETE ON spip_auditentry
       WHEN OLD.at >= datetime('now', '-365 days')
       BEGIN SELECT RAISE(ABORT, 'audit entries are kept 365 days'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS spip_audit_no_update;",
    "DROP TRIGGER IF EXISTS spip_audit_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("spip", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
