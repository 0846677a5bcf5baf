"""Sending messages to persons: one interface, an SMS adapter and Django's email.

The SMS provider is a setting (``SPIP_SMS_BACKEND``): a console/file backend in
development, a fake in tests, the provider's adapter in production.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from cases.choices import ConvocationType
from cases.models import Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class ConsoleSMS:
    """Development: writes the SMS to var/sms.log (the log says only that one was sent:
    a number and a message name a person)."""

    def send(self, to: str, body: str) -> None:
        log.info("SMS written to var/sms.log (%d characters)", len(body))
        path = settings.VAR_DIR / "sms.log"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"{timezone.now().isoformat()} {to} {body}\n")


class FakeSMS:
    """Tests: keeps what was sent; ``fail_next`` makes the next sends fail."""

    outbox: list[tuple[str, str]] = []
    fail_next = 0

    def send(self, to: str, body: str) -> None:
        if FakeSMS.fail_next:
            FakeSMS.fail_next -= 1
            raise ConnectionError("SMS provider unreachable")
        FakeSMS.outbox.append((to, body))


def sms_backend():
    return import_string(getattr(settings, "SPIP_SMS_BACKEND", "cases.agenda.notify.ConsoleSMS"))()


def deliver(notification: Notification) -> None:
    if notification.channel == "sms":
        sms_backend().send(notification.recipient, notification.body)
    else:
        subject = (
            gettext("Votre convocation devant le juge de l'application des peines")
            if notification.convocation.kind == ConvocationType.JAP
            else gettext("Votre convocation au SPIP")
        )
        send_mail(subject, notification.body, None, [notification.recipient])


def notifications_send_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send what is due. Each message is claimed by a conditional update (queued → sending),
    so two runs at once never send it twice; a failure is retried with backoff."""
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0, "retry": 0}
    due = list(
        Notification.objects.filter(status="queued", send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        claimed = Notification.objects.filter(pk=pk, status="queued").update(
            status="sending", attempts=F("attempts") + 1
        )
        if not claimed:
            continue
        notification = Notification.objects.select_related("convocation").get(pk=pk)
        try:
            deliver(notification)
        except Exception as exc:  # noqa: BLE001 - any provider error is a failed attempt
            if notification.attempts >= MAX_ATTEMPTS:
                Notification.objects.filter(pk=pk).update(
                    status="failed", last_error=str(exc)[:255]
                )
                counts["failed"] += 1
            else:
                backoff = timedelta(minutes=2**notification.attempts)
                Notification.objects.filter(pk=pk).update(
                    status="queued", send_after=now + backoff, last_error=str(exc)[:255]
                )
                counts["retry"] += 1
        else:
            Notification.objects.filter(pk=pk).update(status="sent", sent_at=timezone.now())
            counts["sent"] += 1
    return counts
