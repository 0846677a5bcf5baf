"""Duplicates API: candidates, merge, undo; the same rules and services as the pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.files import merges
from cases.models import Person, PersonMerge
from spip.access import scope_for
from spip.api_base import AuditedReadsMixin, IdField, service_call

DENIED = _("Réservé aux directeurs.")


class MergeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonMerge
        fields = ["id", "kept", "merged", "reason", "rule", "moved_cases", "merged_at", "undone_at"]


class MergeInput(serializers.Serializer):
    kept = IdField()
    merged = IdField()
    reason = serializers.CharField(max_length=255)


class DuplicateViewSet(
    AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Merges made (list), likely duplicates (``candidates/``), ``POST`` merges two
    records, ``POST …/undo/`` undoes a merge within 30 days. Directors only."""

    queryset = PersonMerge.objects.select_related("kept", "merged").order_by("-merged_at", "-id")
    serializer_class = MergeSerializer
    permission_classes = [IsAuthenticated]
    audit_reads = True

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @extend_schema(
        responses={
            200: inline_serializer(
                "DuplicateCandidate",
                fields={
                    "first": serializers.IntegerField(),
                    "second": serializers.IntegerField(),
                    "rule": serializers.CharField(),
                },
                many=True,
            )
        }
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def candidates(self, request):
        if not scope_for(request.user).allocates:
            raise PermissionDenied(_("Réservé aux directeurs."))
        return Response(
            [
                {"first": c.first.pk, "second": c.second.pk, "rule": c.rule}
                for c in merges.candidates(request.user)
            ]
        )

    @extend_schema(request=MergeInput, responses={201: MergeSerializer})
    def create(self, request, *args, **kwargs):
        body = MergeInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        visible = Person.objects.visible_to(request.user).in_bulk([data["kept"], data["merged"]])
        kept, merged = visible.get(data["kept"]), visible.get(data["merged"])
        if kept is None or merged is None:
            raise NotFound(_("Fiche introuvable."))
        merge = service_call(
            lambda: merges.person_merge(
                actor=request.user, kept=kept, merged=merged, reason=data["reason"]
            ),
            DENIED,
        )
        return Response(self.get_serializer(merge).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: MergeSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        merge = self.get_object()
        merge = service_call(lambda: merges.person_unmerge(actor=request.user, merge=merge), DENIED)
        return Response(self.get_serializer(merge).data)
