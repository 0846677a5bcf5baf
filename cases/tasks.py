"""Alert jobs. Thin: record the run, call the engine."""

from celery import shared_task
from django.utils import timezone

from cases.agenda.notify import notifications_send_due
from cases.agenda.services import slots_generate as generate
from cases.alerts.services import alerts_refresh as refresh
from cases.files import releases, retention, transfers
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
        result.update(counts)
    return counts
