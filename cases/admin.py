from django.contrib import admin

from cases.models import (
    Agenda,
    Alert,
    Case,
    Convocation,
    Incident,
    IntensityChange,
    Interview,
    Person,
    RiskAssessment,
    Slot,
    Transfer,
)
from spip.admin_base import PersonalDataAdmin, ScopedModelAdmin


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


@admin.register(Agenda)
class AgendaAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "antenna", "court", "is_active"]


@admin.register(Slot)
class SlotAdmin(ScopedModelAdmin):
    list_display = ["agenda", "starts_at", "duration_minutes", "capacity"]
    list_select_related = ["agenda"]
