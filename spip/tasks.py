"""Periodic housekeeping. Thin: each task calls one service."""

from celery import shared_task

from spip import audit_partitions, jobs, services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, time_limit=600)
def agents_deactivate_departed() -> int:
    with jobs.job_run("agents_deactivate_departed") as result:
        result["deactivated"] = services.agents_deactivate_departed()
    return result["deactivated"]


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, time_limit=300)
def job_runs_sweep() -> int:
    with jobs.job_run("job_runs_sweep") as result:
        result["interrupted"] = jobs.job_runs_sweep()
    return result["interrupted"]


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, time_limit=300)
def audit_partitions_ensure() -> int:
    with jobs.job_run("audit_partitions_ensure") as result:
        result["created"] = audit_partitions.audit_partitions_ensure()
    return result["created"]
