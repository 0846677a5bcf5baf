"""The date of an audit row is the database's: a role that does not own the table (the
application's runtime role) cannot backdate a row — its ``at`` becomes now(). The owner
(migrations, the purge, the tests' fixtures) keeps the value it writes. PostgreSQL only."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION spip_audit_stamp() RETURNS trigger AS $$
BEGIN
    IF NOT pg_has_role(
        current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER'
    ) THEN
        NEW.at := now();
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS spip_audit_stamp ON spip_auditentry;
CREATE TRIGGER spip_audit_stamp BEFORE INSERT ON spip_auditentry
    FOR EACH ROW EXECUTE FUNCTION spip_audit_stamp();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS spip_audit_stamp ON spip_auditentry;
DROP FUNCTION IF EXISTS spip_audit_stamp();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("spip", "0005_jobrun_from_reporting")]

    operations = [migrations.RunPython(forward, backward)]
