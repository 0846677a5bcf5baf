"""What every read endpoint shares: scoping through ``visible_to``, permissions, and the
audit of every read of personal data (lists, details, refused attempts)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from spip.access import scope_for
from spip.audit import audit_denied, audit_list, audit_view, query_filters


class SeesPersonalData(permissions.BasePermission):
    """DISP, DAP and partner staff work on aggregates: personal data endpoints are closed."""

    message = _("Votre rôle n'a pas accès aux données personnelles.")

    def has_permission(self, request, view) -> bool:
        return scope_for(request.user).sees_personal_data


# Reads of personal data leave a trace: one row per list request (filters, count, ids),
# one per object read, and one per refused attempt on an object that exists (recorded
# against the service holding it). ``audit_reads`` turns it on. (A comment, not a
# docstring: the API schema would show it as every endpoint's description.)
class AuditedReadsMixin:
    audit_reads = False
    # Ids are numbers: anything else is an unknown address (404), never a server error.
    lookup_value_regex = "[0-9]{1,18}"

    def _object_type(self) -> str:
        return self.get_queryset().model._meta.label_lower  # type: ignore[attr-defined]

    def get_object(self):
        try:
            return super().get_object()  # type: ignore[misc]
        except Http404:
            if self.audit_reads:
                lookup = self.lookup_url_kwarg or self.lookup_field  # type: ignore[attr-defined]
                pk = self.kwargs.get(lookup)  # type: ignore[attr-defined]
                model = self.get_queryset().model  # type: ignore[attr-defined]
                if str(pk).isdigit() and model._base_manager.filter(pk=pk).exists():
                    audit_denied(
                        actor=self.request.user,  # type: ignore[attr-defined]
                        object_type=model._meta.label_lower,
                        object_id=pk,
                        what=str(_("Lecture refusée (API)")),
                    )
            raise

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        data = self.get_serializer(instance).data  # type: ignore[attr-defined]
        if self.audit_reads:
            audit_view(actor=request.user, obj=instance)
        return Response(data)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        if self.audit_reads and response.status_code == 200:
            data = response.data
            rows = data.get("results", []) if isinstance(data, dict) else data
            ids = [row["id"] for row in rows if isinstance(row, dict) and "id" in row]
            if ids:
                audit_list(
                    actor=request.user,
                    object_type=self._object_type(),
                    ids=ids,
                    filters=query_filters(request),
                    what=str(_("Liste (API)")),
                )
        return response


class ScopedReadOnlyViewSet(AuditedReadsMixin, viewsets.ReadOnlyModelViewSet):
    """Read endpoints. ``queryset`` declares the joins and the order; the rows a user
    gets are always ``visible_to(user)``. Objects outside the scope answer 404."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


def exception_handler(exc, context):
    """DRF's handler, with a French answer for what is missing or outside the caller's
    scope (Django's "No Case matches the given query." would name the model, in English)."""
    if isinstance(exc, Http404):
        exc = NotFound(_("Introuvable, ou hors de votre périmètre."))
    return drf_exception_handler(exc, context)


def field_errors(exc: DjangoValidationError) -> DRFValidationError:
    """A service's refusal as the API answers it: 400, messages under their fields, or
    under ``non_field_errors`` when the refusal names none."""
    return DRFValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    )


class IdField(serializers.IntegerField):
    """A row's id in a request body: a positive 64-bit integer, anything else a 400 (never
    an overflow in the database)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)


def service_call(call, denied: str | StrPromise = ""):
    """Run a service for the API: its refusal of the user is a 403 (``denied``, or a
    generic message), its refusal of the input a 400 with field errors."""
    try:
        return call()
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(denied or _("Votre rôle ne le permet pas."))) from exc
    except DjangoValidationError as exc:
        raise field_errors(exc) from exc
