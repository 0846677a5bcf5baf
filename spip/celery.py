"""The Celery application. The beat schedule lives here, in one place."""

import os
from datetime import timedelta

from celery import Celery, signals
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spip.settings")

app = Celery("spip")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Two queues, each with its own worker, so that a national job never holds up what a
# user or a person waits for.
# - "interactive": messages and reminders, what a user asked for (an export, one
#   service's recompute), the short housekeeping that watches the others;
# - "national": the jobs over every service (snapshots, alerts, slots, purges).
INTERACTIVE = "interactive"
NATIONAL = "national"
NATIONAL_TASKS = frozenset(
    {
        "reporting.tasks.workload_snapshot_compute",
        "cases.tasks.alerts_refresh",
        "cases.tasks.slots_generate",
        "cases.tasks.retention_apply",
        "cases.tasks.caseload_import_check",
        "cases.tasks.caseload_import_run",
        "reporting.tasks.exports_purge",
        "spip.tasks.agents_deactivate_departed",
        "spip.tasks.audit_partitions_ensure",
    }
)


def route_task(name, args, kwargs, options, task=None, **kw):  # noqa: ARG001
    """The queue of a task: national jobs go to their own worker, except one service's
    recompute, which a director waits for."""
    if name in NATIONAL_TASKS and not (kwargs or {}).get("service_id"):
        return {"queue": NATIONAL}
    return {"queue": INTERACTIVE}


app.conf.task_default_queue = INTERACTIVE
app.conf.task_routes = (route_task,)

# Each entry expires before its next run, so a backlog never runs a job twice in a row.
app.conf.beat_schedule = {
    "notifications-send": {
        "task": "cases.tasks.notifications_send",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "slots-generate-nightly": {
        "task": "cases.tasks.slots_generate",
        "schedule": crontab(hour=3, minute=0),
        "options": {"expires": 12 * 3600},
    },
    "workload-snapshot-nightly": {
        "task": "reporting.tasks.workload_snapshot_compute",
        "schedule": crontab(hour=0, minute=30),
        "options": {"expires": 12 * 3600},
    },
    "alerts-refresh-hourly": {
        "task": "cases.tasks.alerts_refresh",
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},
    },
    "agents-deactivate-departed": {
        "task": "spip.tasks.agents_deactivate_departed",
        "schedule": crontab(hour=1, minute=15),
        "options": {"expires": 12 * 3600},
    },
    # The audit table's partitions for this month and the next ones (PostgreSQL).
    "audit-partitions-ensure": {
        "task": "spip.tasks.audit_partitions_ensure",
        "schedule": crontab(hour=1, minute=45),
        "options": {"expires": 12 * 3600},
    },
    "job-runs-sweep": {
        "task": "spip.tasks.job_runs_sweep",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 10 * 60},
    },
    "transfers-tick-daily": {
        "task": "cases.tasks.transfers_tick",
        "schedule": crontab(hour=7, minute=15),
        "options": {"expires": 12 * 3600},
    },
    "referrals-remind-daily": {
        "task": "cases.tasks.referrals_remind",
        "schedule": crontab(hour=7, minute=30),
        "options": {"expires": 12 * 3600},
    },
    "retention-apply-nightly": {
        "task": "cases.tasks.retention_apply",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 12 * 3600},
    },
    "exports-purge": {
        "task": "reporting.tasks.exports_purge",
        "schedule": crontab(hour=2, minute=45),
        "options": {"expires": 12 * 3600},
    },
}

# How old each scheduled job's last successful run may be before it is late (/healthz and
# the metric ``spip_job_stale``): its period plus the time a run may take and one retry.
# Keyed by the job's recorded name (JobRun.name: the task's own name).
JOB_MAX_AGE = {
    "notifications_send": timedelta(minutes=10),
    "job_runs_sweep": timedelta(minutes=45),
    "alerts_refresh": timedelta(hours=2, minutes=30),
    "workload_snapshot_compute": timedelta(hours=26),
    "slots_generate": timedelta(hours=26),
    "agents_deactivate_departed": timedelta(hours=26),
    "audit_partitions_ensure": timedelta(hours=26),
    "transfers_tick": timedelta(hours=26),
    "referrals_remind": timedelta(hours=26),
    "exports_purge": timedelta(hours=26),
    "retention_apply": timedelta(hours=26),
}


@signals.setup_logging.connect
def _logging_from_django(**_kwargs) -> None:
    """Workers log as the web processes do (JSON lines in production, see LOGGING)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@signals.worker_ready.connect
def _metrics_server(**_kwargs) -> None:
    """A worker serves its task metrics on ``SPIP_WORKER_METRICS_PORT`` when set (its pool's
    processes write them to PROMETHEUS_MULTIPROC_DIR, read here at each scrape)."""
    port = int(os.environ.get("SPIP_WORKER_METRICS_PORT") or 0)
    if not port:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(
        port, addr=os.environ.get("SPIP_WORKER_METRICS_ADDR", "127.0.0.1"), registry=registry
    )


@signals.worker_process_shutdown.connect
def _pool_process_gone(pid=None, **_kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


def _task_started(**kwargs) -> None:
    from spip.observability import task_started

    task_started(**kwargs)


def _task_finished(**kwargs) -> None:
    from spip.observability import task_finished

    task_finished(**kwargs)


signals.task_prerun.connect(_task_started, weak=False)
signals.task_postrun.connect(_task_finished, weak=False)
