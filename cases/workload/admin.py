from django.contrib import admin

from cases.workload.models import AlertSettings, CapacityReduction, ReferenceNorm, WorkloadPolicy
from spip.admin_base import ScopedModelAdmin


@admin.register(WorkloadPolicy)
class WorkloadPolicyAdmin(ScopedModelAdmin):
    list_display = [
        "name",
        "valid_from",
        "valid_to",
        "weight_high",
        "weight_moderate",
        "weight_low",
        "weight_not_assessed",
        "threshold_amber",
        "threshold_red",
    ]


@admin.register(ReferenceNorm)
class ReferenceNormAdmin(ScopedModelAdmin):
    list_display = ["code", "label", "persons_per_agent", "source"]


@admin.register(CapacityReduction)
class CapacityReductionAdmin(ScopedModelAdmin):
    list_display = ["agent", "kind", "percent", "starts_on", "ends_on", "note"]
    list_filter = ["kind"]
    list_select_related = ["agent__user"]
    raw_id_fields = ["agent"]


@admin.register(AlertSettings)
class AlertSettingsAdmin(ScopedModelAdmin):
    list_display = [
        "valid_from",
        "no_convocation_days",
        "awaiting_allocation_days",
        "missed_reaction_days",
        "outcome_missing_days",
        "contact_overdue_label",
    ]

    @admin.display(description="Intervalles de contact")
    def contact_overdue_label(self, obj):
        return "selon la politique de charge"
