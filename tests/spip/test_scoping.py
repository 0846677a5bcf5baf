"""Who sees what: for every role, exactly the rows it should, in the API and in pages.

Expected sets are written by hand from the rules in spip/access.py's docstring, for the
``world`` fixture: antenna A1 (Lyon) holds "mine" (cpip), "colleague" (cpip2) and
"arrival" (recorded by the BEX clerk, not yet allocated); antenna A2 (Villefranche)
holds "a2"; "other" is in Marseille. The SAP clerk's court pronounced the measures of
"mine", "a2" and "arrival", yet the clerk recorded none of them, so reads none.
"""

import pytest
from django.urls import reverse

EXPECTED_CASES = {
    "cpip": {"mine", "colleague", "arrival"},
    "cpip2": {"mine", "colleague", "arrival"},
    "cpip_a2": {"a2"},
    "cpip_other": {"other"},
    "dpip": {"mine", "colleague", "arrival"},
    "dspip": {"mine", "colleague", "a2", "arrival"},
    "dspip_other": {"other"},
    "secretary": {"a2"},
    "bex": {"arrival"},
    "sap": set(),  # court clerks search, they do not browse (test_need_to_know.py)
    "admin": {"mine", "colleague", "a2", "other", "arrival"},
}
NO_PERSONAL_DATA = ["disp", "dap", "partner"]
# Court clerks search, they do not browse: their list of persons is empty (the identity
# search is tested in test_need_to_know.py). Everyone else lists the persons of their files.
EXPECTED_PERSONS = {**EXPECTED_CASES, "bex": set(), "sap": set()}


def _ids(world, keys):
    return {world.cases[k].pk for k in keys}


def _names(world, keys):
    return {k for k, c in world.cases.items() if c.pk in keys}


@pytest.mark.parametrize("persona", sorted(EXPECTED_CASES))
def test_api_case_list_is_exactly_the_scope(world, api_for, persona):
    response = api_for(world.users[persona]).get("/api/v1/cases/?page_size=500&status=")
    assert response.status_code == 200
    got = {row["id"] for row in response.json()["results"]}
    assert _names(world, got) == EXPECTED_CASES[persona]


@pytest.mark.parametrize("persona", sorted(EXPECTED_CASES))
def test_api_case_detail_outside_scope_is_404(world, api_for, persona):
    api = api_for(world.users[persona])
    for key, case in world.cases.items():
        status = api.get(f"/api/v1/cases/{case.pk}/").status_code
        assert status == (200 if key in EXPECTED_CASES[persona] else 404), (persona, key)


@pytest.mark.parametrize("persona", sorted(EXPECTED_CASES))
def test_api_persons_follow_the_cases(world, api_for, persona):
    response = api_for(world.users[persona]).get("/api/v1/persons/?page_size=500")
    got = {row["id"] for row in response.json()["results"]}
    assert got == {world.cases[k].person_id for k in EXPECTED_PERSONS[persona]}


@pytest.mark.parametrize("persona", sorted(EXPECTED_CASES))
def test_api_measures_follow_the_scope(world, api_for, persona):
    response = api_for(world.users[persona]).get("/api/v1/measures/?page_size=500")
    got = {row["case"] for row in response.json()["results"]}
    assert _names(world, got) == EXPECTED_CASES[persona]


@pytest.mark.parametrize("persona", NO_PERSONAL_DATA)
@pytest.mark.parametrize("endpoint", ["cases", "persons", "measures"])
def test_aggregate_roles_and_partners_get_403_on_personal_data(world, api_for, persona, endpoint):
    response = api_for(world.users[persona]).get(f"/api/v1/{endpoint}/")
    assert response.status_code == 403
    assert "données personnelles" in response.json()["detail"]


@pytest.mark.parametrize(
    "endpoint", ["cases", "persons", "measures", "services", "agents", "measure-types"]
)
def test_api_requires_authentication(db, api_for, endpoint):
    assert api_for(None).get(f"/api/v1/{endpoint}/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("persona", "expected_codes"),
    [
        ("cpip", {"69"}),
        ("dspip", {"69"}),
        ("bex", {"69"}),
        ("cpip_other", {"13"}),
        # The DISP of Lyon sees the 12 services of the Auvergne-Rhône-Alpes region.
        ("disp", {"01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"}),
        ("partner", set()),
    ],
)
def test_api_services_are_scoped(world, api_for, persona, expected_codes):
    response = api_for(world.users[persona]).get("/api/v1/services/?page_size=500")
    assert {row["code"] for row in response.json()["results"]} == expected_codes


def test_dap_and_admin_see_all_103_services(world, api_for):
    for persona in ("dap", "admin"):
        assert api_for(world.users[persona]).get("/api/v1/services/").json()["count"] == 103


def test_api_agents_are_colleagues_of_the_service(world, api_for):
    response = api_for(world.users["cpip"]).get("/api/v1/agents/?page_size=500")
    usernames = {row["username"] for row in response.json()["results"]}
    assert usernames == {"cpip", "cpip2", "cpip_a2", "dpip", "dspip", "secretary"}


@pytest.mark.parametrize("persona", sorted(EXPECTED_CASES))
def test_html_case_list_shows_exactly_the_scope(world, client_for, persona):
    response = client_for(world.users[persona]).get(reverse("cases:list"))
    assert response.status_code == 200
    shown = {c.pk for c in response.context["page_obj"].object_list}
    assert _names(world, shown) == EXPECTED_CASES[persona]
    for key, case in world.cases.items():
        assert (case.person.full_name in response.content.decode()) == (
            key in EXPECTED_CASES[persona]
        )


@pytest.mark.parametrize("persona", sorted(EXPECTED_CASES))
def test_html_case_detail_outside_scope_is_404(world, client_for, persona):
    client = client_for(world.users[persona])
    for key, case in world.cases.items():
        status = client.get(reverse("cases:detail", args=[case.pk])).status_code
        assert status == (200 if key in EXPECTED_CASES[persona] else 404), (persona, key)


@pytest.mark.parametrize("persona", NO_PERSONAL_DATA)
def test_html_case_pages_are_403_for_aggregate_roles(world, client_for, persona):
    client = client_for(world.users[persona])
    assert client.get(reverse("cases:list")).status_code == 403
    assert client.get(reverse("cases:detail", args=[world.cases["mine"].pk])).status_code == 403


def test_html_pages_require_login(world, client):
    for url in (
        reverse("home"),
        reverse("cases:list"),
        reverse("cases:detail", args=[world.cases["mine"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_bex_clerk_never_sees_interview_notes(world, client_for):
    from cases.models import Interview

    Interview.objects.create(
        case=world.cases["arrival"],
        agent=world.agents["cpip"],
        held_at="2026-01-05T10:00:00+01:00",
        kind="office",
        duration_minutes=30,
        attendance="present",
        notes="Note confidentielle du SPIP",
    )
    html = client_for(world.users["bex"]).get(
        reverse("cases:detail", args=[world.cases["arrival"].pk])
    )
    assert html.status_code == 200
    assert "Note confidentielle du SPIP" not in html.content.decode()
    html = client_for(world.users["cpip"]).get(
        reverse("cases:detail", args=[world.cases["arrival"].pk])
    )
    assert "Note confidentielle du SPIP" in html.content.decode()


def test_case_filter_choices_are_scoped(world, client_for):
    """The referent filter does not list agents of another service."""
    response = client_for(world.users["cpip"]).get(reverse("cases:list"))
    choices = {str(a) for a in response.context["filter"].filters["referent"].queryset}
    assert str(world.agents["cpip_other"]) not in choices
    assert str(world.agents["cpip2"]) in choices


def test_partner_staff_see_only_their_referrals(world):
    from datetime import date

    from partners.models import PartnerBody, Referral

    own = world.agents["partner"].partner
    elsewhere = PartnerBody.objects.create(name="Autre association", kind="association")
    mine = Referral.objects.create(
        case=world.cases["mine"], partner=own, domain="housing", sent_on=date(2026, 1, 2)
    )
    Referral.objects.create(
        case=world.cases["mine"], partner=elsewhere, domain="health", sent_on=date(2026, 1, 2)
    )
    assert list(Referral.objects.visible_to(world.users["partner"])) == [mine]
    assert Referral.objects.visible_to(world.users["bex"]).count() == 0
    assert Referral.objects.visible_to(world.users["cpip"]).count() == 2


def test_admin_lists_are_scoped_for_a_dspip(world, client_for):
    from django.contrib.auth.models import Permission

    user = world.users["dspip"]
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_agent"))
    response = client_for(user).get("/admin/spip/agent/")
    assert response.status_code == 200
    listed = {a.user.username for a in response.context["cl"].result_list}
    assert listed == {"cpip", "cpip2", "cpip_a2", "dpip", "dspip", "secretary"}
