"""Each role lands on a home page with real data from its scope."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Convocation
from reporting import snapshots
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def page(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response, response.content.decode()


def test_cpip_home_counts_their_active_cases_and_load(world, client):
    # cpip has "mine" (not assessed); add two high-risk cases: 2 × 1/20 + 1 × 1/50 (default
    # weight of a not-assessed case) = 0.12 of a full-time agent -> 12,0 %.
    CaseFactory(antenna=world.antenna, referent=world.agents["cpip"], risk_level="high")
    CaseFactory(antenna=world.antenna, referent=world.agents["cpip"], risk_level="high")
    response, html = page(client, world.users["cpip"])
    assert response.context["load"]["total"] == 3
    assert response.context["load"]["high"] == 2
    assert 'data-testid="active-cases">3<' in html
    assert 'data-testid="load-percent">12,0 %<' in html


def test_cpip_load_uses_their_quotite(world, client):
    agent = world.agents["cpip"]
    agent.quotite = "0.50"
    agent.save()
    CaseFactory(antenna=world.antenna, referent=agent, risk_level="low")
    # (1/50 not assessed + 1/200 low) / 0.5 = 0.025 / 0.5 = 5,0 %
    _, html = page(client, world.users["cpip"])
    assert 'data-testid="load-percent">5,0 %<' in html


def test_cpip_home_lists_todays_convocations_in_the_service_time_zone(world, client):
    tz = ZoneInfo("Europe/Paris")
    today = timezone.now().astimezone(tz).date()
    Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=datetime.combine(today, time(23, 30), tzinfo=tz),
    )
    Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=datetime.combine(today + timedelta(days=1), time(0, 30), tzinfo=tz),
    )
    response, html = page(client, world.users["cpip"])
    assert [c.starts_at.astimezone(tz).time() for c in response.context["today_convocations"]] == [
        time(23, 30)
    ]
    assert "23:30" in html


def test_dspip_home_shows_the_service_and_its_agents(world, client):
    snapshots.compute()
    response, html = page(client, world.users["dspip"])
    assert "SPIP du Rhône" in html
    agents = {a.user.username: a for a in response.context["agents"]}
    assert set(agents) == {"cpip", "cpip2", "cpip_a2"}
    # From the last snapshot, like the dashboards: 3 followed files and 1 arrival.
    load = response.context["load"]
    assert (load["open_cases"], load["awaiting"]) == (4, 1)
    # Each CPIP's line has its load: cpip follows one unassessed case, 1/50 of a full-time
    # agent, so 2.0 %.
    assert agents["cpip"].snapshot.load_percent == Decimal("2.0")
    assert "2,0 %" in html
    assert str(world.agents["cpip_other"]) not in html


def test_dpip_home_is_their_antenna(world, client):
    snapshots.compute()
    response, html = page(client, world.users["dpip"])
    assert "Antenne de Lyon" in html
    assert {a.user.username for a in response.context["agents"]} == {"cpip", "cpip2"}
    load = response.context["load"]
    assert (load["open_cases"], load["awaiting"]) == (3, 1)


def test_bex_home_shows_their_court_and_services(world, client):
    response, html = page(client, world.users["bex"])
    assert "Tribunal judiciaire de Lyon" in html
    assert [s.code for s in response.context["services"]] == ["69"]
    assert response.context["cases"] == 1


def test_disp_home_shows_aggregates_without_names(world, client):
    response, html = page(client, world.users["disp"])
    rows = {s.code: (s.open_cases, s.cpips) for s in response.context["services"]}
    assert rows["69"] == (4, 3)
    assert "13" not in rows
    for case in world.cases.values():
        assert case.person.birth_name.upper() not in html


def test_dap_home_shows_every_interregional_unit(world, client):
    response, html = page(client, world.users["dap"])
    units = {u.name: (u.services_count, u.open_cases) for u in response.context["units"]}
    assert len(units) == 10
    assert units["DISP de Lyon"] == (12, 4)
    assert units["DISP de Marseille"] == (8, 1)
    assert "PERSONNE" not in html


def test_partner_home(world, client):
    _, html = page(client, world.users["partner"])
    assert "Association Le Relais" in html


def test_admin_home(world, client):
    response, _ = page(client, world.users["admin"])
    assert response.context["services_total"] == 103


def test_a_user_without_profile_is_told_so(db, client, django_user_model):
    user = django_user_model.objects.create_user("sans.profil", password="x")
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "aucun rôle" in response.content.decode()


# Session, user, scope (a CPIP's scope also reads their covers), then the page's own reads. The team home adds: service, agents with
# their counts and last snapshot, case counts, open alerts (count and list), outcomes share,
# norms, service snapshot, the antenna's snapshot for a head of antenna (the team's load shown
# at once), last job run, antennas, the conventions ending soon (the setting, the list). The
# regional and national homes add the last snapshot day and, once a snapshot exists, its rows.
# The partner's home: its body, referrals to answer and by state, people placed on its TIG
# posts, pre-sentencing records not yet handed over.
@pytest.mark.parametrize(
    ("persona", "queries"),
    [
        ("cpip", 13),
        ("dspip", 16),
        ("dpip", 17),
        ("bex", 11),
        ("disp", 7),
        ("dap", 7),
        ("partner", 8),
        ("admin", 9),
    ],
)
def test_home_pages_use_a_bounded_number_of_queries(
    world, client, django_assert_max_num_queries, persona, queries
):
    for _ in range(20):
        CaseFactory(antenna=world.antenna, referent=world.agents["cpip"])
    snapshots.compute()
    client.force_login(world.users[persona])
    with django_assert_max_num_queries(queries):
        assert client.get(reverse("home")).status_code == 200
