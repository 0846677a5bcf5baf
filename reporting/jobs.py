"""Recording each run of a job (JobRun), for the administrators and the progress display."""

from __future__ import annotations

import traceback
from contextlib import contextmanager

from django.utils import timezone

from reporting.models import JobRun, JobStatus


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


def job_start(name: str, *, service_id: int | None = None) -> JobRun:
    """A queued run, created before the task is sent so the page can follow it."""
    return JobRun.objects.create(name=name, service_id=service_id, started_at=timezone.now())
