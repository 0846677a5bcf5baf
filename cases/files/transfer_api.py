"""Transfers and releases API: the same rules and services as the pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.choices import OPEN_STATUSES, ConvocationStatus
from cases.files import releases, transfers
from cases.models import Case, ReleasePlan, Transfer
from spip.access import scope_for
from spip.api_base import AuditedReadsMixin, IdField, field_errors, service_call
from spip.models import Antenna, Service

DENIED = _("Réservé aux directeurs des services concernés.")


class TransferSerializer(serializers.ModelSerializer):
    person = serializers.SerializerMethodField()

    class Meta:
        model = Transfer
        fields = [
            "id",
            "case",
            "person",
            "from_service",
            "to_service",
            "to_antenna",
            "status",
            "reason",
            "requested_on",
            "answered_on",
            "answer_note",
            "auto_accepted",
            "completed_on",
            "new_case",
        ]

    def get_person(self, transfer) -> str:
        return str(transfer.case.person)


class ProposeInput(serializers.Serializer):
    case = IdField()
    to_service = IdField()
    to_antenna = IdField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=255)
    override_reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class RequestInput(serializers.Serializer):
    national_number = serializers.CharField(max_length=20)
    birth_date = serializers.DateField()
    reason = serializers.CharField(max_length=255)


class AnswerInput(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class TransferViewSet(
    AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Transfers of the cases the user reads, and those addressed to the director's
    service. ``POST`` proposes (sending director), ``POST request/`` asks for a case
    followed elsewhere (receiving director), ``…/accept/`` and ``…/refuse/`` answer."""

    queryset = Transfer.objects.select_related("case__person").order_by("-requested_on", "-id")
    serializer_class = TransferSerializer
    permission_classes = [IsAuthenticated]
    audit_reads = True
    filterset_fields = ["status", "from_service", "to_service"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @extend_schema(request=ProposeInput, responses={201: TransferSerializer})
    def create(self, request, *args, **kwargs):
        body = ProposeInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = Case.objects.visible_to(request.user).filter(pk=data["case"]).first()
        to_service = Service.objects.filter(pk=data["to_service"]).first()
        antenna_id = data.get("to_antenna")
        to_antenna = Antenna.objects.filter(pk=antenna_id).first() if antenna_id else None
        if case is None:
            raise NotFound(_("Dossier introuvable."))
        if to_service is None or (antenna_id and to_antenna is None):
            raise field_errors(DjangoValidationError({"to_service": _("Service inconnu.")}))
        transfer = service_call(
            lambda: transfers.transfer_open(
                actor=request.user,
                case=case,
                to_service=to_service,
                to_antenna=to_antenna,
                reason=data["reason"],
                override_reason=data.get("override_reason", ""),
            ),
            DENIED,
        )
        return Response(self.get_serializer(transfer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RequestInput, responses={201: TransferSerializer})
    @action(detail=False, methods=["post"], url_path="request")
    def ask(self, request):
        body = RequestInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        scope = scope_for(request.user)
        if not scope.allocates:
            raise PermissionDenied(_("Réservé aux directeurs."))
        case = (
            Case.objects.filter(
                person__national_number=data["national_number"].strip(),
                person__birth_date=data["birth_date"],
                status__in=OPEN_STATUSES,
            )
            .exclude(service_id=scope.service_id)
            .first()
        )
        service = Service.objects.filter(pk=scope.service_id).first()
        if case is None or service is None:
            raise NotFound(_("Aucun dossier ouvert dans un autre service ne correspond."))
        transfer = service_call(
            lambda: transfers.transfer_open(
                actor=request.user,
                case=case,
                to_service=service,
                reason=data["reason"],
                requested=True,
            ),
            DENIED,
        )
        return Response(self.get_serializer(transfer).data, status=status.HTTP_201_CREATED)

    def _answer(self, request, accept: bool):
        transfer = self.get_object()
        body = AnswerInput(data=request.data)
        body.is_valid(raise_exception=True)
        transfer = service_call(
            lambda: transfers.transfer_answer(
                actor=request.user,
                transfer=transfer,
                accept=accept,
                note=body.validated_data.get("note", ""),
            ),
            DENIED,
        )
        return Response(self.get_serializer(transfer).data)

    @extend_schema(request=AnswerInput, responses={200: TransferSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(request, True)

    @extend_schema(request=AnswerInput, responses={200: TransferSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        return self._answer(request, False)


class ReleaseSerializer(serializers.ModelSerializer):
    person = serializers.SerializerMethodField()
    phase = serializers.SerializerMethodField(
        help_text=_("custody, handover (the weeks before release), community (released).")
    )
    appointment = serializers.SerializerMethodField(
        help_text=_("Date et heure du premier rendez-vous en milieu ouvert, s'il est pris.")
    )

    class Meta:
        model = ReleasePlan
        fields = [
            "id",
            "case",
            "person",
            "planned_on",
            "home_service",
            "home_antenna",
            "phase",
            "appointment",
            "booked_on",
            "released_on",
            "transfer",
            *ReleasePlan.CHECKLIST,
        ]

    def get_person(self, plan) -> str:
        return str(plan.case.person)

    def get_phase(self, plan) -> str:
        return releases.phase(plan)

    def get_appointment(self, plan) -> str | None:
        c = plan.convocation
        return c.starts_at.isoformat() if c and c.status == ConvocationStatus.BOOKED else None


class ReleaseViewSet(
    AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Planned releases of the cases the user reads (and, for the home service's
    directors, those coming to it), with their handover phase and appointment."""

    queryset = ReleasePlan.objects.select_related("case__person", "convocation").order_by(
        "planned_on", "id"
    )
    serializer_class = ReleaseSerializer
    permission_classes = [IsAuthenticated]
    audit_reads = True
    filterset_fields = ["home_service", "released_on"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)
