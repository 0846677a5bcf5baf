"""Workload jobs. Thin: each task records its run and calls the engine."""

import secrets
import tempfile
from datetime import date

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from reporting import exports, indicators, services, snapshots
from reporting.forms import ReportParams
from reporting.stats import last_twelve_months
from spip.jobs import HEAVY_JOB, job_run
from spip.models import JobRun


@shared_task(**HEAVY_JOB)
def workload_snapshot_compute(
    day: str | None = None,
    service_id: int | None = None,
    run_id: int | None = None,
    delays: bool = True,
) -> dict:
    """Nightly for the nation; on demand for one service (a DSPIP's button, a
    reassignment — which changes loads, not delays: ``delays=False``)."""
    with job_run("workload_snapshot_compute", service_id=service_id, run_id=run_id) as result:
        counts = snapshots.compute(
            day=date.fromisoformat(day) if day else None,
            service_ids=[service_id] if service_id else None,
            delays=delays,
        )
        result.update(counts)
    return counts


def export_sheets():
    """The workbook's sheets: a name, the table of a page, its indicator."""

    return (
        (_("Services"), exports.NETWORK, indicators.network),
        (_("Effectifs"), exports.STAFFING, indicators.staffing),
        (_("Délais"), exports.DELAYS, indicators.delays),
        (_("Absences"), exports.MISSED, indicators.missed),
        (_("Issues"), exports.OUTCOMES, indicators.outcomes),
        (_("Continuité"), exports.CONTINUITY, indicators.continuity),
    )


@shared_task(soft_time_limit=1200, time_limit=1260, acks_late=True)
def national_export(run_id: int, user_id: int) -> dict:
    """Every indicator of the requester's scope in one workbook, one sheet each; progress
    is written to the run after each sheet. A rerun writes a new file and points the run
    at it. The workbook is built in a temporary file on the worker, then saved to the
    storage (local folder or bucket), where any web host finds it."""

    user = get_user_model().objects.get(pk=user_id)
    today = timezone.localdate()
    params = ReportParams(*last_twelve_months(today))
    total = len(export_sheets())

    def progress(done: int) -> None:
        JobRun.objects.filter(pk=run_id).update(counts={"done": done, "total": total})

    def sheets():
        for label, table, indicator in export_sheets():
            yield label, table.headers, table.rows(indicator(user, params))

    progress(0)
    with job_run("national_export", run_id=run_id) as result:
        with tempfile.TemporaryFile() as handle:
            exports.write_workbook(handle, sheets(), progress=progress)
            handle.seek(0)
            name = default_storage.save(
                f"exports/{secrets.token_hex(16)}.xlsx", File(handle, name="export.xlsx")
            )
        JobRun.objects.filter(pk=run_id).update(file=name)
        result.update(done=total, total=total)
    return {"file": name}


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3, time_limit=600)
def exports_purge() -> int:
    with job_run("exports_purge") as result:
        result["purged"] = services.exports_purge()
    return result["purged"]
