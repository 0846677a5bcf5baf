from django.contrib import admin

from partners.models import (
    Convention,
    PartnerBody,
    PresentencingMandate,
    Referral,
    TigPlacement,
    TigPost,
    TigSession,
)
from spip.admin_base import PersonalDataAdmin, ScopedModelAdmin


@admin.register(PartnerBody)
class PartnerBodyAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "phone", "email"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["services", "antennas"]
    autocomplete_fields = ["communes"]


@admin.register(Convention)
class ConventionAdmin(ScopedModelAdmin):
    list_display = [
        "partner",
        "kind",
        "mandate",
        "court",
        "service",
        "starts_on",
        "ends_on",
        "places",
    ]
    list_filter = ["kind", "mandate"]


@admin.register(TigPost)
class TigPostAdmin(ScopedModelAdmin):
    list_display = ["title", "partner", "place", "places", "weekly_hours", "active"]
    list_filter = ["active"]
    search_fields = ["title", "partner__name"]


admin.site.register(Referral, PersonalDataAdmin)
admin.site.register(TigPlacement, PersonalDataAdmin)
admin.site.register(TigSession, PersonalDataAdmin)
admin.site.register(PresentencingMandate, PersonalDataAdmin)
