"""Measures and catalogues, read API."""

from __future__ import annotations

import django_filters
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

from measures.models import ImposedObligation, Measure, MeasureType, ObligationType
from spip.api_base import ScopedReadOnlyViewSet, SeesPersonalData


class MeasureTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeasureType
        fields = [
            "id",
            "code",
            "legacy_code",
            "label",
            "category",
            "setting",
            "legal_basis",
            "min_duration_months",
            "max_duration_months",
            "tig_hours_min",
            "tig_hours_max",
            "needs_legal_check",
            "valid_from",
            "valid_to",
        ]


class MeasureTypeFilterSet(django_filters.FilterSet):
    class Meta:
        model = MeasureType
        fields = ["code", "category", "setting"]


class MeasureTypeViewSet(ScopedReadOnlyViewSet):
    queryset = MeasureType.objects.order_by("code")
    serializer_class = MeasureTypeSerializer
    filterset_class = MeasureTypeFilterSet


class ObligationTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ObligationType
        fields = [
            "id",
            "code",
            "label",
            "family",
            "group",
            "article",
            "needs_proof",
            "proof_hint",
            "needs_legal_check",
            "valid_from",
            "valid_to",
        ]


class ObligationTypeFilterSet(django_filters.FilterSet):
    class Meta:
        model = ObligationType
        fields = ["family", "group", "needs_proof"]


class ObligationTypeViewSet(ScopedReadOnlyViewSet):
    queryset = ObligationType.objects.order_by("family", "code")
    serializer_class = ObligationTypeSerializer
    filterset_class = ObligationTypeFilterSet


class ImposedObligationSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="obligation_type.code", read_only=True)
    label = serializers.CharField(source="obligation_type.label", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = ImposedObligation
        fields = ["code", "label", "details"]


class MeasureSerializer(serializers.ModelSerializer):
    measure_type = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[var-annotated]
    obligations = ImposedObligationSerializer(many=True, read_only=True)

    class Meta:
        model = Measure
        fields = [
            "id",
            "case",
            "measure_type",
            "court",
            "judgment_date",
            "judgment_reference",
            "provisionally_enforceable",
            "start_date",
            "planned_end_date",
            "actual_end_date",
            "end_reason",
            "followed_by",
            "partner",
            "tig_hours",
            "tig_deadline",
            "obligations",
        ]


class MeasureFilterSet(django_filters.FilterSet):
    measure_type = django_filters.CharFilter(field_name="measure_type__code")
    open = django_filters.BooleanFilter(field_name="actual_end_date", lookup_expr="isnull")
    judgment_after = django_filters.DateFilter(field_name="judgment_date", lookup_expr="gte")
    judgment_before = django_filters.DateFilter(field_name="judgment_date", lookup_expr="lte")

    class Meta:
        model = Measure
        fields = [
            "case",
            "measure_type",
            "court",
            "followed_by",
            "open",
            "judgment_after",
            "judgment_before",
        ]


class MeasureViewSet(ScopedReadOnlyViewSet):
    queryset = (
        Measure.objects.select_related("measure_type")
        .prefetch_related("obligations__obligation_type")
        .order_by("-judgment_date", "-id")
    )
    serializer_class = MeasureSerializer
    filterset_class = MeasureFilterSet
    permission_classes = [IsAuthenticated, SeesPersonalData]
    ordering_fields = ["judgment_date", "start_date"]
    audit_reads = True
