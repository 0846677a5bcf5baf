"""Statistics in SQL: day differences, nearest-rank percentiles, delay facts.

Percentiles are nearest-rank (the smallest value v with at least p·n values ≤ v):
``percentile_disc`` on PostgreSQL, the window function CUME_DIST on SQLite — the same
definition, tested on both. The median of 5, 10, 20, 40 is 10 and its 9th decile 40.
"""

from __future__ import annotations

import calendar
import math
from datetime import date, timedelta

import holidays
from django.db import connections
from django.db.models import Case as CaseWhen
from django.db.models import (
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncDate

from cases.choices import (
    CaseSetting,
    ConvocationStatus,
    ConvocationType,
)
from cases.models import (
    Convocation,
)
from measures.choices import DeadlineTarget, DeadlineTrigger
from measures.deadlines import next_working_day
from measures.models import DeadlineRule, Measure
from spip.models import Service
from spip.numbers import share

EPSILON = 1e-9


def last_twelve_months(day: date) -> tuple[date, date]:
    """The last twelve months up to and including ``day``: from the day after the same date
    a year before (1 December 2025 to 30 November 2026). Every page, export and snapshot
    that says "12 months" reads this window."""
    year, month = day.year - 1, day.month
    start = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return start + timedelta(days=1), day


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (two dates), as an integer."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="(CAST(%(expressions)s AS date))",
            arg_joiner=" AS date) - CAST(",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def nearest_rank(values: list, p: float):
    """The nearest-rank percentile of an already sorted list (None when empty)."""
    if not values:
        return None
    return values[max(math.ceil(p * len(values) - EPSILON), 1) - 1]


def distribution(values) -> dict:
    """Minimum, quartiles and maximum of a list of numbers, nearest-rank."""
    ordered = sorted(v for v in values if v is not None)
    return {
        "n": len(ordered),
        "min": ordered[0] if ordered else None,
        "q1": nearest_rank(ordered, 0.25),
        "median": nearest_rank(ordered, 0.5),
        "q3": nearest_rank(ordered, 0.75),
        "max": ordered[-1] if ordered else None,
    }


# --- Delays: sentence → first SPIP appointment → first contact -----------------------


def delay_facts(measures, *, today: date, groups: dict, extra: tuple[str, ...] = ()):
    """One row per measure sentenced to a person free when sentenced (milieu ouvert: a
    person in custody has no clock at sentencing, see ``custody_count``), whose type has a
    statutory first-convocation deadline: days to the first SPIP appointment issued (a
    cancelled or excused one is not), days to the first contact (the stored
    ``first_contact_on``: the one definition, ``cases.files.selectors.first_contact``,
    kept in the measure's row by its services), the deadline in days (None when no rule was in force that day;
    extended to the next working day per art. 801 CPP), days elapsed since the sentence,
    and one key column per level of ``groups`` (name → expression)."""

    first_appointment = (
        Convocation.objects.filter(
            case=OuterRef("case"), starts_at__date__gte=OuterRef("judgment_date")
        )
        .exclude(status__in=[ConvocationStatus.CANCELLED, ConvocationStatus.EXCUSED])
        .exclude(kind=ConvocationType.JAP)
        .order_by("starts_at")
        .annotate(on=TruncDate("starts_at"))
        .values("on")[:1]
    )
    deadline, types = deadline_expression(today)
    keys = {f"level_{name}": expression for name, expression in groups.items()}
    return (
        measures.filter(
            measure_type_id__in=types, judgment_date__lte=today, case__setting=CaseSetting.OPEN
        )
        .annotate(
            **keys,
            deadline_days=deadline,
            appointment_days=DaysBetween(Subquery(first_appointment), F("judgment_date")),
            contact_days=DaysBetween(F("first_contact_on"), F("judgment_date")),
            elapsed_days=DaysBetween(Value(today), F("judgment_date")),
        )
        # Taken in charge: convoked (an appointment issued) or already met (first
        # contact), whichever came first; the deadline is measured on that day.
        .annotate(
            reached_days=Least(
                Coalesce("appointment_days", "contact_days"),
                Coalesce("contact_days", "appointment_days"),
            )
        )
        .values(
            *keys,
            "deadline_days",
            "appointment_days",
            "contact_days",
            "reached_days",
            "elapsed_days",
            *extra,
        )
        .order_by()
    )


def custody_population(measures, *, today: date):
    """The measures of the same population sentenced to persons in custody: counted apart
    (their clock starts at release), never inside the free-person delays."""
    _deadline, types = deadline_expression(today)
    return measures.filter(
        measure_type_id__in=types, judgment_date__lte=today, case__setting=CaseSetting.CLOSED
    )


def custody_count(measures, *, today: date) -> int:
    return custody_population(measures, today=today).count()


def deadline_expression(today: date):
    """The statutory first-convocation deadline of a measure, in days, as a CASE over the
    rules (a handful of rows, read once): the first matching rule by ascending amount, i.e.
    the strictest that applied on the day of the judgment. A rule that follows art. 801 CPP
    runs on when its last day is a Saturday, a Sunday or a public holiday of the measure's
    service: weekends by the weekday of the judgment, holidays by the (few) judgment dates
    whose last day falls on or just before one, per holiday calendar. Returns it with the
    measure types that have any such rule."""

    rules = list(
        DeadlineRule.objects.filter(
            trigger=DeadlineTrigger.SENTENCE_FREE,
            target=DeadlineTarget.SPIP_CONVOCATION,
            unit="days",
            valid_from__lte=today,
        )
        .prefetch_related("measure_types")
        .order_by("amount", "pk")
    )
    subdivisions = sorted(set(Service.objects.values_list("holiday_subdivision", flat=True)))
    whens = []
    types: set[int] = set()
    for rule in rules:
        type_ids = [t.pk for t in rule.measure_types.all()]
        types.update(type_ids)
        condition = Q(measure_type_id__in=type_ids, judgment_date__gte=rule.valid_from)
        if rule.valid_to:
            condition &= Q(judgment_date__lte=rule.valid_to)
        if rule.provisionally_enforceable is not None:
            condition &= Q(provisionally_enforceable=rule.provisionally_enforceable)
        amount = rule.amount
        if rule.extends_to_working_day:
            start = max(rule.valid_from, date(today.year - 4, 1, 1))
            for subdivision in subdivisions:
                by_extension: dict[int, list[date]] = {}
                for last in _holiday_edges(subdivision, start.year, today.year):
                    extension = (next_working_day(last, subdivision) - last).days
                    if extension != _weekend_extension(last):
                        by_extension.setdefault(extension, []).append(last - timedelta(days=amount))
                for extension, days in sorted(by_extension.items()):
                    whens.append(
                        When(
                            condition
                            & Q(
                                case__service__holiday_subdivision=subdivision,
                                judgment_date__in=days,
                            ),
                            then=Value(amount + extension),
                        )
                    )
            # Last day on a Saturday: two more days; on a Sunday: one (isoweekday 6, 7).
            for weekday, extension in ((6, 2), (7, 1)):
                judged_on = (weekday - 1 - amount) % 7 + 1
                whens.append(
                    When(
                        condition & Q(judgment_date__iso_week_day=judged_on),
                        then=Value(amount + extension),
                    )
                )
        whens.append(When(condition, then=Value(amount)))
    if not whens:
        return Value(None, output_field=IntegerField()), types
    return CaseWhen(*whens, default=None, output_field=IntegerField()), types


def _weekend_extension(day: date) -> int:
    return {5: 2, 6: 1}.get(day.weekday(), 0)


def _holiday_edges(subdivision: str, first_year: int, last_year: int):
    """The days whose extension a holiday changes: each holiday and the two days before it
    (a weekend before a Monday holiday)."""
    for holiday in holidays.France(
        subdiv=subdivision or None, years=range(first_year, last_year + 2)
    ):
        for back in (2, 1, 0):
            yield holiday - timedelta(days=back)


def is_late():
    """Outside the deadline: convoked or met after it, or neither and the deadline passed."""
    return Q(reached_days__gt=F("deadline_days")) | Q(
        reached_days__isnull=True, elapsed_days__gt=F("deadline_days")
    )


DELAY_SQL = """
WITH facts AS {materialized} ({facts}),
stacked AS ({stacked})
SELECT level, grp,
       COUNT(*),
       SUM(CASE WHEN reached_days <= deadline_days THEN 1 ELSE 0 END),
       SUM(CASE WHEN reached_days > deadline_days
                  OR (reached_days IS NULL AND elapsed_days > deadline_days)
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN reached_days IS NULL AND elapsed_days <= deadline_days
                THEN 1 ELSE 0 END),
       MIN(CASE WHEN a_rank >= %s THEN appointment_days END),
       MIN(CASE WHEN a_rank >= %s THEN appointment_days END),
       MIN(CASE WHEN i_rank >= %s THEN contact_days END),
       MIN(CASE WHEN i_rank >= %s THEN contact_days END)
FROM (
    SELECT stacked.*,
           CUME_DIST() OVER (PARTITION BY level, grp, appointment_days IS NULL
                             ORDER BY appointment_days) AS a_rank,
           CUME_DIST() OVER (PARTITION BY level, grp, contact_days IS NULL
                             ORDER BY contact_days) AS i_rank
    FROM stacked
) ranked
GROUP BY level, grp
"""

# PostgreSQL has the nearest-rank percentile as an ordered-set aggregate: one sort per
# group instead of two window passes over every row. The planner prices the appointment
# lookups far above what they cost (an index probe each), which crosses jit_above_cost:
# compiling the query then took ~2.4 s of a ~2.6 s run at 20,000 cases, the query itself
# ~0.2 s. JIT is off for this statement only: SET LOCAL in the same query string lasts to
# the end of its transaction (the implicit one in autocommit), without a round trip more.
DELAY_SQL_POSTGRESQL = """
SET LOCAL jit = off;
WITH facts AS MATERIALIZED ({facts}),
stacked AS ({stacked})
SELECT level, grp,
       COUNT(*),
       COUNT(*) FILTER (WHERE reached_days <= deadline_days),
       COUNT(*) FILTER (WHERE reached_days > deadline_days
                          OR (reached_days IS NULL AND elapsed_days > deadline_days)),
       COUNT(*) FILTER (WHERE reached_days IS NULL AND elapsed_days <= deadline_days),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY appointment_days),
       percentile_disc(0.9) WITHIN GROUP (ORDER BY appointment_days),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY contact_days),
       percentile_disc(0.9) WITHIN GROUP (ORDER BY contact_days)
FROM stacked
GROUP BY level, grp
"""

STACKED_SQL = (
    "SELECT '{level}' AS level, {column} AS grp, deadline_days, appointment_days, reached_days, "
    "contact_days, elapsed_days FROM facts WHERE deadline_days IS NOT NULL"
)

DELAY_COLUMNS = (
    "measures",
    "within",
    "late",
    "pending",
    "appointment_median",
    "appointment_p90",
    "contact_median",
    "contact_p90",
)


def delay_summary(facts, levels) -> dict[str, dict]:
    """For each level of ``delay_facts`` (``levels``: their names) and each of its groups:
    measures, within the deadline, late, pending (deadline not reached, neither convoked nor
    met yet),
    median and 9th decile of the days to the appointment and to the first contact, and
    the share within the deadline among those decided.

    One query: the facts are computed once (a materialised CTE: their subqueries run once
    per measure, not once per use) and stacked level by level."""
    connection = connections[facts.db]
    sql, params = facts.query.sql_with_params()
    stacked = " UNION ALL ".join(
        STACKED_SQL.format(level=name, column=connection.ops.quote_name(f"level_{name}"))
        for name in levels
    )
    if connection.vendor == "postgresql":
        query = DELAY_SQL_POSTGRESQL.format(facts=sql, stacked=stacked)
        bound = list(params)
    else:
        low, high = 0.5 - EPSILON, 0.9 - EPSILON
        query = DELAY_SQL.format(materialized="", facts=sql, stacked=stacked)
        bound = [*params, low, high, low, high]
    with connection.cursor() as cursor:
        # The inner SQL is Django's own, its values bound; level names are code, not input.
        cursor.execute(query, bound)  # nosec B608
        rows = cursor.fetchall()
    summary: dict[str, dict] = {name: {} for name in levels}
    for row in rows:
        figures: dict[str, int | float | None] = dict(
            zip(DELAY_COLUMNS, (int(v) if v is not None else None for v in row[2:]), strict=True)
        )
        within, late = int(row[3] or 0), int(row[4] or 0)
        figures["within"], figures["late"] = within, late
        figures["within_share"] = share(within, within + late)
        summary[row[0]][int(row[1])] = figures
    return summary


def judged_in_last_twelve_months(day: date):
    """The measures the nightly delays count (no user: the job): those judged in the last
    twelve months up to ``day``."""
    since, until = last_twelve_months(day)
    return Measure.objects.filter(judgment_date__gte=since, judgment_date__lte=until)


def delays_for_snapshots(service_ids: list[int] | None, day: date) -> dict[int, dict]:
    """Twelve months of delays per service, for a service's snapshots recomputed alone
    (the national run takes them from ``regional_delay_figures``)."""
    measures = judged_in_last_twelve_months(day)
    if service_ids is not None:
        measures = measures.filter(case__service_id__in=service_ids)
    levels = {"service": F("case__service_id")}
    return delay_summary(delay_facts(measures, today=day, groups=levels), levels)["service"]
