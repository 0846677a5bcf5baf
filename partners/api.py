"""Referrals API: the partner's and the SPIP's, through the same scoping rule and the
same workflow service as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from partners import services
from partners.choices import Domain, ReferralStatus
from partners.models import PartnerBody, Referral
from spip.api_base import AuditedReadsMixin, IdField, field_errors


class ReferralSerializer(serializers.ModelSerializer):
    person = serializers.SerializerMethodField(help_text=_("Nom et prénoms de la personne."))

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "person",
            "partner",
            "domain",
            "status",
            "reason",
            "message",
            "sent_on",
            "answered_on",
            "refusal_reason",
            "first_contact_on",
            "attended",
            "result",
            "ended_on",
            "reminded_on",
        ]

    def get_person(self, referral) -> str:
        return str(referral.case.person)


class ReferralProposeInput(serializers.Serializer):
    case = IdField()
    partner = IdField()
    domain = serializers.ChoiceField(choices=Domain.choices)
    reason = serializers.CharField(max_length=2000)
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    outside_reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ReferralStepInput(serializers.Serializer):
    to = serializers.ChoiceField(choices=ReferralStatus.choices)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    on = serializers.DateField(required=False, allow_null=True)
    attended = serializers.BooleanField(required=False, allow_null=True, default=None)
    result = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class ReferralViewSet(
    AuditedReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Referrals: a partner's staff get those addressed to their body, SPIP staff those of
    the cases they read. ``POST`` proposes one (SPIP), ``POST …/step/`` moves it on."""

    queryset = Referral.objects.select_related("case__person", "partner").order_by(
        "-sent_on", "-id"
    )
    serializer_class = ReferralSerializer
    permission_classes = [IsAuthenticated]
    audit_reads = True
    filterset_fields = ["status", "partner", "domain"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @extend_schema(request=ReferralProposeInput, responses={201: ReferralSerializer})
    def create(self, request, *args, **kwargs):
        body = ReferralProposeInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        cases = Referral._meta.get_field("case").related_model.objects  # type: ignore[union-attr]
        case = cases.visible_to(request.user).filter(pk=data.pop("case")).first()
        partner = (
            PartnerBody.objects.visible_to(request.user).filter(pk=data.pop("partner")).first()
        )
        if case is None or partner is None:
            raise NotFound(_("Dossier ou partenaire introuvable."))
        try:
            referral = services.referral_propose(
                actor=request.user, case=case, partner=partner, **data
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(_("Votre rôle ne permet pas d'orienter.")) from exc
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(self.get_serializer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReferralStepInput, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        referral = self.get_object()
        body = ReferralStepInput(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            referral = services.referral_step(
                actor=request.user, referral=referral, **body.validated_data
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(_("Cette étape ne vous revient pas.")) from exc
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(self.get_serializer(referral).data)
