"""The cases API renders its rows by hand for speed: the result must be exactly what the
declared fields would give, whatever the row (no referent, no prison, measures ended or
not, dates missing)."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework import serializers

from cases.files.api import CaseMeasureSerializer, CaseSerializer
from cases.models import Case
from tests.factories import MeasureFactory

pytestmark = pytest.mark.django_db


class GenericMeasure(CaseMeasureSerializer):
    to_representation = serializers.ModelSerializer.to_representation


class GenericCase(CaseSerializer):
    measures = GenericMeasure(many=True, read_only=True)
    to_representation = serializers.ModelSerializer.to_representation


def test_each_case_renders_as_its_declared_fields_would(world):
    MeasureFactory(
        case=world.cases["mine"],
        court=world.court,
        judgment_date=date(2025, 2, 1),
        start_date=date(2025, 3, 1),
        actual_end_date=date(2026, 6, 1),
        end_reason="completed",
    )
    cases = Case.objects.select_related("person", "referent__user").prefetch_related(
        "measures__measure_type"
    )
    assert cases.count() == 5
    for case in cases:
        assert dict(CaseSerializer(case).data) == dict(GenericCase(case).data), case.pk


def test_the_api_list_gives_the_same_rows(world, api_for):
    body = api_for(world.users["dspip"]).get("/api/v1/cases/?page_size=50").json()
    by_id = {row["id"]: row for row in body["results"]}
    for case in Case.objects.filter(pk__in=by_id):
        assert by_id[case.pk] == dict(GenericCase(case).data)
