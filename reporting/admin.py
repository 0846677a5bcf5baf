from django.contrib import admin

from reporting.models import WorkloadSnapshot
from spip.admin_base import ScopedModelAdmin


@admin.register(WorkloadSnapshot)
class WorkloadSnapshotAdmin(ScopedModelAdmin):
    list_display = [
        "day",
        "entity_type",
        "label",
        "persons",
        "weighted_load",
        "capacity",
        "load_percent",
    ]
    list_filter = ["entity_type", "day"]
    search_fields = ["label"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
