"""JobRun now lives in the base app (spip 0005); its table stays."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0004_snapshot_awaiting_weighted_job_interrupted'),
        ('spip', '0005_jobrun_from_reporting'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='JobRun')]
        ),
    ]
