"""The cases app's jobs. Thin: record the run, call the engine."""

from celery import shared_task
from django.utils import timezone

from cases.agenda.notify import notifications_send_due
from cases.agenda.services import slots_generate as generate
from cases.alerts.services import alerts_refresh as refresh
from cases.files import releases, retention, transfers
from cases.imports import services as import_services
from cases.imports.models import CaseloadImport, ImportStatus
from cases.workload.models import AlertSettings
from partners import services as partner_services
from spip.jobs import HEAVY_JOB, job_run

# Without alert settings in force: the default of the setting.
REFERRAL_ANSWER_DAYS = 10


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


@shared_task(soft_time_limit=240, time_limit=300, acks_late=True)
def referrals_remind() -> int:
    """Remind partners of the referrals they have not answered (the setting's delay)."""
    with job_run("referrals_remind") as result:
        settings = AlertSettings.objects.in_force(timezone.localdate())
        days = settings.referral_answer_days if settings else REFERRAL_ANSWER_DAYS
        result["reminded"] = partner_services.referrals_remind(days=days)
    return result["reminded"]


@shared_task(soft_time_limit=240, time_limit=300, acks_late=True)
def transfers_tick() -> dict:
    """Accept the transfers left unanswered (the setting's days), remind the others;
    record the releases whose planned day passed."""
    with job_run("transfers_tick") as result:
        settings = AlertSettings.objects.in_force(timezone.localdate())
        counts = transfers.transfers_tick(
            auto_days=settings.transfer_auto_accept_days
            if settings
            else transfers.AUTO_ACCEPT_DAYS,
            remind_days=settings.transfer_reminder_days if settings else transfers.REMINDER_DAYS,
        )
        counts["released"] = releases.releases_tick()
        result.update(counts)
    return counts


@shared_task(**HEAVY_JOB)
def retention_apply() -> dict:
    """Nightly: archive the closed files past their period, destroy those past the legal
    one (legal holds excepted), erase old message texts (cases/files/retention.py)."""
    with job_run("retention_apply") as result:
        counts = retention.retention_apply()
        # Exports uploaded for an import never confirmed leave the storage after a week.
        counts["imports_abandoned"] = import_services.imports_purge()
        result.update(counts)
    return counts


# A service's caseload import (cases/imports): on the national worker, so that an import
# of 50,000 lines never holds up a reminder. Idempotent: the dry run writes only its own
# report; the import records each batch as done in the batch's transaction, so a task
# redelivered after a crash goes on where it stopped.
IMPORT_LIMITS = {"acks_late": True, "soft_time_limit": 1800, "time_limit": 1860}


@shared_task(**IMPORT_LIMITS)
def caseload_import_check(import_id: int, user_id: int) -> dict:
    record, actor = _import_and_actor(import_id, user_id)
    if record is None or record.status != ImportStatus.CHECKING:
        return {}
    try:
        return import_services.import_check(record, actor=actor).dry_run
    except Exception:
        # The page stops waiting and says so; the file can be checked again by a new upload.
        import_services.import_check_failed(record)
        raise


@shared_task(**IMPORT_LIMITS)
def caseload_import_run(import_id: int, user_id: int) -> dict:
    record, actor = _import_and_actor(import_id, user_id)
    if record is None or record.status != ImportStatus.RUNNING:
        return {}
    try:
        return import_services.import_run(record, actor=actor).result.get("counts", {})
    except Exception:
        import_services.import_run_failed(record)
        raise


def _import_and_actor(import_id: int, user_id: int):
    from django.contrib.auth import get_user_model

    record = CaseloadImport.objects.select_related("service").filter(pk=import_id).first()
    return record, get_user_model().objects.get(pk=user_id)
