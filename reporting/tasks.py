"""Workload jobs. Thin: each task records its run and calls the engine."""

from datetime import date

from celery import shared_task

from reporting import workload
from reporting.jobs import job_run


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
    acks_late=True,
)
def workload_snapshot_compute(
    day: str | None = None, service_id: int | None = None, run_id: int | None = None
) -> dict:
    """Nightly for the nation; on demand for one service (a DSPIP's button)."""
    with job_run("workload_snapshot_compute", service_id=service_id, run_id=run_id) as result:
        counts = workload.compute(
            day=date.fromisoformat(day) if day else None,
            service_ids=[service_id] if service_id else None,
        )
        result.update(counts)
    return counts
