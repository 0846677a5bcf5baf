"""Persons and case files, read API (scoped; each file read is audited)."""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

from cases.filters import CaseFilterSet, PersonFilterSet
from cases.models import Case, Person
from measures.models import Measure
from reporting.api import AllocationMixin
from spip.api_base import ScopedReadOnlyViewSet, SeesPersonalData


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = [
            "id",
            "birth_name",
            "usage_name",
            "first_names",
            "sex",
            "birth_date",
            "birth_place",
            "address",
            "postal_code",
            "commune",
            "phone",
            "email",
            "accepts_messages",
            "national_number",
        ]


class PersonViewSet(ScopedReadOnlyViewSet):
    queryset = Person.objects.order_by("birth_name", "first_names", "id")
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    permission_classes = [IsAuthenticated, SeesPersonalData]
    audit_reads = True


class CaseMeasureSerializer(serializers.ModelSerializer):
    measure_type = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Measure
        fields = [
            "id",
            "measure_type",
            "judgment_date",
            "start_date",
            "planned_end_date",
            "actual_end_date",
        ]


class CaseSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    referent_name = serializers.CharField(
        source="referent.display_name", read_only=True, default=None
    )
    measures = CaseMeasureSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "person",
            "person_name",
            "service",
            "antenna",
            "referent",
            "referent_name",
            "status",
            "setting",
            "prison",
            "risk_level",
            "intensity",
            "opened_on",
            "allocated_on",
            "closed_on",
            "measures",
        ]


class CaseViewSet(AllocationMixin, ScopedReadOnlyViewSet):
    queryset = (
        Case.objects.select_related("person", "referent__user")
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.select_related("measure_type").order_by("-judgment_date"),
            )
        )
        .order_by("-opened_on", "-id")
    )
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    permission_classes = [IsAuthenticated, SeesPersonalData]
    ordering_fields = ["opened_on", "risk_level", "status"]
    audit_reads = True
