"""Alert rules. Each rule is a query: the rows for which its condition holds now.

A rule returns dicts with ``case_id``, ``agent_id``, ``dedup_key``, ``due_on`` and
optionally ``measure_id`` / ``convocation_id``, plus the rule text and legal reference
it cites. Dates are the service's local dates: a rule runs once per time zone in use.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, F, OuterRef, Q

from cases.choices import (
    CONTACT,
    OPEN_STATUSES,
    AlertSeverity,
    AlertType,
    CaseSetting,
    CaseStatus,
    ConvocationStatus,
    Intensity,
    ReportKind,
    ReportStatus,
    RiskLevel,
)
from cases.files.selectors import last_contact
from cases.models import Case, Convocation, Incident, Interview, ReleasePlan, Report
from cases.workload.models import AlertSettings, WorkloadPolicy
from measures.choices import DeadlineTarget, DeadlineTrigger
from measures.deadlines import last_day, latest_start_expired
from measures.models import DeadlineRule, Measure
from measures.selectors import release_deadline
from partners import tig
from partners.choices import ReferralStatus, TigOutcome
from partners.models import Referral, TigSession
from spip.models import Service

# How long an unexcused TIG absence stays an alert without a reaction.
TIG_ABSENCE_DAYS = 30
# Releases looked at for a missing first contact.
RELEASE_CONTACT_LOOKBACK_DAYS = 180


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Context:
    """One time zone's clock: its services, their local today, and the settings in force."""

    zone: str
    today: date
    now: datetime
    settings: AlertSettings
    policy: WorkloadPolicy
    subdivisions: tuple[str, ...] = ("",)

    def local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(self.zone))


def contexts(now: datetime) -> Iterator[Context]:
    calendars: dict[str, set[str]] = {}
    for zone, subdivision in Service.objects.values_list("time_zone", "holiday_subdivision"):
        calendars.setdefault(zone, set()).add(subdivision)
    for zone in sorted(calendars):
        today = now.astimezone(ZoneInfo(zone)).date()
        settings = AlertSettings.objects.in_force(today)
        policy = WorkloadPolicy.objects.in_force(today)
        if settings is None or policy is None:
            continue
        yield Context(
            zone=zone,
            today=today,
            now=now,
            settings=settings,
            policy=policy,
            subdivisions=tuple(sorted(calendars[zone])),
        )


@dataclass(frozen=True)
class Finding:
    case_id: int
    agent_id: int | None
    dedup_key: str
    rule: str
    legal_reference: str = ""
    due_on: date | None = None
    measure_id: int | None = None
    convocation_id: int | None = None


def _open_cases(ctx: Context):
    return Case.objects.filter(service__time_zone=ctx.zone, status__in=OPEN_STATUSES)


def _measures(ctx: Context):
    return Measure.objects.filter(
        case__service__time_zone=ctx.zone,
        case__status__in=OPEN_STATUSES,
        actual_end_date__isnull=True,
    )


# The first-appointment clocks run for persons free when sentenced (milieu ouvert); a person
# in custody has none at sentencing: theirs starts at release (DOMAIN.md §5).
FREE = Q(case__setting=CaseSetting.OPEN)
# A cancelled or excused convocation is not an issued one.
NOT_ISSUED = [ConvocationStatus.CANCELLED, ConvocationStatus.EXCUSED]


def _expired(ctx: Context, rule) -> Q:
    """Measures whose ``rule`` deadline, counted from the judgment, ended before today, in
    each holiday calendar of the zone (art. 801 CPP: ``measures.deadlines``)."""
    condition = Q(pk__in=[])
    for subdivision in ctx.subdivisions:
        condition |= Q(
            case__service__holiday_subdivision=subdivision,
            judgment_date__lte=latest_start_expired(rule, ctx.today, subdivision),
        )
    return condition


def late_start(ctx: Context) -> Iterator[Finding]:
    """No first contact within the statutory delay after sentencing (474 CPP, D.546-2 CPP),
    for persons free when sentenced."""
    rules = DeadlineRule.objects.valid_on(ctx.today).filter(
        trigger=DeadlineTrigger.SENTENCE_FREE, target=DeadlineTarget.SPIP_CONVOCATION, unit="days"
    )
    for rule in rules.prefetch_related("measure_types"):
        # The rule's measure types as values (prefetched), not a subquery: the database
        # then filters the measures on them directly, once per rule.
        type_ids = [measure_type.pk for measure_type in rule.measure_types.all()]
        if not type_ids:
            continue
        rows = (
            _measures(ctx)
            .filter(FREE, _expired(ctx, rule), measure_type_id__in=type_ids)
            # The stored first contact (cases.files.contacts): none since the judgment.
            .filter(first_contact_on__isnull=True)
        )
        if rule.provisionally_enforceable is not None:
            rows = rows.filter(provisionally_enforceable=rule.provisionally_enforceable)
        rows = rows.values(
            "id",
            "case_id",
            "case__referent_id",
            "judgment_date",
            "case__service__holiday_subdivision",
        )
        text = f"{rule.label} : premier contact attendu sous {rule.amount} jours"
        # The working-day arithmetic once per judgment day and calendar, not once per
        # measure (tens of thousands of measures share a few hundred days).
        due: dict[tuple[date, str], date] = {}
        for row in rows:
            day_and_calendar = (row["judgment_date"], row["case__service__holiday_subdivision"])
            if (due_on := due.get(day_and_calendar)) is None:
                due_on = due[day_and_calendar] = last_day(rule, *day_and_calendar)
            yield Finding(
                case_id=row["case_id"],
                agent_id=row["case__referent_id"],
                dedup_key=f"measure:{row['id']}",
                rule=text,
                legal_reference=rule.legal_reference,
                measure_id=row["id"],
                due_on=due_on,
            )


def no_convocation(ctx: Context) -> Iterator[Finding]:
    """No convocation issued n days after the judgment (a person free when sentenced)."""
    n = ctx.settings.no_convocation_days
    convoked = Convocation.objects.filter(
        case=OuterRef("case"), starts_at__date__gte=OuterRef("judgment_date")
    ).exclude(status__in=NOT_ISSUED)
    rows = (
        _measures(ctx)
        .filter(FREE, judgment_date__lt=ctx.today - timedelta(days=n))
        .filter(~Exists(convoked))
        .values("id", "case_id", "case__referent_id", "judgment_date")
    )
    for row in rows:
        yield Finding(
            case_id=row["case_id"],
            agent_id=row["case__referent_id"],
            dedup_key=f"measure:{row['id']}",
            rule=f"Aucune convocation émise {n} jours après le jugement",
            legal_reference="474 CPP",
            measure_id=row["id"],
            due_on=row["judgment_date"] + timedelta(days=n),
        )


def referral_unanswered(ctx: Context) -> Iterator[Finding]:
    """A referral the partner has not answered after n days: the CPIP hears of it (the
    partner is reminded by the referrals job); the alert closes with the answer."""
    n = ctx.settings.referral_answer_days
    rows = Referral.objects.filter(
        case__in=_open_cases(ctx),
        status=ReferralStatus.SENT,
        sent_on__lt=ctx.today - timedelta(days=n),
    ).values("id", "case_id", "case__referent_id", "sent_on", "partner__name")
    for row in rows:
        yield Finding(
            case_id=row["case_id"],
            agent_id=row["case__referent_id"],
            dedup_key=f"referral:{row['id']}",
            rule=f"{row['partner__name']} n'a pas répondu à l'orientation depuis {n} jours",
            due_on=row["sent_on"] + timedelta(days=n),
        )


def awaiting_allocation(ctx: Context) -> Iterator[Finding]:
    n = ctx.settings.awaiting_allocation_days
    rows = (
        _open_cases(ctx)
        .filter(status=CaseStatus.AWAITING_ALLOCATION, opened_on__lt=ctx.today - timedelta(days=n))
        .values("id", "opened_on")
    )
    for row in rows:
        yield Finding(
            case_id=row["id"],
            agent_id=None,
            dedup_key=f"case:{row['id']}",
            rule=f"Dossier arrivé il y a plus de {n} jours et non attribué",
            due_on=row["opened_on"] + timedelta(days=n),
        )


def missed_no_reaction(ctx: Context) -> Iterator[Finding]:
    n = ctx.settings.missed_reaction_days
    later_convocation = Convocation.objects.filter(
        case=OuterRef("case"), starts_at__gt=OuterRef("starts_at")
    )
    later_interview = Interview.objects.filter(
        case=OuterRef("case"), held_at__gt=OuterRef("starts_at")
    )
    rows = (
        Convocation.objects.filter(
            case__service__time_zone=ctx.zone,
            case__status__in=OPEN_STATUSES,
            status=ConvocationStatus.MISSED,
            reaction="",
            starts_at__lt=ctx.now - timedelta(days=n),
        )
        .filter(~Exists(later_convocation), ~Exists(later_interview))
        .values("id", "case_id", "case__referent_id", "starts_at")
    )
    for row in rows:
        yield Finding(
            case_id=row["case_id"],
            agent_id=row["case__referent_id"],
            dedup_key=f"convocation:{row['id']}",
            rule=f"Convocation non honorée sans suite depuis {n} jours",
            legal_reference="D.546-8 CPP",
            convocation_id=row["id"],
            due_on=(row["starts_at"] + timedelta(days=n)).date(),
        )


def outcome_missing(ctx: Context) -> Iterator[Finding]:
    n = ctx.settings.outcome_missing_days
    rows = Convocation.objects.filter(
        case__service__time_zone=ctx.zone,
        case__status__in=OPEN_STATUSES,
        status=ConvocationStatus.BOOKED,
        starts_at__lt=ctx.now - timedelta(days=n),
    ).values("id", "case_id", "case__referent_id", "starts_at")
    for row in rows:
        yield Finding(
            case_id=row["case_id"],
            agent_id=row["case__referent_id"],
            dedup_key=f"convocation:{row['id']}",
            rule=f"Issue de la convocation non saisie après {n} jours",
            convocation_id=row["id"],
            due_on=(row["starts_at"] + timedelta(days=n)).date(),
        )


def contact_overdue(ctx: Context) -> Iterator[Finding]:
    """No contact (``last_contact``: an interview or an honoured convocation) within the
    intensity's interval."""
    zone = ZoneInfo(ctx.zone)
    for intensity in Intensity:
        interval = ctx.policy.contact_interval(intensity)
        since = ctx.local_midnight(ctx.today - timedelta(days=interval))
        # Worded once per intensity, not once per finding (tens of thousands nationally).
        rule = f"Dernier contact il y a plus de {interval} jours (suivi {intensity.label.lower()})"
        span = timedelta(days=interval)
        rows = (
            _open_cases(ctx)
            .filter(
                status=CaseStatus.ACTIVE,
                intensity=intensity,
                allocated_on__lt=ctx.today - timedelta(days=interval),
            )
            .annotate(last=last_contact("pk"))
            .filter(Q(last__isnull=True) | Q(last__lt=since))
            .values("id", "referent_id", "last", "allocated_on")
        )
        for row in rows:
            last = row["last"].astimezone(zone).date() if row["last"] else row["allocated_on"]
            yield Finding(
                case_id=row["id"],
                agent_id=row["referent_id"],
                dedup_key=f"case:{row['id']}",
                rule=rule,
                due_on=last + span,
            )


def no_next_appointment(ctx: Context) -> Iterator[Finding]:
    upcoming = Convocation.objects.filter(
        case=OuterRef("pk"), status=ConvocationStatus.BOOKED, starts_at__gt=ctx.now
    )
    rows = (
        _open_cases(ctx)
        .filter(status=CaseStatus.ACTIVE)
        .filter(~Exists(upcoming))
        .values("id", "referent_id")
    )
    for row in rows:
        yield Finding(
            case_id=row["id"],
            agent_id=row["referent_id"],
            dedup_key=f"case:{row['id']}",
            rule="Aucun prochain rendez-vous programmé",
        )


def repeated_breaches(ctx: Context) -> Iterator[Finding]:
    k, months = ctx.settings.repeated_breaches_count, ctx.settings.repeated_breaches_months
    since_day = add_months(ctx.today, -months)
    since = ctx.local_midnight(since_day)
    reported = Incident.objects.filter(case=OuterRef("pk"), noticed_on__gte=since_day)
    rows = (
        _open_cases(ctx)
        .annotate(
            missed=Count(
                "convocations",
                filter=Q(
                    convocations__status=ConvocationStatus.MISSED,
                    convocations__starts_at__gte=since,
                ),
            )
        )
        .filter(missed__gte=k)
        .filter(~Exists(reported))
        .values("id", "referent_id", "missed")
    )
    for row in rows:
        yield Finding(
            case_id=row["id"],
            agent_id=row["referent_id"],
            dedup_key=f"case:{row['id']}",
            rule=f"{row['missed']} absences en {months} mois sans rapport d'incident",
            legal_reference="Rapport d'incident au juge (code pénitentiaire)",
        )


def report_due(ctx: Context) -> Iterator[Finding]:
    warn = ctx.settings.report_warning_days
    for code, kind, field_name, months in (
        ("EVALUATION_REPORT", ReportKind.EVALUATION, "start_date", 3),
        ("END_REPORT", ReportKind.END_OF_MEASURE, "planned_end_date", -1),
    ):
        rule = DeadlineRule.objects.valid_on(ctx.today).filter(code=code).first()
        if rule is None:
            continue
        sent = Report.objects.filter(measure=OuterRef("pk"), kind=kind, status=ReportStatus.SENT)
        # due = anchor + months; alert from (due − warn) on, i.e. anchor ≤ today + warn − months.
        threshold = add_months(ctx.today + timedelta(days=warn), -months)
        rows = _measures(ctx).filter(
            measure_type__in=rule.measure_types.all(), **{f"{field_name}__lte": threshold}
        )
        if kind == ReportKind.END_OF_MEASURE:
            rows = rows.filter(planned_end_date__gte=ctx.today)
        rows = rows.filter(~Exists(sent)).values("id", "case_id", "case__referent_id", field_name)
        for row in rows:
            yield Finding(
                case_id=row["case_id"],
                agent_id=row["case__referent_id"],
                dedup_key=f"{kind}:{row['id']}",
                rule=rule.label,
                legal_reference=rule.legal_reference,
                measure_id=row["id"],
                due_on=add_months(row[field_name], months),
            )


def tig_at_risk(ctx: Context) -> Iterator[Finding]:
    """A TIG with hours left whose pace ends it after the deadline, or whose deadline is
    less than n days away: the ledger's own projection (``partners.tig``)."""
    n = ctx.settings.tig_warning_days
    rows = {
        row["id"]: row
        for row in _measures(ctx)
        .filter(tig_hours__isnull=False, tig_hours__gt=F("tig_hours_done"))
        .values("id", "case_id", "case__referent_id", "tig_deadline")
    }
    for pk, ledger in tig.ledgers(rows, ctx.today).items():
        row = rows[pk]
        near = ledger.deadline is not None and ledger.deadline <= ctx.today + timedelta(days=n)
        if ledger.complete or not (near or ledger.at_risk):
            continue
        left = tig.hours_label(ledger.remaining_minutes)
        if ledger.at_risk and ledger.projected_end:
            why = f"au rythme actuel, fin prévue le {ledger.projected_end:%d/%m/%Y}"
        else:
            why = f"échéance à moins de {n} jours"
        yield Finding(
            case_id=row["case_id"],
            agent_id=row["case__referent_id"],
            dedup_key=f"measure:{pk}",
            rule=f"TIG : {left} restantes, {why}",
            legal_reference="131-8 CP",
            measure_id=pk,
            due_on=row["tig_deadline"],
        )


def tig_absence(ctx: Context) -> Iterator[Finding]:
    """An unexcused absence from a TIG session in the last n days: the CPIP hears of it at
    once (the session's service refreshes this rule on commit). It closes when the person
    does a later session or the CPIP holds an interview after it."""
    since = ctx.today - timedelta(days=TIG_ABSENCE_DAYS)
    later_done = TigSession.objects.filter(
        placement__measure_id=OuterRef("placement__measure_id"),
        outcome=TigOutcome.DONE,
        on__gt=OuterRef("on"),
    )
    seen = Interview.objects.filter(
        case_id=OuterRef("placement__measure__case_id"),
        attendance__in=CONTACT,
        held_at__date__gt=OuterRef("on"),
    )
    rows = (
        TigSession.objects.filter(
            outcome=TigOutcome.UNEXCUSED,
            on__gte=since,
            placement__measure__case__in=_open_cases(ctx),
        )
        .filter(~Exists(later_done), ~Exists(seen))
        .values(
            "id",
            "on",
            "placement__measure_id",
            "placement__measure__case_id",
            "placement__measure__case__referent_id",
            "placement__post__partner__name",
        )
    )
    for row in rows:
        yield Finding(
            case_id=row["placement__measure__case_id"],
            agent_id=row["placement__measure__case__referent_id"],
            dedup_key=f"tig_session:{row['id']}",
            rule=(
                f"Absence non excusée au TIG le {row['on']:%d/%m/%Y} "
                f"({row['placement__post__partner__name']})"
            ),
            legal_reference="131-22 CP",
            measure_id=row["placement__measure_id"],
            due_on=row["on"],
        )


def assessment_due(ctx: Context) -> Iterator[Finding]:
    n = ctx.settings.assessment_due_days
    rows = (
        _open_cases(ctx)
        .filter(
            status=CaseStatus.ACTIVE,
            risk_level=RiskLevel.NOT_ASSESSED,
            allocated_on__lt=ctx.today - timedelta(days=n),
        )
        .values("id", "referent_id", "allocated_on")
    )
    for row in rows:
        yield Finding(
            case_id=row["id"],
            agent_id=row["referent_id"],
            dedup_key=f"case:{row['id']}",
            rule=f"Risque non évalué {n} jours après l'attribution",
            due_on=row["allocated_on"] + timedelta(days=n),
        )


def measure_expired(ctx: Context) -> Iterator[Finding]:
    """A measure past its planned end whose case is still followed: close it or have it
    extended."""
    rows = (
        _measures(ctx)
        .filter(case__status=CaseStatus.ACTIVE, planned_end_date__lt=ctx.today)
        .values("id", "case_id", "case__referent_id", "planned_end_date", "measure_type__code")
    )
    for row in rows:
        yield Finding(
            case_id=row["case_id"],
            agent_id=row["case__referent_id"],
            dedup_key=f"measure:{row['id']}",
            rule=(
                f"Mesure {row['measure_type__code']} échue le "
                f"{row['planned_end_date']:%d/%m/%Y} : clôturer ou prolonger"
            ),
            measure_id=row["id"],
            due_on=row["planned_end_date"],
        )


def release_no_appointment(ctx: Context) -> Iterator[Finding]:
    """A release within n days and no community appointment booked for it."""
    n = ctx.settings.release_warning_days
    rows = (
        ReleasePlan.objects.filter(
            case__in=_open_cases(ctx),
            released_on__isnull=True,
            planned_on__lte=ctx.today + timedelta(days=n),
        )
        .filter(Q(convocation__isnull=True) | ~Q(convocation__status=ConvocationStatus.BOOKED))
        .values("id", "case_id", "case__referent_id", "planned_on", "home_service__name")
    )
    for row in rows:
        yield Finding(
            case_id=row["case_id"],
            agent_id=row["case__referent_id"],
            dedup_key=f"release:{row['id']}",
            rule=(
                f"Sortie le {row['planned_on']:%d/%m/%Y} sans rendez-vous pris au "
                f"{row['home_service__name']}"
            ),
            legal_reference="741-1 CPP",
            due_on=row["planned_on"],
        )


def release_no_contact(ctx: Context) -> Iterator[Finding]:
    """Released, the deadline of the first community appointment passed, and no contact
    since the release (a convocation honoured or an interview held)."""
    since = ctx.today - timedelta(days=RELEASE_CONTACT_LOOKBACK_DAYS)
    plans = ReleasePlan.objects.filter(
        released_on__gte=since, case__service__time_zone=ctx.zone
    ).select_related("case__service", "transfer")
    for plan in plans:
        followed = plan.transfer.new_case_id if plan.transfer_id else plan.case_id  # type: ignore[union-attr]
        if followed is None:
            continue
        followed_case = (
            Case.objects.filter(pk=followed, status__in=OPEN_STATUSES)
            .select_related("service")
            .first()
        )
        if followed_case is None:
            continue
        # The measures (and so the rule) are the followed case's once transferred.
        deadline = release_deadline(followed_case, plan.released_on).last_day  # type: ignore[arg-type]
        if deadline >= ctx.today:
            continue
        contact = (
            Convocation.objects.filter(
                case_id=followed,
                status=ConvocationStatus.HONOURED,
                starts_at__date__gte=plan.released_on,
            ).exists()
            or Interview.objects.filter(
                case_id=followed, attendance__in=CONTACT, held_at__date__gte=plan.released_on
            ).exists()
        )
        if contact:
            continue
        yield Finding(
            case_id=followed,
            agent_id=followed_case.referent_id,
            dedup_key=f"release_contact:{plan.pk}",
            rule=(
                f"Sorti(e) le {plan.released_on:%d/%m/%Y} : aucun contact avant le "
                f"{deadline:%d/%m/%Y}"
            ),
            legal_reference="741-1 CPP",
            due_on=deadline,
        )


RULES = {
    AlertType.LATE_START: (late_start, AlertSeverity.CRITICAL),
    AlertType.NO_CONVOCATION: (no_convocation, AlertSeverity.CRITICAL),
    AlertType.AWAITING_ALLOCATION: (awaiting_allocation, AlertSeverity.WARNING),
    AlertType.MISSED_NO_REACTION: (missed_no_reaction, AlertSeverity.CRITICAL),
    AlertType.OUTCOME_MISSING: (outcome_missing, AlertSeverity.WARNING),
    AlertType.CONTACT_OVERDUE: (contact_overdue, AlertSeverity.WARNING),
    AlertType.NO_NEXT_APPOINTMENT: (no_next_appointment, AlertSeverity.WARNING),
    AlertType.REPEATED_BREACHES: (repeated_breaches, AlertSeverity.CRITICAL),
    AlertType.REPORT_DUE: (report_due, AlertSeverity.WARNING),
    AlertType.TIG_AT_RISK: (tig_at_risk, AlertSeverity.WARNING),
    AlertType.TIG_ABSENCE: (tig_absence, AlertSeverity.CRITICAL),
    AlertType.RELEASE_NO_APPOINTMENT: (release_no_appointment, AlertSeverity.CRITICAL),
    AlertType.RELEASE_NO_CONTACT: (release_no_contact, AlertSeverity.CRITICAL),
    AlertType.ASSESSMENT_DUE: (assessment_due, AlertSeverity.INFO),
    AlertType.MEASURE_EXPIRED: (measure_expired, AlertSeverity.WARNING),
    AlertType.REFERRAL_UNANSWERED: (referral_unanswered, AlertSeverity.INFO),
}
