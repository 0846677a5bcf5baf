"""Persons and case files, read API (scoped; each file read is audited)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.files.filters import CaseFilterSet, PersonFilterSet
from cases.files.models import PERSON_CONTACT_FIELDS
from cases.files.selectors import IDENTITY_FIELDS, person_search, timeline
from cases.models import Case, Person
from cases.workload.api import AllocationMixin
from measures.models import Measure
from spip.access import browses_persons
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
            *PERSON_CONTACT_FIELDS,
            "national_number",
        ]


class PersonIdentitySerializer(serializers.ModelSerializer):
    """What recognises a person, and nothing more (the court's identity search)."""

    class Meta:
        model = Person
        fields = list(IDENTITY_FIELDS[:-1])


class PersonSearchInput(serializers.Serializer):
    surname = serializers.CharField(max_length=100, label=_("Nom"))
    first_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", label=_("Prénom")
    )
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)


class PersonViewSet(ScopedReadOnlyViewSet):
    """Persons. Court clerks search, they do not browse: for them the list is empty and
    ``search`` finds at most ten candidates by identity."""

    queryset = Person.objects.order_by("birth_name", "first_names", "id")
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    permission_classes = [IsAuthenticated, SeesPersonalData]
    audit_reads = True

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list" and not browses_persons(self.request.user):
            return queryset.none()
        return queryset

    @extend_schema(
        parameters=[PersonSearchInput],
        responses=PersonIdentitySerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def search(self, request):
        """Identity search: a surname (2 letters at least) and a birth date or a first
        name; at most 10 candidates, identity only. Each search is audited."""
        body = PersonSearchInput(data=request.query_params)
        body.is_valid(raise_exception=True)
        try:
            people = person_search(request.user, **body.validated_data)
        except DjangoValidationError as exc:
            raise DRFValidationError(exc.message_dict) from exc
        return Response(PersonIdentitySerializer(people, many=True).data)


def _day(value):
    return value.isoformat() if value is not None else None


def _measure_row(measure) -> dict:
    return {
        "id": measure.pk,
        "measure_type": measure.measure_type.code,
        "judgment_date": _day(measure.judgment_date),
        "start_date": _day(measure.start_date),
        "planned_end_date": _day(measure.planned_end_date),
        "actual_end_date": _day(measure.actual_end_date),
        "first_contact_on": _day(measure.first_contact_on),
    }


class CaseMeasureSerializer(serializers.ModelSerializer):
    measure_type = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[var-annotated]
    # The first contact since the judgment (cases.files.selectors.first_contact, stored in
    # the measure's row by cases.files.contacts), None before it.
    first_contact_on = serializers.DateField(read_only=True, allow_null=True)

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

    def to_representation(self, instance):
        """The declared fields read straight from the row, as the fields above would give
        them (a page of cases carries a hundred measures; tested equal)."""
        return _measure_row(instance)


class CaseSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    referent_name = serializers.CharField(
        source="referent.display_name", read_only=True, default=None, allow_null=True
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

    def to_representation(self, instance):
        """The declared fields read straight from the row, as the fields above would give
        them (the API's hottest list; tested equal to the generic rendering)."""
        referent = instance.referent
        return {
            "id": instance.pk,
            "person": instance.person_id,
            "person_name": instance.person.full_name,
            "service": instance.service_id,
            "antenna": instance.antenna_id,
            "referent": instance.referent_id,
            "referent_name": referent.display_name if referent is not None else None,
            "status": instance.status,
            "setting": instance.setting,
            "prison": instance.prison_id,
            "risk_level": instance.risk_level,
            "intensity": instance.intensity,
            "opened_on": _day(instance.opened_on),
            "allocated_on": _day(instance.allocated_on),
            "closed_on": _day(instance.closed_on),
            "measures": [_measure_row(m) for m in instance.measures.all()],
        }


class TimelineEventSerializer(serializers.Serializer):
    when = serializers.CharField(help_text="ISO 8601: a date-time, or a date for whole-day events")
    kind = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True, allow_null=True)


class TimelineMixin:
    @extend_schema(responses=TimelineEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request, pk=None):
        """Everything that happened to the person, newest first (MF and MO)."""

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
