from django.contrib import admin

from partners.models import Convention, PartnerBody, Referral
from spip.admin_base import PersonalDataAdmin, ScopedModelAdmin


@admin.register(PartnerBody)
class PartnerBodyAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "phone", "email"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["services"]


@admin.register(Convention)
class ConventionAdmin(ScopedModelAdmin):
    list_display = ["partner", "kind", "court", "service", "starts_on", "ends_on"]
    list_filter = ["kind"]


admin.site.register(Referral, PersonalDataAdmin)
