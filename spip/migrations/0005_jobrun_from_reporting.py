"""JobRun moves to the base app (job recording serves every app). The table keeps its
name: only Django's state changes, and the content type follows (permissions kept)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor):
    """The content type (and so the permissions granted on it) follows the model."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="spip", model="jobrun").exists():
        content_type.objects.filter(app_label="reporting", model="jobrun").update(
            app_label="spip"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('spip', '0004_audit_list_search_lockout'),
        ('reporting', '0004_snapshot_awaiting_weighted_job_interrupted'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='JobRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80, verbose_name='tâche')),
                ('started_at', models.DateTimeField(verbose_name='début')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='fin')),
                ('status', models.CharField(choices=[('running', 'En cours'), ('success', 'Terminé'), ('failed', 'Échec'), ('interrupted', 'Interrompu')], default='running', max_length=12, verbose_name='état')),
                ('counts', models.JSONField(blank=True, default=dict, verbose_name='compteurs')),
                ('error', models.TextField(blank=True, verbose_name='erreur')),
                ('file', models.CharField(blank=True, max_length=255, verbose_name='fichier produit')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='demandé par')),
                ('service', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='spip.service')),
            ],
            options={
                'verbose_name': 'exécution de tâche',
                'verbose_name_plural': 'exécutions de tâches',
                'db_table': 'reporting_jobrun',
                'ordering': ['-started_at'],
                'indexes': [models.Index(fields=['name', '-started_at'], name='reporting_j_name_c501ed_idx')],
            },
        )]),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
