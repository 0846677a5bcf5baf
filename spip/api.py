"""Organisation read API: services, antennas, agents."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from spip.api_base import ScopedReadOnlyViewSet
from spip.models import Agent, Antenna, Service


class ServiceSerializer(serializers.ModelSerializer):
    interregional_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Service
        fields = [
            "id",
            "code",
            "name",
            "department_name",
            "interregional_unit",
            "seat_address",
            "seat_city",
            "phone",
            "time_zone",
            "holiday_subdivision",
        ]


class ServiceFilterSet(django_filters.FilterSet):
    interregional_unit = django_filters.CharFilter(field_name="interregional_unit__code")
    time_zone = django_filters.CharFilter()

    class Meta:
        model = Service
        fields = ["code", "interregional_unit", "time_zone"]


class ServiceViewSet(ScopedReadOnlyViewSet):
    queryset = Service.objects.select_related("interregional_unit").order_by("code")
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    ordering_fields = ["code", "name"]


class AntennaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Antenna
        fields = ["id", "service", "name", "kind", "address", "city", "phone"]


class AntennaFilterSet(django_filters.FilterSet):
    service_code = django_filters.CharFilter(field_name="service__code")

    class Meta:
        model = Antenna
        fields = ["service", "service_code", "kind"]


class AntennaViewSet(ScopedReadOnlyViewSet):
    queryset = Antenna.objects.order_by("service_id", "name")
    serializer_class = AntennaSerializer
    filterset_class = AntennaFilterSet
    ordering_fields = ["name"]


class AgentSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)

    class Meta:
        model = Agent
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            *Agent.POSTING_FIELDS,
            "is_active",
        ]


class AgentFilterSet(django_filters.FilterSet):
    class Meta:
        model = Agent
        fields = ["role", "service", "antenna", "assignment"]


class AgentViewSet(ScopedReadOnlyViewSet):
    queryset = Agent.objects.select_related("user").order_by(
        "user__last_name", "user__first_name", "id"
    )
    serializer_class = AgentSerializer
    filterset_class = AgentFilterSet
    ordering_fields = ["quotite"]
