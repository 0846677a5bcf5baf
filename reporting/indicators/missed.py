"""Missed convocations: rates per service, antenna, agent and type; reminded or not;
outcomes not recorded."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
)
from django.utils import timezone

from cases.choices import (
    ConvocationStatus,
    ConvocationType,
)
from cases.models import (
    Convocation,
    Notification,
    NotificationStatus,
)
from reporting.forms import ReportParams
from reporting.indicators.common import SMALL_GROUP, narrow
from spip.access import scope_for
from spip.models import Agent, Antenna, Service
from spip.numbers import share


def _convocation_population(user, params: ReportParams):
    tz = timezone.get_current_timezone()
    start = datetime.combine(params.since, time.min, tzinfo=tz)
    end = min(
        datetime.combine(params.until + timedelta(days=1), time.min, tzinfo=tz), timezone.now()
    )
    convocations = (
        Convocation.objects.counted_for(user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=ConvocationStatus.CANCELLED)
        .exclude(kind=ConvocationType.JAP)
    )
    convocations = narrow(convocations, params)
    return convocations


MISSED_COUNTS = {
    "total": Count("id"),
    "honoured": Count("id", filter=Q(status=ConvocationStatus.HONOURED)),
    "missed": Count("id", filter=Q(status=ConvocationStatus.MISSED)),
    "excused": Count("id", filter=Q(status=ConvocationStatus.EXCUSED)),
    "not_recorded": Count("id", filter=Q(status=ConvocationStatus.BOOKED)),
}


def _missed_figures(row: dict) -> dict:
    recorded = row["honoured"] + row["missed"] + row["excused"]
    return {
        **{key: row[key] for key in MISSED_COUNTS},
        "recorded": recorded,
        "missed_rate": share(row["missed"], recorded),
        "not_recorded_share": share(row["not_recorded"], row["total"]),
        "small": recorded < SMALL_GROUP,
    }


def missed(user, params: ReportParams) -> dict:
    """Past convocations of the period (JAP and cancelled ones aside): missed rate among
    those with an outcome, per service, antenna, agent and type; reminded or not; share
    without an outcome.

    One scan: a single GROUP BY on (service, antenna, referent, type, reminded), folded into
    each level here (a few thousand rows nationally), then the names (three small queries).
    Per-agent lines only within the service."""
    scope = scope_for(user)
    by_agent = scope.sees_agents_by_name
    reminder = Notification.objects.filter(
        convocation=OuterRef("pk"), event="reminder", status=NotificationStatus.SENT
    )
    keys = ["case__service_id", "case__antenna_id", "kind", "reminded"]
    if by_agent:
        keys.append("case__referent_id")
    rows = (
        _convocation_population(user, params)
        .annotate(reminded=Exists(reminder))
        .values(*keys)
        .annotate(**MISSED_COUNTS)
        .order_by()
    )
    levels: dict[str, dict] = {
        level: defaultdict(lambda: dict.fromkeys(MISSED_COUNTS, 0))
        for level in ("total", "service", "antenna", "kind", "reminded", "agent")
    }
    for row in rows:
        for level, key in (
            ("total", 0),
            ("service", row["case__service_id"]),
            ("antenna", row["case__antenna_id"]),
            ("kind", row["kind"]),
            ("reminded", row["reminded"]),
            ("agent", row.get("case__referent_id")),
        ):
            counts = levels[level][key]
            for name in MISSED_COUNTS:
                counts[name] += row[name]
    services = dict(
        Service.objects.visible_to(user)
        .filter(pk__in=list(levels["service"]))
        .values_list("pk", "name")
    )
    antennas = dict(
        Antenna.objects.visible_to(user)
        .filter(pk__in=list(levels["antenna"]))
        .values_list("pk", "name")
    )
    kinds = dict(ConvocationType.choices)

    def lines(level, label_of, key_name="id"):
        return sorted(
            (
                {key_name: key, "label": label_of(key), **_missed_figures(counts)}
                for key, counts in levels[level].items()
                if key is not None
            ),
            key=lambda line: str(line["label"]),
        )

    agents = []
    if by_agent:
        names = {
            a.pk: str(a)
            for a in Agent.objects.visible_to(user)
            .filter(pk__in=[k for k in levels["agent"] if k])
            .select_related("user")
        }
        agents = lines("agent", lambda pk: names.get(pk, "—"))
    return {
        "total": _missed_figures(levels["total"][0]),
        "services": lines("service", lambda pk: services.get(pk, "—")),
        "antennas": lines("antenna", lambda pk: antennas.get(pk, "—")),
        "kinds": lines("kind", lambda code: str(kinds.get(code, code)), "kind"),
        "reminders": [
            {"reminded": key, **_missed_figures(levels["reminded"][key])}
            for key in sorted(levels["reminded"])
        ],
        "agents": agents,
    }
