"""Recording each run of a job (JobRun), for the administrators and the progress display."""

from __future__ import annotations

import traceback
from contextlib import contextmanager
from datetime import datetime, timedelta
from importlib import import_module

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from spip.celery import app
from spip.models import JobRun, JobStatus


@contextmanager
def job_run(name: str, *, service_id: int | None = None, run_id: int | None = None):
    """Create (or take over) a JobRun row; mark it done with its counts, or failed with the error.

    The row is written outside the job's own transactions, so a failure is recorded
    even when the job's work is rolled back."""
    if run_id is not None:
        run = JobRun.objects.get(pk=run_id)
    else:
        run = JobRun.objects.create(name=name, service_id=service_id, started_at=timezone.now())
    result: dict = {}
    try:
        yield result
    except Exception:
        JobRun.objects.filter(pk=run.pk).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            error=traceback.format_exc()[-4000:],
        )
        raise
    JobRun.objects.filter(pk=run.pk).update(
        status=JobStatus.SUCCESS,
        finished_at=timezone.now(),
        counts={k: int(v) for k, v in result.items()},
    )


def job_start(name: str, *, service_id: int | None = None, requested_by=None) -> JobRun:
    """A queued run, created before the task is sent so the page can follow it."""
    return JobRun.objects.create(
        name=name, service_id=service_id, requested_by=requested_by, started_at=timezone.now()
    )


# How long a run may last before its worker must be presumed dead: the task's hard time
# limit times its attempts, plus the retry back-off (cases/tasks.py, reporting/tasks.py; names are the jobs' own).
JOB_TIME_LIMITS = {
    "alerts_refresh": timedelta(seconds=660 * 4 + 600 * 3),
    "workload_snapshot_compute": timedelta(seconds=660 * 4 + 600 * 3),
    "notifications_send": timedelta(seconds=300),
    "slots_generate": timedelta(seconds=660 * 4 + 600 * 3),
    "national_export": timedelta(seconds=1260),
    "retention_apply": timedelta(seconds=660 * 4 + 600 * 3),
}
DEFAULT_TIME_LIMIT = timedelta(hours=1)


def job_runs_sweep(now: datetime | None = None) -> int:
    """Mark "interrompu" the runs still "en cours" after their time limit: their worker
    died (killed, restarted, out of memory) before it could say how it ended. One UPDATE;
    a second sweep finds nothing."""
    now = now or timezone.now()
    overdue = Q(~Q(name__in=list(JOB_TIME_LIMITS)), started_at__lt=now - DEFAULT_TIME_LIMIT)
    for name, limit in JOB_TIME_LIMITS.items():
        overdue |= Q(name=name, started_at__lt=now - limit)
    return (
        JobRun.objects.filter(status=JobStatus.RUNNING)
        .filter(overdue)
        .update(
            status=JobStatus.INTERRUPTED,
            finished_at=now,
            error=_("Interrompu : le processus s'est arrêté avant la fin (délai dépassé)."),
        )
    )


def job_enqueue(
    task: str, *, job: str, service_id: int | None = None, requested_by=None, **kwargs
) -> JobRun:
    """Record a queued run of ``job`` and send ``task`` (by its name: the caller may sit
    below the app that defines it) once the current transaction has committed. The task
    receives ``run_id`` and takes the run over (``job_run``)."""

    import_module(task.rsplit(".", 1)[0])  # registers the task in this process
    run = job_start(job, service_id=service_id, requested_by=requested_by)
    kwargs = {**kwargs, "run_id": run.pk}
    if service_id is not None:
        kwargs["service_id"] = service_id
    transaction.on_commit(lambda: app.tasks[task].delay(**kwargs))
    return run


# The Celery options of a heavy, idempotent job (the alert run, the snapshots, slot
# generation): retried with back-off, ten minutes at most, acknowledged once done so a
# worker lost mid-run hands it to another. JOB_TIME_LIMITS above counts on these figures.
HEAVY_JOB = {
    "autoretry_for": (Exception,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 3,
    "soft_time_limit": 600,
    "time_limit": 660,
    "acks_late": True,
}
