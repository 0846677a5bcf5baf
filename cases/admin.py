from django.contrib import admin

from cases.agenda.services import slots_generate
from cases.models import (
    Agenda,
    AgendaClosure,
    Alert,
    Case,
    Convocation,
    Incident,
    IntensityChange,
    Interview,
    Notification,
    Person,
    RiskAssessment,
    Slot,
    SlotTemplate,
    Transfer,
)
from spip.admin_base import PersonalDataAdmin, ScopedModelAdmin
from spip.services import admin_object_delete, admin_object_save


@admin.register(Person)
class PersonAdmin(PersonalDataAdmin):
    list_display = ["__str__", "birth_date", "commune", "national_number"]
    search_fields = ["search_key", "national_number"]


@admin.register(Case)
class CaseAdmin(PersonalDataAdmin):
    list_display = ["id", "person", "service", "antenna", "referent", "status", "risk_level"]
    list_filter = ["status", "risk_level", "setting"]
    list_select_related = ["person", "service", "antenna", "referent__user"]


for model in (RiskAssessment, IntensityChange, Convocation, Interview, Incident, Transfer, Alert):
    admin.site.register(model, PersonalDataAdmin)


class SlotTemplateInline(admin.TabularInline):
    model = SlotTemplate
    extra = 1


class AgendaClosureInline(admin.TabularInline):
    model = AgendaClosure
    extra = 0


@admin.register(Agenda)
class AgendaAdmin(ScopedModelAdmin):
    """Heads of antenna and secretaries publish the weekly slots; the nightly job generates
    the coming weeks (or this action, at once)."""

    list_display = ["name", "kind", "antenna", "court", "is_active", "weeks_ahead"]
    inlines = [SlotTemplateInline, AgendaClosureInline]
    actions = ["generate_slots"]

    def save_formset(self, request, form, formset, change):

        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            admin_object_delete(actor=request.user, obj=obj)
        for obj in instances:
            admin_object_save(actor=request.user, obj=obj, is_new=obj.pk is None)

    @admin.action(description="Générer les créneaux des semaines à venir")
    def generate_slots(self, request, queryset):

        created = slots_generate(agenda_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{created} créneau(x) créé(s).")


@admin.register(Slot)
class SlotAdmin(ScopedModelAdmin):
    list_display = ["agenda", "starts_at", "duration_minutes", "capacity"]
    list_select_related = ["agenda"]


@admin.register(Notification)
class NotificationAdmin(PersonalDataAdmin):
    list_display = [
        "convocation",
        "event",
        "channel",
        "send_after",
        "status",
        "attempts",
        "last_error",
    ]
    list_filter = ["status", "event", "channel"]


# The sub-domains' admin pages.
from cases.workload import admin as workload_admin  # noqa: E402, F401
