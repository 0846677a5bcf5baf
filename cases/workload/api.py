"""The workload API, on the case viewset: ``/cases/{id}/allocation-options/`` and
``/cases/{id}/allocate/``."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases.choices import CaseStatus
from cases.models import Case
from cases.workload.selectors import allocation_options
from cases.workload.services import case_allocate
from spip.access import scope_for
from spip.audit import get_visible_or_404
from spip.models import Agent


class AllocationOptionSerializer(serializers.Serializer):
    agent = serializers.IntegerField(source="agent.pk")
    name = serializers.CharField(source="agent.display_name")
    rank = serializers.IntegerField()
    before = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    after = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    capacity = serializers.DecimalField(max_digits=8, decimal_places=3)
    reduction_percent = serializers.IntegerField()
    continuity = serializers.BooleanField()
    absent = serializers.BooleanField()


class AllocateSerializer(serializers.Serializer):
    referent = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class AllocationMixin:
    """``/cases/{id}/allocation-options/`` and ``/cases/{id}/allocate/``, on the case viewset."""

    def _arrival(self, request, pk):
        if not scope_for(request.user).allocates:
            raise PermissionDenied(
                _("Seuls les chefs d'antenne et directeurs attribuent les dossiers.")
            )
        return get_visible_or_404(
            request.user, Case.objects, pk=pk, status=CaseStatus.AWAITING_ALLOCATION
        )

    @extend_schema(responses=AllocationOptionSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        url_path="allocation-options",
        pagination_class=None,
        filterset_class=None,
    )
    def allocation_options(self, request, pk=None):
        case = self._arrival(request, pk)
        options = allocation_options(case, timezone.localdate())
        for rank, option in enumerate(options, start=1):
            option["rank"] = rank
        return Response(AllocationOptionSerializer(options, many=True).data)

    @extend_schema(request=AllocateSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        case = self._arrival(request, pk)
        body = AllocateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referent = Agent.objects.filter(pk=body.validated_data["referent"]).first()
        if referent is None:
            return Response({"referent": [_("CPIP inconnu.")]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            case = case_allocate(
                actor=request.user,
                case=case,
                referent=referent,
                reason=body.validated_data["reason"],
            )
        except DjangoValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"id": case.pk, "referent": case.referent_id, "status": case.status})
