"""Agenda reads: a CPIP's convocations of the day or the week, in the service's time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Q,
)
from django.utils import timezone

from cases.choices import ConvocationStatus
from cases.files.selectors import covered_by
from cases.models import (
    Convocation,
)


def day_bounds(day, zone: str):
    start = datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))
    return start, start + timedelta(days=1)


def agenda(user, agent, days: int = 1):
    """The agent's convocations from today for ``days`` days, and the past ones still
    without an outcome (oldest first), in the service's local time."""
    zone = agent.service.time_zone if agent.service else "Europe/Paris"
    today = timezone.now().astimezone(ZoneInfo(zone)).date()
    start = day_bounds(today, zone)[0]
    end = start + timedelta(days=days)
    mine = (
        Convocation.objects.visible_to(user)
        .filter(Q(case__referent=agent) | Q(case__referent_id__in=covered_by(user, agent)))
        .select_related("case__person", "antenna")
    )
    return {
        "today": today,
        "upcoming": mine.filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at"),
        "to_record": mine.filter(status=ConvocationStatus.BOOKED, starts_at__lt=start).order_by(
            "starts_at"
        ),
        "missed_without_reaction": mine.filter(
            status=ConvocationStatus.MISSED, reaction=""
        ).order_by("starts_at"),
    }
