"""Admin base: rows and choices scoped for non-superusers, every write audited."""

from __future__ import annotations

from django.contrib import admin

from spip.audit import audit_view
from spip.services import admin_object_delete, admin_object_save


def _scoped(queryset, user):
    if user.is_superuser or not hasattr(queryset, "visible_to"):
        return queryset
    return queryset.visible_to(user)


class ScopedModelAdmin(admin.ModelAdmin):
    audit_reads = False

    def get_queryset(self, request):
        return _scoped(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _scoped(field.queryset, request.user)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _scoped(field.queryset, request.user)
        return field

    def save_model(self, request, obj, form, change):
        admin_object_save(actor=request.user, obj=obj, is_new=not change)

    def delete_model(self, request, obj):
        admin_object_delete(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            admin_object_delete(actor=request.user, obj=obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if (
            self.audit_reads
            and request.method == "GET"
            and getattr(response, "status_code", 0) == 200
        ):
            obj = self.get_object(request, object_id)
            if obj is not None:
                audit_view(actor=request.user, obj=obj)
        return response


class ReadOnlyAdmin(ScopedModelAdmin):
    """Rows written by the application only (records, personal data): the admin reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PersonalDataAdmin(ReadOnlyAdmin):
    """Personal data is written through the application's forms, never edited in the admin."""

    audit_reads = True
