"""Periodic housekeeping. Thin: each task calls one service."""

from celery import shared_task

from spip import audit_partitions, jobs, services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, time_limit=600)
def agents_deactivate_departed() -> int:
    return services.agents_deactivate_departed()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, time_limit=300)
def job_runs_sweep() -> int:
    return jobs.job_runs_sweep()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, time_limit=300)
def audit_partitions_ensure() -> int:
    return audit_partitions.audit_partitions_ensure()
