"""Dashboard pages, exports and the reports API: who sees what, same numbers everywhere,
constant query counts, reassignment through the service."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case
from reporting import snapshots
from reporting.models import WorkloadSnapshot
from spip.models import AuditEntry, JobRun
from tests.factories import AgentFactory, CaseFactory

PAGES = [
    "/tableaux/equipe/",
    "/tableaux/delais/",
    "/tableaux/absences/",
    "/tableaux/issues/",
    "/tableaux/services/",
    "/tableaux/effectifs/",
    "/tableaux/export/",
]
REPORTS = ["team", "delays", "missed", "outcomes", "services", "staffing"]


@pytest.fixture
def loaded(world):
    """Three CPIPs in Lyon with cases by risk, snapshots computed today."""
    for level, n, key in (("high", 24, "cpip"), ("low", 10, "cpip2"), ("moderate", 5, "cpip_a2")):
        for _ in range(n):
            CaseFactory(
                antenna=world.agents[key].antenna, referent=world.agents[key], risk_level=level
            )
    snapshots.compute()
    return world


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body), delimiter=";"))


@pytest.mark.parametrize("url", PAGES)
def test_pages_require_a_login(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


@pytest.mark.parametrize("role", ["cpip", "secretary", "bex", "sap", "partner"])
@pytest.mark.parametrize("url", PAGES)
def test_pages_refuse_roles_without_reports(client_for, world, role, url):
    assert client_for(world.users[role]).get(url).status_code == 403


@pytest.mark.parametrize("role", ["cpip", "secretary", "bex", "partner"])
@pytest.mark.parametrize("report", REPORTS)
def test_the_api_refuses_roles_without_reports(api_for, world, role, report):
    assert api_for(world.users[role]).get(f"/api/v1/reports/{report}/").status_code == 403
    assert api_for(None).get(f"/api/v1/reports/{report}/").status_code in (401, 403)


@pytest.mark.parametrize("role", ["dpip", "dspip", "disp", "dap", "admin"])
@pytest.mark.parametrize("url", PAGES[1:])
def test_directors_and_aggregate_levels_read_the_pages(client_for, loaded, role, url):
    assert client_for(loaded.users[role]).get(url).status_code == 200


def test_above_the_service_the_team_page_leads_to_the_services_and_the_api_refuses(
    client_for, api_for, loaded
):
    for role in ("disp", "dap"):
        response = client_for(loaded.users[role]).get("/tableaux/equipe/")
        assert response["Location"] == "/tableaux/services/"
        assert api_for(loaded.users[role]).get("/api/v1/reports/team/").status_code == 403


@pytest.mark.parametrize("role", ["disp", "dap"])
def test_no_personal_data_reaches_the_interregional_and_national_levels(
    client_for, api_for, loaded, role
):
    cpips = [a for a in loaded.agents.values() if a.role == "cpip"]
    for n, agent in enumerate(cpips):  # names no page could show by chance (not "Paris")
        agent.user.last_name = f"Nomdecpip{n}"
        agent.user.save()
    names = (
        [c.person.birth_name for c in Case.objects.all()]
        + [a.user.last_name for a in cpips if a.user.last_name]
        + [a.user.username for a in cpips]
    )
    client = client_for(loaded.users[role])
    for url in PAGES[1:6]:
        page = client.get(url).content.decode()
        assert not [n for n in names if n in page], url
        exported = b"".join(client.get(url + "?format=csv").streaming_content).decode()
        assert not [n for n in names if n in exported], url
    for report in REPORTS[1:]:
        body = api_for(loaded.users[role]).get(f"/api/v1/reports/{report}/").content.decode()
        assert not [n for n in names if n in body], report
    assert client.get("/tableaux/delais/hors-delai/?format=csv").status_code == 403
    assert client.get("/tableaux/delais/hors-delai/").status_code == 403


def test_a_dspip_counts_their_service_only(client_for, api_for, loaded, world):
    page = client_for(world.users["dspip"]).get("/tableaux/services/").content.decode()
    assert "SPIP du Rhône" in page
    assert "Bouches-du-Rhône" not in page
    response = api_for(world.users["dspip"]).get(
        "/api/v1/reports/delays/", {"service": world.other_service.pk}
    )
    assert response.status_code == 400
    assert "service" in response.json()
    other = api_for(world.users["dspip_other"]).get("/api/v1/reports/team/").json()
    assert {a["agent"] for a in other["agents"]} == {world.agents["cpip_other"].pk}


def test_bad_filters_answer_in_french_with_field_errors(client_for, api_for, world):
    response = api_for(world.users["dspip"]).get(
        "/api/v1/reports/missed/", {"since": "2026-05-01", "until": "2026-01-01"}
    )
    assert response.status_code == 400
    assert response.json()["since"] == ["La date de début doit précéder la date de fin."]
    assert (
        api_for(world.users["dspip"])
        .get("/api/v1/reports/missed/", {"since": "pas une date"})
        .status_code
        == 400
    )
    page = client_for(world.users["dspip"]).get("/tableaux/absences/?since=31/02/2026")
    assert page.status_code == 200
    assert "Saisissez une date valide." in page.content.decode()


def test_the_team_page_its_export_and_the_api_show_the_same_numbers(client_for, api_for, loaded):
    client = client_for(loaded.users["dspip"])
    page = client.get("/tableaux/equipe/")
    html = page.content.decode()
    rows = csv_rows(client.get("/tableaux/equipe/?format=csv"))
    api = api_for(loaded.users["dspip"]).get("/api/v1/reports/team/").json()
    by_name = {r[0]: r for r in rows[1:]}
    for agent in api["agents"]:
        exported = by_name[agent["name"]]
        # 24 high = 24/20 = 1.2 (+ the world's unassessed case 0.02) → 122 %.
        assert Decimal(exported[9].replace(",", ".")) == Decimal(agent["load_percent"])
        assert int(exported[2]) == agent["persons"]
        assert f'data-testid="agent-{agent["agent"]}"' in html
    cpip = next(a for a in api["agents"] if a["agent"] == loaded.agents["cpip"].pk)
    assert Decimal(str(cpip["load_percent"])) == Decimal("122.0")
    assert cpip["status"] == "red"
    assert "122,0 %" in html
    xlsx = client.get("/tableaux/equipe/?format=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(xlsx.streaming_content)[:2] == b"PK"


def test_the_services_export_has_the_page_numbers(client_for, loaded):
    client = client_for(loaded.users["dap"])
    rows = csv_rows(client.get("/tableaux/services/?format=csv"))
    lyon = next(r for r in rows if r[0] == "69")
    # 25 + 11 + 6 persons followed by the CPIPs (the world's case each included) = 42 on
    # 3 FTE → 14.0; the arrival is not in the team's load.
    assert lyon[2] == "42"
    assert lyon[4] == "14"  # the CSV writes 14.0 as 14
    assert "14,0" in client.get("/tableaux/services/").content.decode()


def test_the_team_dashboard_is_a_constant_number_of_queries(
    client_for, loaded, django_assert_num_queries
):
    client = client_for(loaded.users["dspip"])
    client.get("/tableaux/equipe/")  # session and scope warm-up

    # session, user, agent (scope), team snapshot, antennas, agent rows, open alerts by
    # agent and type, over-threshold history, first snapshot of each current run above
    # the threshold, arrivals, trend, norms, and the antenna filter's choices (count + rows).
    with django_assert_num_queries(14):
        client.get("/tableaux/equipe/")
    for _ in range(5):
        agent = AgentFactory(role="cpip", antenna=loaded.antenna)
        for _ in range(3):
            CaseFactory(antenna=loaded.antenna, referent=agent, risk_level="high")
    snapshots.compute()
    with django_assert_num_queries(14):
        response = client.get("/tableaux/equipe/")
    assert len(response.context["rows"]) == 8


def test_the_services_view_is_a_constant_number_of_queries(
    client_for, loaded, django_assert_num_queries
):
    client = client_for(loaded.users["dap"])
    client.get("/tableaux/services/")
    # session, user, agent (scope), latest day, service rows, agent ratios, live open
    # alerts per service, region rows, European norm, norms, measure types, form choices
    # (services, antennas); continuity: releases, transfers.
    with django_assert_num_queries(15):
        client.get("/tableaux/services/")
    other = AgentFactory(role="cpip", antenna=loaded.other_antenna)
    CaseFactory(antenna=loaded.other_antenna, referent=other, risk_level="low")
    snapshots.compute()
    with django_assert_num_queries(15):
        client.get("/tableaux/services/")


def test_reassigning_from_the_dashboard_needs_a_reason_and_updates_the_loads(
    client_for, loaded, django_capture_on_commit_callbacks
):
    dspip = client_for(loaded.users["dspip"])
    cpip, cpip2 = loaded.agents["cpip"], loaded.agents["cpip2"]
    case = Case.objects.filter(referent=cpip, risk_level="high").first()
    page = dspip.get(f"/tableaux/dossiers/{case.pk}/reaffecter/").content.decode()
    # cpip2: 10 low (0.05) + 1 unassessed (0.02) = 7 % → + 1/20 = 12 %.
    assert "7,0 % → <strong>12,0 %</strong>" in page
    # cpip: 24 high + 1 unassessed = 122 % → 117 % without this case.
    assert "sa charge passerait de 122,0 % à 117,0 %" in page
    refused = dspip.post(f"/tableaux/dossiers/{case.pk}/reaffecter/", {"referent": cpip2.pk})
    assert refused.status_code == 200
    assert "Ce champ est obligatoire." in refused.content.decode()
    case.refresh_from_db()
    assert case.referent_id == cpip.pk

    with django_capture_on_commit_callbacks(execute=True):
        response = dspip.post(
            f"/tableaux/dossiers/{case.pk}/reaffecter/",
            {"referent": cpip2.pk, "reason": "Rééquilibrage de charge"},
        )
    assert response["Location"] == "/tableaux/equipe/"
    case.refresh_from_db()
    assert case.referent_id == cpip2.pk
    entry = AuditEntry.objects.filter(object_id=str(case.pk)).order_by("-pk").first()
    assert entry.changes["reassignment"]["to"] == {
        "agent": cpip2.pk,
        "before": "7.0",
        "after": "12.0",
    }
    assert entry.changes["reassignment"]["from"]["after"] == "117.0"  # 122 − 5
    # The request computed no snapshot: it queued the service's recompute, which the page
    # announces; the worker then brings the dashboard up to date.
    today = timezone.localdate()
    mine = WorkloadSnapshot.objects.get(entity_type="agent", entity_id=cpip.pk, day=today)
    assert mine.load_percent == Decimal("122.0")
    run = JobRun.objects.get(name="workload_snapshot_compute", service=loaded.service)
    assert run.status == "running"
    team = dspip.get(response["Location"]).content.decode()
    assert "en cours de recalcul" in team
    from reporting.tasks import workload_snapshot_compute

    workload_snapshot_compute(
        day=today.isoformat(), service_id=loaded.service.pk, run_id=run.pk, delays=False
    )
    mine.refresh_from_db()
    assert mine.load_percent == Decimal("117.0")
    run.refresh_from_db()
    assert run.status == "success"


def test_reassignment_is_for_directors_of_the_case_only(client_for, loaded):
    case = loaded.cases["mine"]
    assert (
        client_for(loaded.users["cpip2"])
        .get(f"/tableaux/dossiers/{case.pk}/reaffecter/")
        .status_code
        == 403
    )
    assert (
        client_for(loaded.users["dspip_other"])
        .get(f"/tableaux/dossiers/{case.pk}/reaffecter/")
        .status_code
        == 404
    )


def test_the_what_if_is_computed_not_saved(client_for, loaded):
    client = client_for(loaded.users["dap"])
    before = WorkloadSnapshot.objects.count()
    page = client.get(
        "/tableaux/effectifs/",
        {"simulate": 1, "add_service": loaded.service.pk, "agents": "2"},
    ).content.decode()
    assert "Simulation : ces chiffres ne sont pas enregistrés." in page
    assert WorkloadSnapshot.objects.count() == before
    invalid = client.get("/tableaux/effectifs/", {"simulate": 1, "agents": "2"}).content.decode()
    assert "Choisissez le service qui reçoit les agents." in invalid


def test_the_national_export_runs_as_a_task_with_progress_and_a_private_download(
    client_for, loaded, settings, tmp_path, django_capture_on_commit_callbacks
):
    from spip.celery import app

    settings.MEDIA_ROOT = tmp_path
    app.conf.task_always_eager = True
    try:
        client = client_for(loaded.users["dap"])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/tableaux/export/")
        run = JobRun.objects.get(name="national_export")
        assert response["Location"] == f"/tableaux/export/{run.pk}/"
        assert run.status == "success"
        assert run.counts == {"done": 6, "total": 6}  # six sheets, continuity the last
        page = client.get(response["Location"]).content.decode()
        assert "Télécharger le classeur" in page
        download = client.get(f"/tableaux/export/{run.pk}/fichier/")
        assert b"".join(download.streaming_content)[:2] == b"PK"
        assert (
            client_for(loaded.users["disp"]).get(f"/tableaux/export/{run.pk}/fichier/").status_code
            == 404
        )
    finally:
        app.conf.task_always_eager = False


def test_the_national_view_folds_services_into_their_regions(api_for, loaded):
    data = api_for(loaded.users["dap"]).get("/api/v1/reports/services/").json()
    units = {u["label"]: u for u in data["units"]}
    # Only regions with CPIPs or cases: Lyon (the Rhône) and Marseille (Bouches-du-Rhône).
    assert set(units) == {"DISP de Lyon", "DISP de Marseille"}
    # The region is the sum of its only service: 25 + 11 + 6 persons followed.
    assert units["DISP de Lyon"]["persons"] == 42
    # Per CPIP in the region: 25, 11, 6 → median 11.
    assert Decimal(str(units["DISP de Lyon"]["distribution"]["median"])) == Decimal("11.0")
    assert {n["persons_per_agent"] for n in data["norms"]} == {25, 60, 82}


def test_the_staffing_report_sums_services_into_the_nation(api_for, loaded):
    data = api_for(loaded.users["dap"]).get("/api/v1/reports/staffing/").json()
    total = data["total"]
    # Lyon 42 + Marseille 1 person(s) followed; 3 + 1 FTE in post; 43 / 60 = 0.72 FTE.
    assert total["persons"] == 43
    assert Decimal(str(total["fte"])) == Decimal("4")
    assert Decimal(str(total["needed_norm_fte"])) == Decimal("0.7")
    assert Decimal(str(total["gap_norm_fte"])) == Decimal("-3.3")


def test_the_full_list_of_late_measures_exports_for_the_service_only(client_for, world):
    from datetime import timedelta

    from measures.models import Measure

    # A deadline ending on a weekend or a holiday runs to the next working day (art. 801
    # CPP): the sentence is dated so that its 45th day is a Wednesday (no movable holiday)
    # off the fixed ones, and the deadline stays exactly 45 days.
    fixed = {(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)}
    judged = timezone.localdate() - timedelta(days=90)
    while (judged + timedelta(days=45)).weekday() != 2 or (
        (judged + timedelta(days=45)).month,
        (judged + timedelta(days=45)).day,
    ) in fixed:
        judged -= timedelta(days=1)
    Measure.objects.filter(case=world.cases["mine"]).update(judgment_date=judged)
    Measure.objects.filter(case=world.cases["other"]).update(judgment_date=judged)
    rows = csv_rows(client_for(world.users["dspip"]).get("/tableaux/delais/hors-delai/?format=csv"))
    assert len(rows) == 2  # header + the Rhône's late measure, not Marseille's
    assert world.cases["mine"].person.birth_name in rows[1][3]
    assert rows[1][6:9] == ["45", "", ""]


def test_a_cpip_sees_their_breakdown_without_the_reassignment_table(client_for, loaded):
    own = client_for(loaded.users["cpip"]).get(f"/charge/agents/{loaded.agents['cpip'].pk}/")
    assert own.status_code == 200
    assert 'data-testid="agent-cases"' not in own.content.decode()
    director = client_for(loaded.users["dspip"]).get(f"/charge/agents/{loaded.agents['cpip'].pk}/")
    assert 'data-testid="agent-cases"' in director.content.decode()


def test_the_reports_api_is_a_constant_number_of_queries(
    api_for, loaded, django_assert_num_queries
):
    from datetime import timedelta

    from cases.models import Convocation

    def convoked(case):
        when = timezone.now() - timedelta(days=3)
        Convocation.objects.create(
            case=case,
            kind="follow_up",
            issued_from="spip",
            starts_at=when,
            status="missed",
            outcome_recorded_at=when,
        )

    convoked(loaded.cases["mine"])
    api = api_for(loaded.users["dspip"])
    api.get("/api/v1/reports/team/")  # the scope is then cached on the user
    # team snapshot, antennas, agent rows, alerts by agent and type, over-threshold
    # history, first snapshot of each current run above it, arrivals, norms, trend.
    with django_assert_num_queries(9):
        api.get("/api/v1/reports/team/")
    # one scan folded per level, service names, antenna names, agent names.
    with django_assert_num_queries(4):
        api.get("/api/v1/reports/missed/")
    for _ in range(4):
        agent = AgentFactory(role="cpip", antenna=loaded.antenna2)
        convoked(CaseFactory(antenna=loaded.antenna2, referent=agent, risk_level="low"))
    snapshots.compute()
    with django_assert_num_queries(9):
        response = api.get("/api/v1/reports/team/")
    assert len(response.json()["agents"]) == 7
    with django_assert_num_queries(4):
        api.get("/api/v1/reports/missed/")


def test_export_files_are_deleted_after_a_week(world, settings, tmp_path):
    from datetime import timedelta

    from reporting.services import exports_purge

    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "exports").mkdir()
    now = timezone.now()
    runs = []
    for age, name in ((8, "old.xlsx"), (2, "recent.xlsx")):
        (tmp_path / "exports" / name).write_bytes(b"PK")
        runs.append(
            JobRun.objects.create(
                name="national_export",
                started_at=now - timedelta(days=age),
                file=f"exports/{name}",
                requested_by=world.users["dap"],
            )
        )
    assert exports_purge(now) == 1
    assert not (tmp_path / "exports" / "old.xlsx").exists()
    assert (tmp_path / "exports" / "recent.xlsx").exists()
    runs[0].refresh_from_db()
    assert runs[0].file == ""
    assert exports_purge(now) == 0  # a second run finds nothing to do


def test_an_administrator_chooses_the_service_of_the_team_dashboard(client_for, loaded):
    client = client_for(loaded.users["admin"])
    assert "Choisissez un service." in client.get("/tableaux/equipe/").content.decode()
    page = client.get("/tableaux/equipe/", {"service": loaded.service.pk})
    assert {r.agent_id for r in page.context["rows"]} == {
        loaded.agents[k].pk for k in ("cpip", "cpip2", "cpip_a2")
    }


def test_the_services_chart_is_sorted_by_persons_per_cpip_whatever_the_table_order(
    client_for, loaded
):
    other = AgentFactory(role="cpip", antenna=loaded.other_antenna)
    CaseFactory(antenna=loaded.other_antenna, referent=other, risk_level="low")
    snapshots.compute()
    page = client_for(loaded.users["dap"]).get("/tableaux/services/", {"sort": "code"})
    assert [s["code"] for s in page.context["services"]] == ["13", "69"]
    # Rhône 42 persons on 3 FTE = 14.0; Bouches-du-Rhône 2 on 2 = 1.0: the Rhône first.
    assert [s["code"] for s in page.context["chart"]] == ["69", "13"]
    assert [s["persons_per_fte"] for s in page.context["chart"]] == [
        Decimal("14.0"),
        Decimal("1.0"),
    ]


def test_arrivals_stand_beside_the_load_on_the_national_view_and_in_the_team_api(
    world, client_for, api_for
):
    # Lyon has one case nobody follows yet ("arrival"), Marseille none.
    snapshots.compute()
    services = api_for(world.users["dap"]).get("/api/v1/reports/services/").json()["services"]
    by_code = {s["code"]: s for s in services}
    assert (by_code["69"]["awaiting_allocation"], by_code["13"]["awaiting_allocation"]) == (1, 0)
    page = client_for(world.users["dap"]).get("/tableaux/services/").content.decode()
    assert "Arrivées à attribuer" in page
    team = api_for(world.users["dspip"]).get("/api/v1/reports/team/").json()
    assert team["arrivals"] == team["arrivals_now"] == 1


def test_the_setting_filter_names_what_it_filters_and_what_it_does_not(world, client_for):
    snapshots.compute()
    page = client_for(world.users["dspip"]).get("/tableaux/equipe/?setting=mf").content.decode()
    assert "dossiers MF seulement" in page
    assert 'data-testid="setting-note"' in page
    assert "Charge si tout était attribué" not in page  # the whole team's figure, not shown
    assert "Arrivées à attribuer (tous milieux)" in page


def test_the_trend_axis_spans_the_loads_not_zero_to_the_top():
    """Loads of 95 % and 105 % with thresholds 90/110: the axis runs from 80 to 120 %, so
    the two weeks stand 42 px apart in a 170 px plot (they were 14 px apart from 0 %)."""
    from datetime import date
    from types import SimpleNamespace

    from reporting.templatetags.charts import trend_chart

    policy = SimpleNamespace(threshold_amber=90, threshold_red=110)
    points = [
        {"day": date(2026, 11, 16), "load_percent": 95},
        {"day": date(2026, 11, 23), "load_percent": 105},
    ]
    chart = trend_chart(points, policy, "")
    # y = 15 + 170 × (120 − value) / 40
    assert [d["y"] for d in chart["dots"]] == ["121.2", "78.8"]
    assert [line["y"] for line in chart["lines"]] == ["142.5", "100.0", "57.5"]


def test_a_head_of_antenna_is_offered_only_their_antenna_in_the_filters(world, client_for):
    html = client_for(world.users["dpip"]).get("/tableaux/delais/").content.decode()
    assert "Antenne de Lyon" in html
    assert "Antenne de Villefranche" not in html


def test_the_team_table_shows_the_most_loaded_cpips_a_page_at_a_time(
    client_for, loaded, settings, monkeypatch
):
    """Eight CPIPs (three loaded ones, five new ones with one high-risk case each), three a
    page: the page says where it is, the figure counts the whole team, the export has all."""
    monkeypatch.setattr("reporting.views.TEAM_PAGE", 3)
    for _ in range(5):
        agent = AgentFactory(role="cpip", antenna=loaded.antenna)
        CaseFactory(antenna=loaded.antenna, referent=agent, risk_level="high")
    snapshots.compute()
    client = client_for(loaded.users["dspip"])
    first = client.get("/tableaux/equipe/")
    rows = first.context["rows"]
    assert [r.agent_id for r in rows] == [
        loaded.agents["cpip"].pk,  # 24 high-risk cases
        loaded.agents["cpip_a2"].pk,  # 5 moderate
        loaded.agents["cpip2"].pk,  # 10 low
    ]
    page = first.content.decode()
    assert first.context["team_size"] == 8
    assert "Page 1 sur 3 (CPIP 1 à 3 sur 8, les plus chargés d'abord)" in page
    last = client.get("/tableaux/equipe/?page=3")
    assert len(last.context["rows"]) == 2
    assert "Page 3 sur 3 (CPIP 7 à 8 sur 8" in last.content.decode()
    assert len(csv_rows(client.get("/tableaux/equipe/?format=csv"))) == 1 + 8  # header, CPIPs
