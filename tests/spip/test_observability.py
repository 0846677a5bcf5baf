"""Watching the application: JSON log lines without personal data, request ids, the
metrics endpoint with each scheduled job's freshness, /healthz, Celery task metrics."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from spip.celery import JOB_MAX_AGE, app
from spip.models import JOB_LABELS, JobRun, JobStatus
from spip.observability import ContextFilter, JsonFormatter, redact


@pytest.fixture
def json_log():
    """Everything logged during the test, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_each_request_is_one_json_line_with_its_id_user_role_and_duration(
    client_for, world, json_log
):
    client = client_for(world.users["cpip"])
    response = client.get("/portefeuille/", HTTP_X_REQUEST_ID="proxy-req-00000001")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "proxy-req-00000001"
    requests = [line for line in lines(json_log) if line.get("logger") == "spip.request"]
    assert len(requests) == 1
    line = requests[0]
    assert line["request_id"] == "proxy-req-00000001"
    assert line["user_id"] == world.users["cpip"].pk
    assert line["role"] == "cpip"
    assert line["method"] == "GET"
    assert line["path"] == "/portefeuille/"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["level"] == "INFO"
    assert "time" in line


def test_a_malformed_request_id_is_replaced(client, world):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith a newline")
    assert response["X-Request-ID"] != "bad id\nwith a newline"
    assert len(response["X-Request-ID"]) == 32  # a new uuid4, hexadecimal
    assert client.get("/healthz")["X-Request-ID"] != response["X-Request-ID"]


def test_no_log_line_names_a_person_searched_opened_or_messaged(client_for, world, json_log):
    person = world.cases["mine"].person
    person.birth_name = "ZYGOMARTIN"
    person.first_names = "Héloïse"
    person.phone = "0612345678"
    person.save()
    client = client_for(world.users["cpip"])
    assert client.get("/portefeuille/", {"q": "Zygomartin"}).status_code == 200
    assert client.get(f"/dossiers/{world.cases['mine'].pk}/").status_code == 200
    # The development SMS backend too: it logs that a message went, not to whom or what.
    from cases.agenda.notify import ConsoleSMS

    ConsoleSMS().send("0612345678", "Bonjour Héloïse ZYGOMARTIN, rendez-vous le 3 décembre")
    output = json_log.getvalue()
    assert '"path": "/portefeuille/"' in output  # the search was logged, without its query
    assert "ZYGOMARTIN" not in output.upper()
    assert "Héloïse".upper() not in output.upper() and "Helo" not in output
    assert "0612345678" not in output and "612345678" not in output


def test_database_error_details_are_cut_from_log_lines():
    text = (
        'duplicate key value violates unique constraint "cases_person_national_id"\n'
        "DETAIL:  Key (national_id)=(1234567890) already exists.\n"
    )
    redacted = redact(text)
    assert "1234567890" not in redacted
    assert redacted.startswith('duplicate key value violates unique constraint "cases_person')
    assert redact("Key (birth_name, birth_date)=(DUPONT, 1980-01-02) is duplicated") == (
        "Key (birth_name, birth_date)=(…) is duplicated"
    )


def test_metrics_are_read_only_from_this_machine_without_a_token(client, world, settings):
    settings.SPIP_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_metrics_with_a_token_need_it(client, world, settings):
    settings.SPIP_METRICS_TOKEN = "s3cr3t-metrics-token"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", REMOTE_ADDR="10.1.2.3")
    assert wrong.status_code == 404
    right = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cr3t-metrics-token", REMOTE_ADDR="10.1.2.3"
    )
    assert right.status_code == 200
    assert right["Content-Type"].startswith("text/plain")


def sample(text: str, name: str) -> str | None:
    for line in text.splitlines():
        key, _, value = line.rpartition(" ")
        if key == name:
            return value
    return None


def test_the_metrics_say_how_fresh_each_scheduled_job_is(client, world, settings):
    settings.SPIP_METRICS_TOKEN = ""
    now = timezone.now()
    JobRun.objects.create(
        name="alerts_refresh",
        started_at=now - timedelta(minutes=20, seconds=30),
        finished_at=now - timedelta(minutes=20),
        status=JobStatus.SUCCESS,
    )
    JobRun.objects.create(  # older than its 26 hours
        name="slots_generate",
        started_at=now - timedelta(hours=30),
        finished_at=now - timedelta(hours=29, minutes=58),
        status=JobStatus.SUCCESS,
    )
    JobRun.objects.create(  # a failure is not a success
        name="workload_snapshot_compute",
        started_at=now - timedelta(minutes=5),
        finished_at=now - timedelta(minutes=4),
        status=JobStatus.FAILED,
    )
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert sample(text, 'spip_job_stale{job="alerts_refresh"}') == "0.0"
    assert sample(text, 'spip_job_stale{job="slots_generate"}') == "1.0"
    assert sample(text, 'spip_job_stale{job="workload_snapshot_compute"}') == "1.0"
    assert sample(text, 'spip_job_max_age_seconds{job="alerts_refresh"}') == "9000.0"
    age = float(sample(text, 'spip_job_age_seconds{job="alerts_refresh"}'))
    assert 1200 <= age < 1260
    assert sample(text, 'spip_job_last_duration_seconds{job="alerts_refresh"}') == "30.0"
    assert sample(text, 'spip_job_age_seconds{job="workload_snapshot_compute"}') is None
    # django-prometheus's own: requests by method, database queries.
    assert "django_http_requests_total_by_method_total" in text


def test_healthz_lists_the_late_jobs_and_stays_up_for_the_load_balancer(client, world):
    now = timezone.now()
    for name in JOB_MAX_AGE:
        JobRun.objects.create(name=name, started_at=now, finished_at=now, status=JobStatus.SUCCESS)
    body = client.get("/healthz").json()
    assert body["jobs_status"] == "ok" and body["late_jobs"] == []
    assert body["jobs"]["notifications_send"]["max_age_seconds"] == 600
    JobRun.objects.filter(name="notifications_send").update(finished_at=now - timedelta(minutes=11))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["jobs_status"] == "late"
    assert response.json()["late_jobs"] == ["notifications_send"]
    assert response.json()["jobs"]["notifications_send"]["fresh"] is False


def test_every_scheduled_job_has_a_maximum_age_and_records_its_runs():
    scheduled = {entry["task"].rsplit(".", 1)[1] for entry in app.conf.beat_schedule.values()}
    assert scheduled == set(JOB_MAX_AGE)
    assert scheduled <= set(JOB_LABELS)


@pytest.mark.parametrize(
    "task",
    [
        "spip.tasks.agents_deactivate_departed",
        "spip.tasks.job_runs_sweep",
        "reporting.tasks.exports_purge",
    ],
)
def test_housekeeping_jobs_record_their_runs(world, task):
    import_string(task).apply().get()
    run = JobRun.objects.get(name=task.rsplit(".", 1)[1])
    assert run.status == JobStatus.SUCCESS and run.finished_at is not None


def test_celery_tasks_are_counted_with_their_state_and_timed(world):
    from prometheus_client import REGISTRY

    labels = {"task": "spip.tasks.job_runs_sweep", "state": "SUCCESS"}
    before = REGISTRY.get_sample_value("spip_celery_tasks_total", labels) or 0
    timed = (
        REGISTRY.get_sample_value(
            "spip_celery_task_duration_seconds_count", {"task": "spip.tasks.job_runs_sweep"}
        )
        or 0
    )
    import_string("spip.tasks.job_runs_sweep").apply().get()
    assert REGISTRY.get_sample_value("spip_celery_tasks_total", labels) == before + 1
    assert (
        REGISTRY.get_sample_value(
            "spip_celery_task_duration_seconds_count", {"task": "spip.tasks.job_runs_sweep"}
        )
        == timed + 1
    )


def test_celery_failure_details_are_not_logged(json_log):
    """Celery passes a failed task's arguments and exception in ``extra["data"]``."""
    logging.getLogger("celery.app.trace").error(
        "Task %(name)s[%(id)s] raised unexpected: %(exc)s",
        {"name": "cases.tasks.x", "id": "1", "exc": "IntegrityError"},
        extra={"data": {"args": ["DUPONTEL"], "exc": "Key (birth_name)=(DUPONTEL)"}},
    )
    output = json_log.getvalue()
    assert "cases.tasks.x" in output
    assert "DUPONTEL" not in output


def test_production_serves_metrics_with_a_token_only(client, world, settings):
    settings.SPIP_METRICS_TOKEN = ""
    settings.DJANGO_ENV = "production"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_one_services_recompute_does_not_stand_for_the_national_run(client, world, settings):
    settings.SPIP_METRICS_TOKEN = ""
    now = timezone.now()
    JobRun.objects.create(
        name="workload_snapshot_compute",
        service=world.service,
        started_at=now,
        finished_at=now,
        status=JobStatus.SUCCESS,
    )
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert sample(text, 'spip_job_stale{job="workload_snapshot_compute"}') == "1.0"
