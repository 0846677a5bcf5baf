"""Alert jobs. Thin: record the run, call the engine."""

from celery import shared_task

from cases.agenda.notify import notifications_send_due
from cases.agenda.services import slots_generate as generate
from cases.alerts.services import alerts_refresh as refresh
from spip.jobs import HEAVY_JOB, job_run


@shared_task(**HEAVY_JOB)
def alerts_refresh() -> dict:
    with job_run("alerts_refresh") as result:
        counts = refresh()
        result.update(counts)
    return dict(counts)


@shared_task(soft_time_limit=240, time_limit=300, acks_late=True)
def notifications_send() -> dict:

    with job_run("notifications_send") as result:
        counts = notifications_send_due()
        result.update(counts)
    return counts


@shared_task(**HEAVY_JOB)
def slots_generate() -> int:

    with job_run("slots_generate") as result:
        result["created"] = generate()
    return result["created"]
