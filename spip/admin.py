from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from spip.admin_base import ReadOnlyAdmin, ScopedModelAdmin
from spip.models import (
    Agent,
    Antenna,
    AuditEntry,
    Commune,
    Court,
    InterregionalUnit,
    JobRun,
    Prison,
    Service,
)
from spip.views import ROLE_LABELS, object_label


@admin.register(InterregionalUnit)
class InterregionalUnitAdmin(ScopedModelAdmin):
    list_display = ["code", "name"]


@admin.register(Service)
class ServiceAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "interregional_unit", "time_zone", "holiday_subdivision"]
    list_filter = ["interregional_unit", "time_zone"]
    search_fields = ["code", "name", "department_name"]
    list_select_related = ["interregional_unit"]


@admin.register(Antenna)
class AntennaAdmin(ScopedModelAdmin):
    list_display = ["name", "service", "kind", "city"]
    list_filter = ["kind"]
    search_fields = ["name", "city"]
    list_select_related = ["service"]
    filter_horizontal = ["prisons"]


@admin.register(Prison)
class PrisonAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "service", "city"]
    list_filter = ["kind"]
    search_fields = ["name", "city"]
    list_select_related = ["service"]


@admin.register(Court)
class CourtAdmin(ScopedModelAdmin):
    list_display = ["name", "city"]
    search_fields = ["name", "city"]
    filter_horizontal = ["services"]


@admin.register(Agent)
class AgentAdmin(ScopedModelAdmin):
    list_display = ["__str__", *Agent.POSTING_FIELDS]
    list_filter = ["role", "assignment"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    list_select_related = ["user", "service", "antenna"]
    raw_id_fields = ["user"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "username",
        "role_name",
        "action",
        "object_name",
        "object_id",
        "object_repr",
        "ip",
    ]
    list_filter = ["action", "object_type"]

    @admin.display(description=_("rôle"), ordering="role")
    def role_name(self, entry):
        return ROLE_LABELS.get(entry.role, entry.role or "—")

    @admin.display(description=_("type d'objet"), ordering="object_type")
    def object_name(self, entry):
        return object_label(entry.object_type)

    search_fields = ["username", "object_id"]
    date_hierarchy = "at"


@admin.register(JobRun)
class JobRunAdmin(ScopedModelAdmin):
    """Each run of the Celery jobs: administrators see what ran, when, and how it ended."""

    list_display = ["job", "service", "started_at", "finished_at", "status", "counters"]
    list_filter = ["name", "status"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    @admin.display(description=_("tâche"), ordering="name")
    def job(self, run):
        return run.label

    @admin.display(description=_("compteurs"))
    def counters(self, run):
        return ", ".join(f"{label} : {value}" for label, value in run.counts_display) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Commune)
class CommuneAdmin(ScopedModelAdmin):
    list_display = ["name", "postal_code", "insee_code", "service", "antenna"]
    list_filter = ["service"]
    search_fields = ["name", "postal_code", "insee_code"]
