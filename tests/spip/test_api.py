"""API mechanics: pagination, token auth, OpenAPI, and pinned query counts."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import CaseFactory, MeasureFactory

pytestmark = pytest.mark.django_db


def test_page_size_is_capped_at_500(world, api_for):
    from datetime import date

    from cases.models import Person

    Person.objects.bulk_create(
        Person(birth_name=f"Nom{i}", first_names="Jean", sex="M", birth_date=date(1980, 1, 1))
        for i in range(520)
    )
    body = api_for(world.users["admin"]).get("/api/v1/persons/?page_size=1000").json()
    assert body["count"] == 525
    assert len(body["results"]) == 500


def test_pages_follow_the_declared_order(world, api_for):
    body = api_for(world.users["admin"]).get("/api/v1/services/?page_size=10&page=2").json()
    # Codes sort as text: 01…09, 10, then 11…19, 21 (there is no 20: Corsica is 2A, 2B).
    assert [row["code"] for row in body["results"]] == [
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "21",
    ]


def test_filters_apply(world, api_for):
    api = api_for(world.users["admin"])
    codes = [
        row["code"] for row in api.get("/api/v1/services/?interregional_unit=MOM").json()["results"]
    ]
    assert codes == ["971", "972", "973", "974", "976", "987", "988"]
    body = api.get("/api/v1/measure-types/?category=custody").json()
    assert [row["code"] for row in body["results"]] == ["MF"]


def test_cases_can_be_searched_by_name_ignoring_accents_and_case(world, api_for):
    person = world.cases["mine"].person
    person.birth_name = "Lefèvre-Dupont"
    person.search_key = "LEFEVRE DUPONT " + person.first_names.upper()
    person.save()
    body = api_for(world.users["cpip"]).get("/api/v1/cases/?q=lefevre dupont").json()
    assert [row["id"] for row in body["results"]] == [world.cases["mine"].pk]


def test_token_authentication(world):
    call_command("drf_create_token", "cpip")
    token = Token.objects.get(user=world.users["cpip"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/cases/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION="Token invalide")
    assert api.get("/api/v1/cases/").status_code == 401


def test_openapi_schema_lists_the_endpoints(world, client_for):
    response = client_for(world.users["cpip"]).get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/cases/",
        "/api/v1/persons/{id}/",
        "/api/v1/services/",
        "/api/v1/measure-types/",
    ):
        assert path in paths


def test_swagger_ui_is_served_without_a_cdn(world, client_for):
    client = client_for(world.users["cpip"])
    html = client.get("/api/docs/").content.decode()
    html += client.get("/api/docs/?script=").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html


@pytest.mark.parametrize(
    ("endpoint", "queries"),
    [
        # session user + agent profile (scope), count, page
        ("/api/v1/services/", 3),
        ("/api/v1/antennas/", 3),
        ("/api/v1/agents/", 3),
        ("/api/v1/measure-types/", 2),
        # scope, count, page + prefetch of measures, + the list's one audit INSERT
        ("/api/v1/cases/", 5),
        ("/api/v1/persons/", 4),
        # scope, count, page + prefetch of obligations and their types, + the audit INSERT
        ("/api/v1/measures/", 6),
    ],
)
def test_list_endpoints_use_a_constant_number_of_queries(
    world, api_for, django_assert_max_num_queries, endpoint, queries
):
    api = api_for(world.users["dspip"])
    for _ in range(30):
        MeasureFactory(
            case=CaseFactory(antenna=world.antenna, referent=world.agents["cpip"]),
            court=world.court,
        )
    with django_assert_max_num_queries(queries):
        response = api.get(f"{endpoint}?page_size=100")
    assert response.status_code == 200
    assert len(response.json()["results"]) > 0
