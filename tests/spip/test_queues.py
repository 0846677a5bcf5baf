"""Celery queues by urgency: each task on its queue, and a reminder that goes out while a
national job holds the other worker."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from cases.agenda import services as booking
from cases.models import Agenda, Notification, Slot
from spip.celery import INTERACTIVE, NATIONAL, app, route_task
from spip.models import JobRun

# Written by hand: what waits for a person or a user is interactive, what runs over the
# whole nation is national.
EXPECTED = {
    "cases.tasks.notifications_send": INTERACTIVE,
    "cases.tasks.referrals_remind": INTERACTIVE,
    "cases.tasks.transfers_tick": INTERACTIVE,
    "reporting.tasks.national_export": INTERACTIVE,
    "spip.tasks.job_runs_sweep": INTERACTIVE,
    "cases.tasks.alerts_refresh": NATIONAL,
    "cases.tasks.slots_generate": NATIONAL,
    "cases.tasks.retention_apply": NATIONAL,
    # A service's caseload import: heavy, so never ahead of a reminder.
    "cases.tasks.caseload_import_check": NATIONAL,
    "cases.tasks.caseload_import_run": NATIONAL,
    "reporting.tasks.workload_snapshot_compute": NATIONAL,
    "reporting.tasks.exports_purge": NATIONAL,
    "spip.tasks.agents_deactivate_departed": NATIONAL,
    "spip.tasks.audit_partitions_ensure": NATIONAL,
}


def project_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_task_of_the_project_has_its_queue_written_here():
    assert project_tasks() == sorted(EXPECTED)


@pytest.mark.parametrize(("task", "queue"), sorted(EXPECTED.items()))
def test_each_task_goes_to_its_queue(task, queue):
    assert route_task(task, (), {}, {}) == {"queue": queue}


def test_one_service_recompute_asked_by_a_director_is_interactive():
    assert route_task(
        "reporting.tasks.workload_snapshot_compute", (), {"service_id": 3, "run_id": 9}, {}
    ) == {"queue": INTERACTIVE}
    assert route_task("reporting.tasks.workload_snapshot_compute", (), {}, {}) == {
        "queue": NATIONAL
    }


def test_the_router_is_the_one_celery_uses():
    message = app.amqp.router.route({}, "cases.tasks.alerts_refresh", (), {})
    assert message["queue"].name == NATIONAL
    message = app.amqp.router.route({}, "cases.tasks.notifications_send", (), {})
    assert message["queue"].name == INTERACTIVE


def test_no_task_outlives_the_broker_visibility_timeout():
    """With late acknowledgement, a task still running when the broker's visibility timeout
    expires would be delivered a second time: every hard limit stays under it."""
    timeout = django_settings.CELERY_VISIBILITY_TIMEOUT
    for name in project_tasks():
        task = app.tasks[name]
        limit = task.time_limit or app.conf.task_time_limit
        assert limit < timeout, name
        assert task.acks_late or app.conf.task_acks_late, name
    assert app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1


@pytest.fixture
def in_memory_broker():
    """Both workers run in this process: on the in-memory broker, whatever REDIS_URL says
    (the path through a real Redis and a worker process is tested in tests/reporting)."""
    saved = (app.conf.broker_url, app.conf.broker_transport_options, app._pool)
    saved_producers = app.amqp._producer_pool
    app.conf.broker_url, app.conf.broker_transport_options = "memory://", {}
    app._pool, app.amqp._producer_pool = None, None
    yield
    if app._pool is not None:
        app._pool.force_close_all()
    app.conf.broker_url, app.conf.broker_transport_options, app._pool = saved
    app.amqp._producer_pool = saved_producers


@pytest.mark.django_db(transaction=True)
def test_a_reminder_goes_out_while_a_national_job_holds_its_worker(
    world, settings, monkeypatch, in_memory_broker
):
    from celery.contrib.testing.worker import start_worker

    from cases.agenda.notify import FakeSMS

    settings.SPIP_SMS_BACKEND = "cases.agenda.notify.FakeSMS"
    FakeSMS.outbox, FakeSMS.fail_next = [], 0
    started, release = threading.Event(), threading.Event()

    def long_national_job():
        started.set()
        release.wait(60)
        return {"opened": 0}

    monkeypatch.setattr("cases.tasks.refresh", long_national_job)
    person = world.cases["arrival"].person
    person.phone, person.accepts_messages = "0612345678", True
    person.save()
    agenda = Agenda.objects.create(name="a", antenna=world.antenna)
    slot = Slot.objects.create(
        agenda=agenda, starts_at=timezone.now() + timedelta(days=3), capacity=1
    )
    booking.convocation_book(
        actor=None, case=world.cases["arrival"], slot=slot, kind="end_of_hearing"
    )
    message = Notification.objects.get(event="booked", channel="sms")
    assert message.status == "queued"

    common = {"pool": "solo", "perform_ping_check": False, "shutdown_timeout": 30}
    with (
        start_worker(app, queues=[NATIONAL], hostname="national@test", **common),
        start_worker(app, queues=[INTERACTIVE], hostname="interactive@test", **common),
    ):
        try:
            app.tasks["cases.tasks.alerts_refresh"].delay()
            assert started.wait(60), "the national job never started"
            app.tasks["cases.tasks.notifications_send"].delay()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                message.refresh_from_db()
                if message.status == "sent":
                    break
                time.sleep(0.1)
            assert message.status == "sent"
            assert [to for to, _ in FakeSMS.outbox] == ["0612345678"]
            # …and the national job was still running all along.
            assert not release.is_set()
            assert JobRun.objects.get(name="alerts_refresh").status == "running"
        finally:
            release.set()
