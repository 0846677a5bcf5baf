"""CPIP workspace API: timeline, interviews, assessments, incidents, proofs.

Creating goes through the same service functions as the forms; a case the user cannot
see answers 404 (and the attempt is audited)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.choices import Attendance, InterviewKind, RiskLevel
from cases.files import services as case_services
from cases.followup import services as followup_services
from cases.models import Case, Incident, Interview, Proof, RiskAssessment
from measures.models import ImposedObligation
from spip.access import scope_for
from spip.api_base import AuditedReadsMixin, SeesPersonalData, field_errors
from spip.audit import audit_denied
from spip.models import Agent


def _writable_case(request, case_id) -> Case:
    scope = scope_for(request.user)
    case = Case.objects.visible_to(request.user).filter(pk=case_id).first()
    if case is None:
        audit_denied(
            actor=request.user,
            object_type="cases.case",
            object_id=case_id,
            what="Écriture refusée (API)",
        )
        raise NotFound(_("Dossier introuvable."))
    if not scope.records_interviews or scope.agent_id is None:
        raise PermissionDenied(_("Votre rôle ne permet pas cette saisie."))
    return case


class WorkspaceSchema(AutoSchema):
    """A creation is described with its input serializer (what the client sends), the
    answer with the viewset's serializer (what it gets back)."""

    def get_request_serializer(self):
        if self.method == "POST":
            return self.view.input_serializer()
        return super().get_request_serializer()


class WorkspaceViewSet(
    AuditedReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-up records of the files you may read; created through the same rules as
    the case file's forms."""

    permission_classes = [IsAuthenticated, SeesPersonalData]
    audit_reads = True
    schema = WorkspaceSchema()

    def get_queryset(self):
        queryset = super().get_queryset().visible_to(self.request.user)
        case = self.request.query_params.get("case")
        return queryset.filter(case_id=case) if case and case.isdigit() else queryset

    def create(self, request, *args, **kwargs):
        body = self.input_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = _writable_case(request, body.validated_data["case"])
        agent = Agent.objects.get(pk=scope_for(request.user).agent_id)
        try:
            obj = self.perform_write(request, case, agent, body.validated_data)
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)


class InterviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Interview
        fields = [
            "id",
            "case",
            "agent",
            "held_at",
            "kind",
            "duration_minutes",
            "attendance",
            "notes",
            "private_notes",
            "convocation",
        ]


class InterviewInput(serializers.Serializer):
    case = serializers.IntegerField()
    held_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=InterviewKind.choices)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=480)
    attendance = serializers.ChoiceField(choices=Attendance.choices)
    notes = serializers.CharField(max_length=12000, required=False, allow_blank=True, default="")
    private_notes = serializers.CharField(
        max_length=12000, required=False, allow_blank=True, default=""
    )
    next_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class InterviewViewSet(WorkspaceViewSet):
    queryset = Interview.objects.order_by("-held_at", "-id")
    serializer_class = InterviewSerializer
    input_serializer = InterviewInput

    def perform_write(self, request, case, agent, data):
        return followup_services.interview_log(
            actor=request.user,
            case=case,
            agent=agent,
            **{k: v for k, v in data.items() if k != "case"},
        )


class AssessmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskAssessment
        fields = ["id", "case", "level", "assessed_on", "assessor", "reason"]


class AssessmentInput(serializers.Serializer):
    case = serializers.IntegerField()
    level = serializers.ChoiceField(choices=RiskLevel.choices)
    reason = serializers.CharField(max_length=2000)


class AssessmentViewSet(WorkspaceViewSet):
    queryset = RiskAssessment.objects.order_by("-assessed_on", "-id")
    serializer_class = AssessmentSerializer
    input_serializer = AssessmentInput

    def perform_write(self, request, case, agent, data):
        return case_services.risk_assess(
            actor=request.user,
            case=case,
            level=data["level"],
            assessed_on=timezone.localdate(),
            assessor=agent,
            reason=data["reason"],
        )


class IncidentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Incident
        fields = ["id", "case", "noticed_on", "facts", "status", "sent_on", "author"]


class IncidentInput(serializers.Serializer):
    case = serializers.IntegerField()
    noticed_on = serializers.DateField()
    facts = serializers.CharField(max_length=12000)


class IncidentViewSet(WorkspaceViewSet):
    queryset = Incident.objects.order_by("-noticed_on", "-id")
    serializer_class = IncidentSerializer
    input_serializer = IncidentInput

    def perform_write(self, request, case, agent, data):
        return followup_services.incident_record(
            actor=request.user,
            case=case,
            author=agent,
            noticed_on=data["noticed_on"],
            facts=data["facts"],
        )


class ProofSerializer(serializers.ModelSerializer):
    class Meta:
        model = Proof
        fields = [
            "id",
            "case",
            "obligation",
            "received_on",
            "original_name",
            "content_type",
            "size",
            "interview",
        ]


class ProofInput(serializers.Serializer):
    case = serializers.IntegerField()
    obligation = serializers.IntegerField()
    received_on = serializers.DateField(required=False)
    file = serializers.FileField()


class ProofViewSet(WorkspaceViewSet):
    queryset = Proof.objects.order_by("-received_on", "-id")
    serializer_class = ProofSerializer
    input_serializer = ProofInput
    parser_classes = [MultiPartParser]  # a file travels as multipart/form-data only

    def perform_write(self, request, case, agent, data):
        obligation = ImposedObligation.objects.filter(
            Q(pk=data["obligation"]), Q(measure__case=case)
        ).first()
        if obligation is None:
            raise DjangoValidationError(
                {"obligation": [_("Cette obligation ne concerne pas ce dossier.")]}
            )
        return followup_services.proof_record(
            actor=request.user,
            case=case,
            obligation=obligation,
            upload=data["file"],
            received_on=data.get("received_on") or timezone.localdate(),
        )
