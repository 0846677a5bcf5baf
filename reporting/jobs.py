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


def job_start(name: str, *, service_id: int | None = None, requested_by=None) -> JobRun:
    """A queued run, created before the task is sent so the page can follow it."""
    return JobRun.objects.create(
        name=name, service_id=service_id, requested_by=requested_by, started_at=timezone.now()
    )


EXPORT_RETENTION_DAYS = 7


def exports_purge(now=None) -> int:
    """Delete the export files older than a week (the run keeps its counts, not its file).
    Idempotent: a file already gone is simply forgotten."""
    from datetime import timedelta
    from pathlib import Path

    from django.conf import settings

    now = now or timezone.now()
    old = JobRun.objects.filter(
        name="national_export", started_at__lt=now - timedelta(days=EXPORT_RETENTION_DAYS)
    ).exclude(file="")
    runs = list(old.values_list("pk", "file"))
    for _pk, name in runs:
        (Path(settings.MEDIA_ROOT) / name).unlink(missing_ok=True)
    JobRun.objects.filter(pk__in=[pk for pk, _name in runs]).update(file="")
    return len(runs)
