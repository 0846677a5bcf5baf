"""The Celery application. The beat schedule lives here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spip.settings")

app = Celery("spip")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
