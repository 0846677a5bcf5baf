"""Reads behind the home pages. Each function answers in a fixed number of queries."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Q
from django.db.models import Q as Q_
from django.utils import timezone

from cases.choices import OPEN_STATUSES, ConvocationStatus
from cases.models import Alert, Case, Convocation
from cases.workload.models import AlertSettings, ReferenceNorm
from cases.workload.selectors import agent_breakdown
from measures.models import DeadlineRule, MeasureType, ObligationType
from partners import conventions as partner_conventions
from partners.choices import ReferralStatus
from partners.models import Convention, PartnerBody, PresentencingMandate, Referral, TigPlacement
from reporting.models import WorkloadSnapshot
from reporting.selectors import team_load
from spip.access import Scope, agent_of
from spip.choices import Role
from spip.models import Agent, InterregionalUnit, JobRun, Service
from spip.numbers import share as percent_share


def local_today(service: Service | None):
    """Today in the service's time zone (overseas services live in other zones)."""

    tz = ZoneInfo(service.time_zone) if service else timezone.get_current_timezone()
    return timezone.now().astimezone(tz).date(), tz


def day_bounds(day, tz):

    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def cpip_home(user, scope: Scope) -> dict:

    agent = agent_of(user)
    if agent is None:
        raise Agent.DoesNotExist
    today, tz = local_today(agent.service)
    start, end = day_bounds(today, tz)
    mine = Convocation.objects.visible_to(user).filter(case__referent=agent)
    return {
        "agent": agent,
        "load": agent_breakdown(agent, today),
        "today_convocations": mine.filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("case__person")
        .order_by("starts_at"),
        "outcomes_to_record": mine.filter(
            status=ConvocationStatus.BOOKED, starts_at__lt=start
        ).count(),
        "antenna_cases": Case.objects.visible_to(user).filter(status__in=OPEN_STATUSES).count(),
        "alerts": open_alerts(user).filter(agent=agent)[:50],
    }


def open_alerts(user):
    """Open alerts in the user's scope, not snoozed, most urgent first."""

    today = timezone.localdate()
    return (
        Alert.objects.visible_to(user)
        .filter(closed_at__isnull=True)
        .filter(Q_(snoozed_until__isnull=True) | Q_(snoozed_until__lte=today))
        .select_related("case__person")
        .by_urgency()
    )


def team_home(user, scope: Scope) -> dict:
    """DPIP (antenna) and DSPIP (service): the team and the arrivals to allocate."""
    service = Service.objects.get(pk=scope.service_id or 0)
    agents = Agent.objects.visible_to(user).filter(role=Role.CPIP).active()
    if scope.role == Role.DPIP and scope.antenna_id:
        agents = agents.filter(antenna_id=scope.antenna_id)
    # The team's last snapshot, shown at once (antenna for a head of antenna, service for
    # a director): the same row the team dashboard, the trend and the national view read.
    service_snapshot = _latest_snapshot("service", scope.service_id)
    team = (
        _latest_snapshot("antenna", scope.antenna_id)
        if scope.role == Role.DPIP and scope.antenna_id
        else service_snapshot
    )
    # Every figure of the page comes from that snapshot's day: the team's tiles, and each
    # CPIP's line (the agent rows computed with it), as on the team dashboard.
    rows = list(agents.select_related("user", "antenna").order_by("user__last_name"))
    by_agent = (
        {
            r.entity_id: r
            for r in WorkloadSnapshot.objects.filter(
                entity_type="agent", day=team.day, entity_id__in=[a.pk for a in rows]
            )
        }
        if team is not None
        else {}
    )
    for agent in rows:
        agent.snapshot = by_agent.get(agent.pk)
    return {
        "service": service,
        "antenna": scope.antenna_id and service.antennas.filter(pk=scope.antenna_id).first(),
        "agents": rows,
        "alerts_count": open_alerts(user).count(),
        "alerts": open_alerts(user)[:20],
        "outcomes": outcome_missing_share(user, scope),
        "norms": _norms(),
        "service_snapshot": service_snapshot,
        "load": team_load(team),
        "last_run": _last_run(user),
        "conventions_expiring": list(conventions_expiring(user, scope)),
        "antennas": service.antennas.annotate(
            open_cases=Count("cases", filter=Q(cases__status__in=OPEN_STATUSES))
        ).order_by("name"),
    }


def convention_warning_days(day) -> int:
    settings = AlertSettings.objects.in_force(day)
    return settings.convention_expiry_days if settings else 60


def service_conventions(user, scope: Scope):
    """The conventions a director works with: their service's, and those of the partners
    serving it."""
    rows = Convention.objects.visible_to(user)
    if scope.service_id:
        rows = rows.filter(
            Q(service_id=scope.service_id)
            | Q(partner__services=scope.service_id)
            | Q(court__services=scope.service_id)
        )
    return rows.distinct()


def conventions_expiring(user, scope: Scope):
    """The director's warning: conventions in force that end within the setting's days."""
    today = timezone.localdate()
    return partner_conventions.expiring(
        service_conventions(user, scope), today, convention_warning_days(today)
    )


def court_home(user, scope: Scope) -> dict:
    since = timezone.now() - timedelta(days=30)
    agent = Agent.objects.select_related("court").get(pk=scope.agent_id or 0)
    issued = Convocation.objects.visible_to(user)
    return {
        "court": agent.court,
        "services": Service.objects.visible_to(user).order_by("code"),
        "issued_30_days": issued.filter(issued_at__gte=since).count(),
        "latest": issued.select_related("case__person", "antenna").order_by("-issued_at")[:10],
        "cases": Case.objects.visible_to(user).count(),
    }


def region_home(user, scope: Scope) -> dict:
    """DISP: aggregates per service of the region. No personal data."""
    services = (
        Service.objects.visible_to(user)
        .annotate(
            open_cases=Count("cases", filter=Q(cases__status__in=OPEN_STATUSES), distinct=True),
            cpips=Count("agents", filter=Q(agents__role=Role.CPIP), distinct=True),
        )
        .order_by("code")
    )
    snapshots = _latest_snapshots(user, "service")
    rows = list(services)
    for service in rows:
        service.snapshot = snapshots.get(service.pk)
    return {
        "services": rows,
        "unit": InterregionalUnit.objects.visible_to(user).first(),
        "day": next(iter(snapshots.values())).day if snapshots else None,
    }


def national_home(user, scope: Scope) -> dict:
    """DAP: aggregates per interregional unit. No personal data."""
    units = (
        InterregionalUnit.objects.visible_to(user)
        .annotate(
            services_count=Count("services", distinct=True),
            open_cases=Count(
                "services__cases",
                filter=Q(services__cases__status__in=OPEN_STATUSES),
                distinct=True,
            ),
            cpips=Count(
                "services__agents", filter=Q(services__agents__role=Role.CPIP), distinct=True
            ),
        )
        .order_by("name")
    )
    snapshots = _latest_snapshots(user, "interregional")
    unit_rows = list(units)
    for unit in unit_rows:
        unit.snapshot = snapshots.get(unit.pk)
    return {
        "units": unit_rows,
        "services_total": Service.objects.visible_to(user).count(),
        "day": next(iter(snapshots.values())).day if snapshots else None,
    }


def partner_home(user, scope: Scope) -> dict:

    referrals = Referral.objects.visible_to(user)
    return {
        "partner": PartnerBody.objects.visible_to(user).first(),
        "tig_placed": TigPlacement.objects.visible_to(user).filter(ends_on__isnull=True).count(),
        "presentencing_open": PresentencingMandate.objects.visible_to(user)
        .filter(case__isnull=True)
        .count(),
        "to_answer": referrals.filter(status=ReferralStatus.SENT).count(),
        "referrals_by_status": [
            {"status": ReferralStatus(row["status"]).label, "n": row["n"]}
            for row in referrals.values("status").annotate(n=Count("id")).order_by("status")
        ],
    }


def admin_home(user, scope: Scope) -> dict:

    return {
        "services_total": Service.objects.count(),
        "agents_total": Agent.objects.count(),
        "measure_types": MeasureType.objects.count(),
        "obligation_types": ObligationType.objects.count(),
        "deadline_rules": DeadlineRule.objects.count(),
    }


def _last_run(user):

    return (
        JobRun.objects.visible_to(user)
        .filter(name="workload_snapshot_compute")
        .order_by("-started_at")
        .first()
    )


def outcome_missing_share(user, scope: Scope) -> dict:
    """Past convocations of the last 3 months without an outcome, in the user's scope.
    Flagged above 20 % (the threshold the national convocation service uses)."""
    now = timezone.now()
    past = Convocation.objects.visible_to(user).filter(
        starts_at__lt=now, starts_at__gte=now - timedelta(days=91)
    )
    counts = past.exclude(status=ConvocationStatus.CANCELLED).aggregate(
        total=Count("id"), missing=Count("id", filter=Q(status=ConvocationStatus.BOOKED))
    )
    share = percent_share(counts["missing"], counts["total"])
    return {**counts, "share": share, "flagged": share is not None and share > 20}


def _norms():

    return list(ReferenceNorm.objects.order_by("persons_per_agent"))


def _latest_snapshots(user, entity_type: str) -> dict:
    """The rows of ``entity_type`` of the last snapshot day, by entity: the same figures as
    the services and national views (two queries: the last day, its rows)."""

    rows = WorkloadSnapshot.objects.counted_for(user).filter(entity_type=entity_type)
    last = rows.aggregate(day=Max("day"))["day"]
    if last is None:
        return {}
    return {row.entity_id: row for row in rows.filter(day=last)}


def _latest_snapshot(entity_type: str, entity_id):

    return (
        WorkloadSnapshot.objects.filter(entity_type=entity_type, entity_id=entity_id)
        .order_by("-day")
        .first()
    )
