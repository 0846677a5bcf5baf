"""The workload settings (policy, norms, capacity reductions, alert settings) move to the
cases app, beside the cases they weigh. Their tables keep their names: only Django's
state changes; the content types follow, so the permissions granted on them are kept."""

import django.db.models.deletion
from django.db import migrations, models


MOVED = ["workloadpolicy", "referencenorm", "capacityreduction", "alertsettings"]


def move_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label="cases", model=model).exists():
            content_type.objects.filter(app_label="reporting", model=model).update(
                app_label="cases"
            )


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('reporting', '0005_jobrun_to_spip'),
        ('cases', '0008_merge_booking_token_and_alert_owner'),
        ('spip', '0005_jobrun_from_reporting'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='AlertSettings',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('valid_from', models.DateField(unique=True, verbose_name='en vigueur à partir du')),
                    ('no_convocation_days', models.PositiveSmallIntegerField(default=10, verbose_name='mesure sans convocation après (jours)')),
                    ('awaiting_allocation_days', models.PositiveSmallIntegerField(default=8, verbose_name='dossier non attribué après (jours)')),
                    ('missed_reaction_days', models.PositiveSmallIntegerField(default=7, verbose_name='délai de réaction à une absence (jours)')),
                    ('outcome_missing_days', models.PositiveSmallIntegerField(default=3, verbose_name='issue non saisie après (jours)')),
                    ('repeated_breaches_count', models.PositiveSmallIntegerField(default=2, verbose_name='absences répétées : nombre')),
                    ('repeated_breaches_months', models.PositiveSmallIntegerField(default=12, verbose_name='absences répétées : sur (mois)')),
                    ('tig_warning_days', models.PositiveSmallIntegerField(default=90, verbose_name="TIG : alerte avant l'échéance (jours)")),
                    ('assessment_due_days', models.PositiveSmallIntegerField(default=30, verbose_name='évaluation du risque attendue sous (jours)')),
                    ('report_warning_days', models.PositiveSmallIntegerField(default=15, verbose_name="rapport : alerte avant l'échéance (jours)")),
                ],
                options={
                    'verbose_name': 'paramètres des alertes',
                    'verbose_name_plural': 'paramètres des alertes',
                    'db_table': 'reporting_alertsettings',
                    'ordering': ['-valid_from'],
                },
            ),
            migrations.CreateModel(
                name='ReferenceNorm',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('code', models.CharField(max_length=30, unique=True, verbose_name='code')),
                    ('label', models.CharField(max_length=160, verbose_name='libellé')),
                    ('persons_per_agent', models.PositiveSmallIntegerField(verbose_name='personnes par conseiller')),
                    ('source', models.CharField(blank=True, max_length=255, verbose_name='source')),
                ],
                options={
                    'verbose_name': 'norme de référence',
                    'verbose_name_plural': 'normes de référence',
                    'db_table': 'reporting_referencenorm',
                    'ordering': ['persons_per_agent'],
                },
            ),
            migrations.CreateModel(
                name='WorkloadPolicy',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=120, verbose_name='nom')),
                    ('valid_from', models.DateField(unique=True, verbose_name='en vigueur à partir du')),
                    ('valid_to', models.DateField(blank=True, null=True, verbose_name="jusqu'au")),
                    ('weight_high', models.DecimalField(decimal_places=5, max_digits=7, verbose_name='poids risque élevé')),
                    ('weight_moderate', models.DecimalField(decimal_places=5, max_digits=7, verbose_name='poids risque modéré à élevé')),
                    ('weight_low', models.DecimalField(decimal_places=5, max_digits=7, verbose_name='poids risque faible')),
                    ('weight_not_assessed', models.DecimalField(decimal_places=5, max_digits=7, verbose_name='poids par défaut (non évalué)')),
                    ('interval_reinforced_days', models.PositiveSmallIntegerField(verbose_name='intervalle de contact, renforcé (jours)')),
                    ('interval_standard_days', models.PositiveSmallIntegerField(verbose_name='intervalle de contact, standard (jours)')),
                    ('interval_light_days', models.PositiveSmallIntegerField(verbose_name='intervalle de contact, allégé (jours)')),
                    ('threshold_amber', models.PositiveSmallIntegerField(verbose_name='seuil orange (%)')),
                    ('threshold_red', models.PositiveSmallIntegerField(verbose_name='seuil rouge (%)')),
                ],
                options={
                    'verbose_name': 'politique de charge de travail',
                    'verbose_name_plural': 'politiques de charge de travail',
                    'db_table': 'reporting_workloadpolicy',
                    'ordering': ['-valid_from'],
                    'constraints': [models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_to__gte', models.F('valid_from')), _connector='OR'), name='workloadpolicy_validity_order'), models.CheckConstraint(condition=models.Q(('weight_high__gt', 0), ('weight_low__gt', 0), ('weight_moderate__gt', 0), ('weight_not_assessed__gt', 0), ('weight_high__lte', 1), ('weight_low__lte', 1), ('weight_moderate__lte', 1), ('weight_not_assessed__lte', 1)), name='workloadpolicy_weights_range'), models.CheckConstraint(condition=models.Q(('threshold_red__gt', models.F('threshold_amber'))), name='workloadpolicy_thresholds_order'), models.CheckConstraint(condition=models.Q(('interval_reinforced_days__gte', 1), ('interval_standard_days__gte', models.F('interval_reinforced_days')), ('interval_light_days__gte', models.F('interval_standard_days'))), name='workloadpolicy_intervals_order')],
                },
            ),
            migrations.CreateModel(
                name='CapacityReduction',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('training', 'Formation'), ('union', 'Décharge syndicale'), ('part_time', 'Temps partiel thérapeutique ou temporaire'), ('sick_leave', 'Arrêt maladie'), ('absence', 'Absence (congés, mission)'), ('other', 'Autre')], max_length=12, verbose_name='motif')),
                    ('percent', models.PositiveSmallIntegerField(verbose_name='part du temps (%)')),
                    ('starts_on', models.DateField(verbose_name='du')),
                    ('ends_on', models.DateField(blank=True, null=True, verbose_name='au')),
                    ('note', models.CharField(blank=True, max_length=255, verbose_name='précision')),
                    ('agent', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reductions', to='spip.agent')),
                ],
                options={
                    'verbose_name': 'réduction de capacité',
                    'verbose_name_plural': 'réductions de capacité',
                    'db_table': 'reporting_capacityreduction',
                    'ordering': ['-starts_on'],
                    'indexes': [models.Index(fields=['agent', 'starts_on', 'ends_on'], name='reporting_c_agent_i_16fb92_idx')],
                    'constraints': [models.CheckConstraint(condition=models.Q(('percent__gte', 1), ('percent__lte', 100)), name='reduction_percent_range', violation_error_message='La réduction est comprise entre 1 et 100 %.'), models.CheckConstraint(condition=models.Q(('ends_on__isnull', True), ('ends_on__gte', models.F('starts_on')), _connector='OR'), name='reduction_dates_order', violation_error_message='La fin doit suivre le début.')],
                },
            ),
        ]),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
