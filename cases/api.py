"""Persons and case files, read API (scoped; each file read is audited)."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.filters import CaseFilterSet, PersonFilterSet
from cases.models import Case, Person
from cases.selectors import first_contact
from measures.models import Measure
from reporting.api import AllocationMixin
from spip.api_base import ScopedReadOnlyViewSet, SeesPersonalData
from spip.audit import audit_view


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
    # The first contact since the judgment (cases.selectors.first_contact), None before it.
    first_contact_on = serializers.DateField(read_only=True, default=None)

    class Meta:
        model = Measure
        fields = [
            "id",
            "measure_type",
            "judgment_date",
            "start_date",
            "planned_end_date",
            "actual_end_date",
            "first_contact_on",
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


class TimelineMixin:
    @extend_schema(responses={200: None})
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """Everything that happened to the person, newest first (MF and MO)."""
        from cases.selectors import timeline

        case = self.get_object()
        audit_view(actor=request.user, obj=case)
        events = timeline(request.user, case)
        return Response(
            [
                {
                    "when": e["when"].isoformat(),
                    "kind": e["kind"],
                    "title": e["title"],
                    "detail": e["detail"],
                }
                for e in events
            ]
        )


class CaseViewSet(TimelineMixin, AllocationMixin, ScopedReadOnlyViewSet):
    queryset = (
        Case.objects.select_related("person", "referent__user")
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.select_related("measure_type")
                .annotate(first_contact_on=first_contact("case", "judgment_date"))
                .order_by("-judgment_date"),
            )
        )
        .order_by("-opened_on", "-id")
    )
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    permission_classes = [IsAuthenticated, SeesPersonalData]
    ordering_fields = ["opened_on", "risk_level", "status"]
    audit_reads = True
