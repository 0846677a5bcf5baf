"""Workload and alerts API: snapshots with their breakdown, alerts, allocation."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases.workload.selectors import fraction_label
from reporting import indicators
from reporting.forms import report_params
from reporting.models import COUNT_FIELDS, WorkloadSnapshot
from spip.access import scope_for
from spip.api_base import ScopedReadOnlyViewSet
from spip.numbers import half_up


class WorkloadSnapshotSerializer(serializers.ModelSerializer):
    breakdown = serializers.SerializerMethodField()

    class Meta:
        model = WorkloadSnapshot
        fields = [
            "id",
            "day",
            "entity_type",
            "entity_id",
            "label",
            "service",
            "antenna",
            "agent",
            "interregional_unit",
            *COUNT_FIELDS,
            "awaiting_weighted",
            "weighted_load",
            "fte",
            "capacity",
            "load_percent",
            "persons_per_fte",
            "policy",
            "computed_at",
            "breakdown",
        ]

    def get_breakdown(self, snapshot) -> dict:
        """How the load % adds up, from the counts and the policy that produced the row."""
        policy = snapshot.policy
        lines = [
            {
                "risk_level": level,
                "cases": count,
                "weight": str(weight),
                "weight_label": fraction_label(weight),
                "load": str(weight * count),
            }
            for level, count, weight in (
                ("high", snapshot.cases_high, policy.weight_high),
                ("moderate", snapshot.cases_moderate, policy.weight_moderate),
                ("low", snapshot.cases_low, policy.weight_low),
                ("not_assessed", snapshot.cases_not_assessed, policy.weight_not_assessed),
            )
        ]
        reduction = (1 - snapshot.capacity / snapshot.fte) * 100 if snapshot.fte else 0
        return {
            "lines": lines,
            "weighted_load": str(snapshot.weighted_load),
            "fte": str(snapshot.fte),
            "reduction_percent": str(half_up(reduction)),
            "capacity": str(snapshot.capacity),
            "load_percent": None if snapshot.load_percent is None else str(snapshot.load_percent),
            "thresholds": {"amber": policy.threshold_amber, "red": policy.threshold_red},
        }


class WorkloadSnapshotFilterSet(django_filters.FilterSet):
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    day_to = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = WorkloadSnapshot
        fields = [
            "day",
            "entity_type",
            "entity_id",
            "service",
            "antenna",
            "agent",
            "interregional_unit",
        ]


class WorkloadSnapshotViewSet(ScopedReadOnlyViewSet):
    queryset = WorkloadSnapshot.objects.select_related("policy").order_by(
        "-day", "entity_type", "label", "id"
    )
    serializer_class = WorkloadSnapshotSerializer
    filterset_class = WorkloadSnapshotFilterSet
    ordering_fields = ["day", "load_percent", "persons_per_fte"]


# --- Reports: one endpoint per indicator, the same selector as its page ---------------

REPORT_PARAMETERS = [
    OpenApiParameter("service", int, description="Service (id)"),
    OpenApiParameter("antenna", int, description="Antenne (id)"),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Début de période (défaut : -365 j)"),
    OpenApiParameter(
        "until", OpenApiTypes.DATE, description="Fin de période (défaut : aujourd'hui)"
    ),
    OpenApiParameter("setting", str, enum=["mo", "mf"], description="Milieu ouvert / fermé"),
]


def _team_json(data: dict) -> dict:
    snapshot = data.get("snapshot")
    if snapshot is None:
        return {"day": None, "agents": []}
    policy = data["policy"]
    return {
        "day": snapshot.day,
        "entity": {"type": data["entity"][0], "id": data["entity"][1], "label": snapshot.label},
        "policy": {
            "id": policy.pk,
            "threshold_amber": policy.threshold_amber,
            "threshold_red": policy.threshold_red,
        },
        # With ?setting=mo|mf: the load of those cases only, named by "setting"; the
        # other figures are the whole team's ("team").
        "setting": data.get("setting") or None,
        "load_percent": data["totals"]["load_percent"],
        "persons_per_fte": snapshot.persons_per_fte,
        # Cases nobody follows, as the team's load counts them (its snapshot's day) …
        "arrivals": snapshot.awaiting_allocation,
        # … and the arrivals listed on the page right now, live.
        "arrivals_now": data["arrivals_total"],
        # The team's own figures, as on every page: caseloads over capacity, and beside
        # them the cases to allocate.
        "team": data["load"],
        "agents": [
            {
                "agent": r.agent_id,
                "name": r.label,
                "quotite": r.quotite,
                "persons": r.persons,
                "cases": {
                    "high": r.cases_high,
                    "moderate": r.cases_moderate,
                    "low": r.cases_low,
                    "not_assessed": r.cases_not_assessed,
                },
                "weighted_load": r.weighted_load,
                "capacity": r.capacity,
                "load_percent": r.load_percent,
                "status": r.status,
                "over_since": r.over_since,
                "breakdown": [
                    {**line, "weight": str(line["weight"]), "load": str(line["load"])}
                    for line in r.lines
                ],
                "open_alerts": r.alerts,
                "outcomes_missing": r.outcomes_missing,
            }
            for r in data["rows"]
        ],
        "trend": data["trend"],
    }


def _network_json(data: dict) -> dict:
    return {
        **data,
        "norms": [
            {"code": n.code, "label": n.label, "persons_per_agent": n.persons_per_agent}
            for n in data["norms"]
        ],
    }


class ReportViewSet(viewsets.ViewSet):
    """Indicators by level, filterable by entity and period, scoped like the pages:
    a DPIP counts their antenna, a DSPIP their service, a DISP their region, the DAP the
    nation; per-agent figures only within the service; no personal data above it."""

    def _params(self, request):

        if not scope_for(request.user).reads_reports:
            raise PermissionDenied(_("Ces indicateurs sont réservés à l'encadrement."))
        form, params = report_params(request.query_params, request.user)
        if params is None:
            raise serializers.ValidationError(form.errors)
        return params

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def team(self, request):
        """Team dashboard: one line per CPIP (DPIP, DSPIP)."""

        params = self._params(request)
        if not scope_for(request.user).sees_agents_by_name:
            raise PermissionDenied(_("Les chiffres par agent restent dans le service."))
        return Response(_team_json(indicators.team_dashboard(request.user, params)))

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def delays(self, request):
        """Sentence → first SPIP appointment → first interview."""

        return Response(indicators.delays(request.user, self._params(request)))

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def missed(self, request):
        """Missed convocations: rates per service, antenna, agent, type, reminders."""

        return Response(indicators.missed(request.user, self._params(request)))

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def outcomes(self, request):
        """Outcomes of ended measures by type, provider, intensity and risk."""

        return Response(indicators.outcomes(request.user, self._params(request)))

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def services(self, request):
        """Services side by side from the latest snapshots (no personal data)."""

        return Response(_network_json(indicators.network(request.user, self._params(request))))

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def continuity(self, request):
        """Releases with an appointment booked before release, first contacts in time,
        transfers' time to acceptance (no personal data)."""

        return Response(indicators.continuity(request.user, self._params(request)))

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    @action(detail=False)
    def staffing(self, request):
        """FTE needed (load at 100 %, head-count norm) against actual FTE."""

        return Response(indicators.staffing(request.user, self._params(request)))
