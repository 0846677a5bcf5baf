from django.contrib import admin

from reporting.models import ReferenceNorm, WorkloadPolicy
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
