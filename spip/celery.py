"""The Celery application. The beat schedule lives here, in one place."""

import os

from celery import Celery
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
    "exports-purge": {
        "task": "reporting.tasks.exports_purge",
        "schedule": crontab(hour=2, minute=45),
        "options": {"expires": 12 * 3600},
    },
}
