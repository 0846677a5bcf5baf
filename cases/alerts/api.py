"""Alerts API: the open and closed alerts of the cases one may read."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from cases.models import Alert
from spip.api_base import ScopedReadOnlyViewSet


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            *Alert.FINDING_FIELDS,
            "opened_at",
            "closed_at",
            "snoozed_until",
            "snooze_reason",
        ]


class AlertFilterSet(django_filters.FilterSet):
    open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull")
    service = django_filters.NumberFilter(field_name="case__service_id")
    type = django_filters.CharFilter(field_name="alert_type")

    class Meta:
        model = Alert
        fields = ["type", "severity", "service", "agent", "case", "open"]


class AlertViewSet(ScopedReadOnlyViewSet):
    queryset = Alert.objects.order_by("-opened_at", "-id")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    audit_reads = True
