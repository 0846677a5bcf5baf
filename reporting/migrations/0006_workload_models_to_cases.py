"""The workload settings now live in the cases app (cases 0009); their tables stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_workload_models_from_reporting'),
        ('reporting', '0005_jobrun_to_spip'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(
                name='AlertSettings',
            ),
            migrations.RemoveField(
                model_name='capacityreduction',
                name='agent',
            ),
            migrations.DeleteModel(
                name='ReferenceNorm',
            ),
            migrations.AlterField(
                model_name='workloadsnapshot',
                name='policy',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='snapshots', to='cases.workloadpolicy'),
            ),
            migrations.DeleteModel(
                name='CapacityReduction',
            ),
            migrations.DeleteModel(
                name='WorkloadPolicy',
            ),
        ]),
    ]
