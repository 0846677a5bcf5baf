"""What every read endpoint shares: scoping through ``visible_to`` and permissions."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, viewsets

from spip.access import scope_for
from spip.audit import audit_view


class SeesPersonalData(permissions.BasePermission):
    """DISP, DAP and partner staff work on aggregates: personal data endpoints are closed."""

    message = _("Votre rôle n'a pas accès aux données personnelles.")

    def has_permission(self, request, view) -> bool:
        return scope_for(request.user).sees_personal_data


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Read endpoints. ``queryset`` declares the joins and the order; the rows a user
    gets are always ``visible_to(user)``. Objects outside the scope answer 404."""

    audit_reads = False

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        if self.audit_reads:
            audit_view(actor=request.user, obj=self.get_object())
        return response
