from django.contrib import admin

from measures.models import DeadlineRule, ImposedObligation, Measure, MeasureType, ObligationType
from spip.admin_base import PersonalDataAdmin, ScopedModelAdmin


@admin.register(MeasureType)
class MeasureTypeAdmin(ScopedModelAdmin):
    list_display = [
        "code",
        "legacy_code",
        "label",
        "category",
        "setting",
        "needs_legal_check",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["category", "setting", "needs_legal_check"]


@admin.register(ObligationType)
class ObligationTypeAdmin(ScopedModelAdmin):
    list_display = [
        "code",
        "article",
        "label",
        "family",
        "group",
        "needs_proof",
        "needs_legal_check",
    ]
    list_filter = ["family", "group", "needs_proof"]


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(ScopedModelAdmin):
    list_display = [
        "code",
        "version",
        "label",
        "amount",
        "unit",
        "extends_to_working_day",
        "legal_reference",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["trigger", "target", "extends_to_working_day", "needs_legal_check"]
    filter_horizontal = ["measure_types"]


admin.site.register(Measure, PersonalDataAdmin)
admin.site.register(ImposedObligation, PersonalDataAdmin)
