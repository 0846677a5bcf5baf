"""Agendas, slots and convocations API. Booking goes through the same service as the desk."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.agenda import services as booking
from cases.agenda.desk import convocation_pdf
from cases.agenda.services import convocation_set_outcome
from cases.choices import ConvocationStatus, ConvocationType
from cases.models import Agenda, Case, Convocation, Slot
from measures.models import Measure, MeasureType
from spip.access import scope_for
from spip.api_base import ScopedReadOnlyViewSet, SeesPersonalData, field_errors


class AgendaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agenda
        fields = ["id", "kind", "name", "antenna", "court", "is_active", "weeks_ahead"]


class AgendaViewSet(ScopedReadOnlyViewSet):
    queryset = Agenda.objects.order_by("name", "id")
    serializer_class = AgendaSerializer
    filterset_fields = ["kind", "antenna", "court", "is_active"]


class SlotSerializer(serializers.ModelSerializer):
    free_seats = serializers.SerializerMethodField()
    within_deadline = serializers.SerializerMethodField()

    class Meta:
        model = Slot
        fields = [
            "id",
            "agenda",
            "starts_at",
            "duration_minutes",
            "capacity",
            "free_seats",
            "within_deadline",
        ]

    def get_free_seats(self, slot) -> int:
        return slot.capacity - slot.booked

    def get_within_deadline(self, slot) -> bool | None:
        deadline = self.context.get("deadline")
        if deadline is None:
            return None
        return booking.local_date(slot.starts_at, self.context["zone"]) <= deadline.last_day


class SlotFilterSet(django_filters.FilterSet):
    antenna = django_filters.NumberFilter(field_name="agenda__antenna")
    date_from = django_filters.DateFilter(method="filter_from")
    date_to = django_filters.DateFilter(method="filter_to")
    free = django_filters.BooleanFilter(method="filter_free")

    class Meta:
        model = Slot
        fields = ["agenda", "antenna", "date_from", "date_to", "free"]

    def filter_from(self, queryset, name, value):
        if value <= date.min + timedelta(days=1):  # "since the beginning of time": no bound
            return queryset
        return queryset.filter(
            starts_at__gte=datetime.combine(value, time.min, tzinfo=timezone.get_current_timezone())
        )

    def filter_to(self, queryset, name, value):
        if value >= date.max - timedelta(days=1):  # "until the end of time": no bound
            return queryset
        end = datetime.combine(
            value + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
        )
        return queryset.filter(starts_at__lt=end)

    def filter_free(self, queryset, name, value):
        return queryset.filter(booked__lt=F("capacity")) if value else queryset


class SlotViewSet(ScopedReadOnlyViewSet):
    """Filter by antenna, dates, free only; with ``measure_type`` and ``judgment_date``, each
    slot says whether it is within the legal deadline."""

    queryset = Slot.objects.annotate(
        booked=Count("convocations", filter=Q(convocations__status__in=booking.LIVE))
    ).order_by("starts_at", "id")
    serializer_class = SlotSerializer
    filterset_class = SlotFilterSet

    def get_serializer_context(self):
        context = super().get_serializer_context()
        code, judged = (
            self.request.query_params.get("measure_type"),
            self.request.query_params.get("judgment_date"),
        )
        if code and judged:
            measure_type = MeasureType.objects.filter(code=code.upper()).first()
            try:
                day = datetime.strptime(judged, "%Y-%m-%d").date()
            except ValueError:
                day = None
            if measure_type and day:
                context["deadline"] = booking.deadline_for(measure_type, day)
        context["zone"] = str(timezone.get_current_timezone())
        return context


class ConvocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Convocation
        fields = [
            "id",
            "case",
            "measure",
            "kind",
            "antenna",
            "slot",
            "seat",
            "starts_at",
            "status",
            "outcome_reason",
            "issued_from",
            "issued_at",
            "deadline_exceeded_reason",
            "rescheduled_from",
            "reaction",
        ]


class BookInput(serializers.Serializer):
    case = serializers.IntegerField()
    slot = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=ConvocationType.choices, default=ConvocationType.END_OF_HEARING
    )
    measure = serializers.IntegerField(required=False, allow_null=True)
    beyond_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=255, default=""
    )
    request_token = serializers.CharField(
        required=False, allow_blank=True, max_length=64, default=""
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255)
    slot = serializers.IntegerField(required=False)


class OutcomeInput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[c for c in ConvocationStatus.choices if c[0] != "booked"]
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


def _errors(exc: DjangoValidationError) -> Response:
    return Response(field_errors(exc).detail, status=status.HTTP_400_BAD_REQUEST)


class ConvocationViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    queryset = Convocation.objects.order_by("-starts_at", "-id")
    serializer_class = ConvocationSerializer
    permission_classes = [IsAuthenticated, SeesPersonalData]
    filterset_fields = ["case", "status", "kind", "antenna"]
    audit_reads = True

    @extend_schema(request=BookInput, responses={201: ConvocationSerializer})
    def create(self, request, *args, **kwargs):
        body = BookInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = Case.objects.visible_to(request.user).filter(pk=data["case"]).first()
        if case is None:
            raise NotFound(_("Dossier introuvable."))
        slot = Slot.objects.visible_to(request.user).filter(pk=data["slot"]).first()
        if slot is None:
            return Response(
                {"slot": [_("Créneau introuvable.")]}, status=status.HTTP_400_BAD_REQUEST
            )
        measure = (
            Measure.objects.visible_to(request.user)
            .filter(pk=data.get("measure") or 0, case=case)
            .first()
        )
        try:
            conv = booking.convocation_book(
                actor=request.user,
                case=case,
                slot=slot,
                kind=data["kind"],
                measure=measure,
                issued_from="bex" if scope_for(request.user).role == "bex" else "spip",
                beyond_reason=data["beyond_reason"],
                request_token=data["request_token"] or None,
            )
        except DjangoValidationError as exc:
            return _errors(exc)
        return Response(ConvocationSerializer(conv).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonInput, responses=ConvocationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        conv = self.get_object()
        body = ReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            conv = booking.convocation_cancel(
                actor=request.user, convocation=conv, reason=body.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            return _errors(exc)
        return Response(ConvocationSerializer(conv).data)

    @extend_schema(request=ReasonInput, responses=ConvocationSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        conv = self.get_object()
        body = ReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        slot = (
            Slot.objects.visible_to(request.user)
            .filter(pk=body.validated_data.get("slot") or 0)
            .first()
        )
        if slot is None:
            return Response(
                {"slot": [_("Créneau introuvable.")]}, status=status.HTTP_400_BAD_REQUEST
            )
        try:
            new = booking.convocation_reschedule(
                actor=request.user,
                convocation=conv,
                slot=slot,
                reason=body.validated_data["reason"],
            )
        except DjangoValidationError as exc:
            return _errors(exc)
        return Response(ConvocationSerializer(new).data)

    @extend_schema(request=OutcomeInput, responses=ConvocationSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):

        conv = self.get_object()
        body = OutcomeInput(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            conv = convocation_set_outcome(
                actor=request.user, convocation=conv, **body.validated_data
            )
        except DjangoValidationError as exc:
            return _errors(exc)
        return Response(ConvocationSerializer(conv).data)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None) -> HttpResponse:

        conv = self.get_object()
        return convocation_pdf(request._request, conv.pk)
