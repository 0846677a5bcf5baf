"""Workload and alert API (scoped, explained), job runs, concurrent runs, the real broker."""

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cases.alerts.services import alerts_refresh
from cases.models import Alert
from reporting import snapshots
from reporting.models import WorkloadSnapshot
from spip.models import JobRun
from tests.conftest import needs_postgres
from tests.factories import CaseFactory

DAY = date(2026, 6, 15)


@pytest.fixture
def computed(world):
    CaseFactory(antenna=world.antenna, referent=world.agents["cpip"], risk_level="high")
    snapshots.compute(day=DAY)
    return world


def test_workload_api_explains_the_percentage(computed, api_for):
    agent = computed.agents["cpip"]
    body = (
        api_for(computed.users["cpip"])
        .get(f"/api/v1/workload/?entity_type=agent&entity_id={agent.pk}")
        .json()
    )
    (row,) = body["results"]
    # "mine" is not assessed (0.02) + 1 high (0.05) = 0.07 of a full-time agent.
    assert row["load_percent"] == "7.0"
    lines = {
        line["risk_level"]: (line["cases"], line["weight_label"], line["load"])
        for line in row["breakdown"]["lines"]
    }
    assert lines["high"] == (1, "1/20", "0.05000")
    assert lines["not_assessed"] == (1, "1/50", "0.02000")
    assert row["breakdown"]["thresholds"] == {"amber": 90, "red": 110}


@pytest.mark.parametrize(
    ("persona", "visible_agent_rows"),
    [
        ("cpip", {"cpip"}),
        ("dpip", {"cpip", "cpip2"}),
        ("dspip", {"cpip", "cpip2", "cpip_a2"}),
        ("disp", set()),
        ("cpip_other", {"cpip_other"}),
    ],
)
def test_workload_api_is_scoped(computed, api_for, persona, visible_agent_rows):
    body = (
        api_for(computed.users[persona])
        .get("/api/v1/workload/?entity_type=agent&page_size=500")
        .json()
    )
    names = {str(computed.agents[k]) for k in visible_agent_rows}
    assert {row["label"] for row in body["results"]} == names


def test_disp_reads_services_of_the_region_and_the_nation(computed, api_for):
    body = api_for(computed.users["disp"]).get("/api/v1/workload/?page_size=500").json()
    types = {row["entity_type"] for row in body["results"]}
    assert types == {"antenna", "service", "interregional", "nation"}
    assert all(
        row["interregional_unit"] in (None, computed.service.interregional_unit_id)
        for row in body["results"]
    )


def test_alert_api_filters_and_scoping(world, api_for):
    case = world.cases["mine"]
    now = timezone.now()
    Alert.objects.create(
        alert_type="late_start",
        severity="critical",
        case=case,
        agent=world.agents["cpip"],
        rule="r",
        dedup_key="measure:1",
        opened_at=now,
    )
    Alert.objects.create(
        alert_type="no_next_appointment",
        severity="warning",
        case=world.cases["other"],
        rule="r",
        dedup_key="case:2",
        opened_at=now,
        closed_at=now,
    )
    body = api_for(world.users["cpip"]).get("/api/v1/alerts/?open=true").json()
    assert [(a["alert_type"], a["case"]) for a in body["results"]] == [("late_start", case.pk)]
    assert (
        api_for(world.users["cpip"]).get("/api/v1/alerts/?type=no_next_appointment").json()["count"]
        == 0
    )
    assert api_for(world.users["cpip_other"]).get("/api/v1/alerts/?open=false").json()["count"] == 1


def test_list_queries_are_constant(computed, api_for, django_assert_max_num_queries):
    api = api_for(computed.users["admin"])
    with django_assert_max_num_queries(3):  # scope, count, page (policy joined)
        assert len(api.get("/api/v1/workload/?page_size=200").json()["results"]) > 100
    with django_assert_max_num_queries(3):
        api.get("/api/v1/alerts/")


def test_a_task_run_is_recorded_with_its_counts(world):
    from reporting.tasks import workload_snapshot_compute

    counts = workload_snapshot_compute.apply(
        kwargs={"day": "2026-06-15", "service_id": world.service.pk}
    ).get()
    run = JobRun.objects.get()
    assert (run.name, run.status, run.service_id) == (
        "workload_snapshot_compute",
        "success",
        world.service.pk,
    )
    assert run.counts == counts == {"agent": 3, "antenna": 2, "service": 1}


def test_a_failed_run_is_recorded_with_its_error(world, monkeypatch):
    from cases.tasks import alerts_refresh as task

    def boom(**kwargs):
        raise RuntimeError("base indisponible")

    monkeypatch.setattr("cases.tasks.refresh", boom)
    result = task.apply()
    assert result.failed()
    run = JobRun.objects.filter(name="alerts_refresh").latest("started_at")
    assert run.status == "failed"
    assert "base indisponible" in run.error


def test_the_beat_schedule_expires_each_entry_before_its_next_run():
    from spip.celery import app

    hourly = {"alerts-refresh-hourly": 3600, "notifications-send": 60}
    for name, entry in app.conf.beat_schedule.items():
        period = hourly.get(name, 24 * 3600)
        assert 0 < entry["options"]["expires"] < period, name


def test_dspip_button_runs_the_service_recompute_and_shows_progress(
    world, client_for, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from spip.celery import app

    app.conf.task_always_eager = True
    try:
        client = client_for(world.users["dspip"])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/charge/recalculer/")
        run = JobRun.objects.get()
        assert response["Location"] == f"/charge/executions/{run.pk}/"
        page = client.get(response["Location"]).content.decode()
        assert "Calcul terminé" in page
        assert WorkloadSnapshot.objects.filter(
            entity_type="service", entity_id=world.service.pk
        ).exists()
        assert client_for(world.users["cpip"]).post("/charge/recalculer/").status_code == 403
    finally:
        app.conf.task_always_eager = False


@needs_postgres()
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_do_not_double_alerts(reference):
    from spip.choices import Role
    from tests.factories import AgentFactory, AntennaFactory

    cpip = AgentFactory(role=Role.CPIP, antenna=AntennaFactory())
    for _ in range(30):
        CaseFactory(
            antenna=cpip.antenna,
            referent=cpip,
            opened_on=date(2025, 1, 1),
            allocated_on=date(2025, 1, 1),
        )
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            alerts_refresh()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    per_key = Alert.objects.filter(closed_at__isnull=True).values_list("alert_type", "dedup_key")
    assert len(per_key) == len(set(per_key)) > 0
    # 30 cases: each lacks a next appointment, a contact and an assessment.
    assert (
        Alert.objects.filter(alert_type="no_next_appointment", closed_at__isnull=True).count() == 30
    )


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs a real Redis broker: set REDIS_URL (CI does)"
)
@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_redis_is_run_by_a_real_worker(reference):
    """Send through the real broker to a worker process on the test database; check the effect."""
    from reporting.tasks import workload_snapshot_compute

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "spip.settings"}
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "spip",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--loglevel",
            "WARNING",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        workload_snapshot_compute.apply_async(kwargs={"day": "2026-06-15"}, queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if JobRun.objects.filter(name="workload_snapshot_compute", status="success").exists():
                break
            time.sleep(0.5)
        assert JobRun.objects.filter(status="success").exists(), "the worker did not run the task"
        nation = WorkloadSnapshot.objects.get(day=DAY, entity_type="nation")
        assert nation.label == "France"
        assert WorkloadSnapshot.objects.filter(day=DAY, entity_type="service").count() == 103
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
