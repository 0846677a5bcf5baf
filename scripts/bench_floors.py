"""Honest floors for the bench's jobs: hand-written SQL producing the same rows and figures
as the job it is compared with, and writing them, run in the same state (alerts open).

The snapshot floor writes into a scratch copy of the snapshot table (``LIKE reporting_workloadsnapshot INCLUDING ALL``
and its foreign keys) holding the day's rows already, as the
job's table does in steady state; ``snapshot_floor_check`` asserts that both tables then
hold the same rows with the same figures. The alert floors do the same against a scratch
copy of the alert table. The bench prints the SQL it executes into BENCHMARKS.md.
PostgreSQL only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# The agents, antennas and services of the day, in one statement: every figure of
# ``reporting.snapshots.compute(delays=False)`` (counts by risk and setting, MF/MO, persons,
# measures, the measure mix, open alerts, fte, capacity = quotité × (1 − reductions),
# weighted load, load %, persons per fte) upserted; the stored delays are kept.
SNAPSHOT_FLOOR_SQL = """
WITH agent AS (
    SELECT a.id, a.antenna_id, a.service_id, s.interregional_unit_id AS unit_id,
           a.quotite AS fte,
           a.quotite * (100 - LEAST(COALESCE(red.total, 0), 100)) / 100 AS capacity,
           COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), u.username) AS label
    FROM spip_agent a
    JOIN auth_user u ON u.id = a.user_id
    LEFT JOIN spip_service s ON s.id = a.service_id
    LEFT JOIN (
        SELECT agent_id, SUM(percent) AS total FROM reporting_capacityreduction
        WHERE starts_on <= %(day)s AND (ends_on IS NULL OR ends_on >= %(day)s)
        GROUP BY agent_id
    ) red ON red.agent_id = a.id
    WHERE a.role = 'cpip' AND a.active_from <= %(day)s
      AND (a.active_to IS NULL OR a.active_to >= %(day)s)
), open_case AS (
    SELECT c.id, c.person_id, c.referent_id, c.antenna_id, c.service_id, c.risk_level,
           c.setting, c.status,
           CASE c.risk_level WHEN 'high' THEN %(w_high)s WHEN 'moderate' THEN %(w_moderate)s
                WHEN 'low' THEN %(w_low)s WHEN 'not_assessed' THEN %(w_not_assessed)s
                ELSE 0 END AS w,
           (c.referent_id IS NULL OR c.referent_id NOT IN (SELECT id FROM agent)) AS unfollowed
    FROM cases_case c
    WHERE c.status IN ('awaiting', 'active', 'suspended')
), by_referent AS (
    SELECT referent_id AS id, COUNT(DISTINCT person_id) AS persons,
           COUNT(*) FILTER (WHERE risk_level = 'high') AS cases_high,
           COUNT(*) FILTER (WHERE risk_level = 'moderate') AS cases_moderate,
           COUNT(*) FILTER (WHERE risk_level = 'low') AS cases_low,
           COUNT(*) FILTER (WHERE risk_level = 'not_assessed') AS cases_not_assessed,
           COUNT(*) FILTER (WHERE setting = 'mo') AS cases_mo,
           COUNT(*) FILTER (WHERE setting = 'mf') AS cases_mf,
           COUNT(*) FILTER (WHERE status = 'awaiting') AS awaiting,
           SUM(w) AS weighted
    FROM open_case WHERE referent_id IS NOT NULL GROUP BY referent_id
), open_measure AS (
    SELECT c.referent_id, c.antenna_id, c.service_id, t.code
    FROM measures_measure m
    JOIN open_case c ON c.id = m.case_id
    JOIN measures_measuretype t ON t.id = m.measure_type_id
    WHERE m.actual_end_date IS NULL
), measures_by_referent AS (
    SELECT referent_id AS id, COUNT(*) AS n FROM open_measure GROUP BY referent_id
), open_alert AS (
    SELECT al.agent_id, c.antenna_id, c.service_id, COUNT(*) AS n
    FROM cases_alert al JOIN cases_case c ON c.id = al.case_id
    WHERE al.closed_at IS NULL
    GROUP BY 1, 2, 3
), agent_row AS (
    SELECT 'agent' AS entity_type, a.id AS entity_id, a.label, a.id AS agent_id,
           a.antenna_id, a.service_id, a.unit_id,
           COALESCE(r.persons, 0) AS persons, COALESCE(mr.n, 0) AS measures,
           COALESCE(r.cases_high, 0) AS cases_high,
           COALESCE(r.cases_moderate, 0) AS cases_moderate,
           COALESCE(r.cases_low, 0) AS cases_low,
           COALESCE(r.cases_not_assessed, 0) AS cases_not_assessed,
           COALESCE(r.cases_mo, 0) AS cases_mo, COALESCE(r.cases_mf, 0) AS cases_mf,
           COALESCE(r.awaiting, 0) AS awaiting_allocation, 0 AS awaiting_weighted,
           COALESCE(r.weighted, 0) AS weighted, a.fte, a.capacity,
           COALESCE((SELECT SUM(n) FROM open_alert o WHERE o.agent_id = a.id), 0) AS open_alerts,
           '{}'::jsonb AS measure_mix
    FROM agent a
    LEFT JOIN by_referent r ON r.id = a.id
    LEFT JOIN measures_by_referent mr ON mr.id = a.id
), team_part AS (
    -- A team's load is its CPIPs' caseloads over their capacity …
    SELECT 'antenna' AS entity_type, antenna_id AS entity_id, persons, measures, cases_high,
           cases_moderate, cases_low, cases_not_assessed, cases_mo, cases_mf,
           0 AS awaiting_allocation, 0 AS awaiting_weighted, weighted, fte, capacity,
           0 AS open_alerts
    FROM agent_row WHERE antenna_id IS NOT NULL
    UNION ALL
    SELECT 'service', service_id, persons, measures, cases_high, cases_moderate, cases_low,
           cases_not_assessed, cases_mo, cases_mf, 0, 0, weighted, fte, capacity, 0
    FROM agent_row WHERE service_id IS NOT NULL
    UNION ALL
    -- … beside it, the open cases no CPIP in post follows, per antenna and service …
    SELECT 'antenna', antenna_id, 0, 0, 0, 0, 0, 0, 0, 0, COUNT(*), SUM(w), 0, 0, 0, 0
    FROM open_case WHERE unfollowed GROUP BY antenna_id
    UNION ALL
    SELECT 'service', service_id, 0, 0, 0, 0, 0, 0, 0, 0, COUNT(*), SUM(w), 0, 0, 0, 0
    FROM open_case WHERE unfollowed GROUP BY service_id
    UNION ALL
    -- … the open alerts per antenna and service of their case …
    SELECT 'antenna', antenna_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SUM(n)
    FROM open_alert GROUP BY antenna_id
    UNION ALL
    SELECT 'service', service_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SUM(n)
    FROM open_alert GROUP BY service_id
    UNION ALL
    -- … and every antenna with open measures, every service of the nation.
    SELECT DISTINCT 'antenna', antenna_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM open_measure
    UNION ALL
    SELECT 'service', id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM spip_service
), mix AS (
    SELECT entity_type, entity_id, jsonb_object_agg(code, n) AS measure_mix
    FROM (
        SELECT 'antenna' AS entity_type, antenna_id AS entity_id, code, COUNT(*) AS n
        FROM open_measure GROUP BY antenna_id, code
        UNION ALL
        SELECT 'service', service_id, code, COUNT(*) FROM open_measure GROUP BY service_id, code
    ) per_code
    GROUP BY entity_type, entity_id
), team_row AS (
    SELECT p.entity_type, p.entity_id, COALESCE(an.name, s.name) AS label, NULL::bigint AS agent_id,
           an.id AS antenna_id, COALESCE(an.service_id, s.id) AS service_id,
           COALESCE(ans.interregional_unit_id, s.interregional_unit_id) AS unit_id,
           SUM(persons) AS persons, SUM(measures) AS measures, SUM(cases_high) AS cases_high,
           SUM(cases_moderate) AS cases_moderate, SUM(cases_low) AS cases_low,
           SUM(cases_not_assessed) AS cases_not_assessed, SUM(cases_mo) AS cases_mo,
           SUM(cases_mf) AS cases_mf, SUM(awaiting_allocation) AS awaiting_allocation,
           SUM(awaiting_weighted) AS awaiting_weighted, SUM(weighted) AS weighted,
           SUM(fte) AS fte, SUM(capacity) AS capacity, SUM(open_alerts) AS open_alerts,
           COALESCE(mix.measure_mix, '{}'::jsonb) AS measure_mix
    FROM team_part p
    LEFT JOIN spip_antenna an ON p.entity_type = 'antenna' AND an.id = p.entity_id
    LEFT JOIN spip_service ans ON ans.id = an.service_id
    LEFT JOIN spip_service s ON p.entity_type = 'service' AND s.id = p.entity_id
    LEFT JOIN mix ON mix.entity_type = p.entity_type AND mix.entity_id = p.entity_id
    WHERE p.entity_id IS NOT NULL
    GROUP BY p.entity_type, p.entity_id, an.id, an.name, an.service_id,
             ans.interregional_unit_id, s.id, s.name, s.interregional_unit_id, mix.measure_mix
)
INSERT INTO {table} AS t (
    day, entity_type, entity_id, label, agent_id, antenna_id, service_id,
    interregional_unit_id, policy_id, persons, measures, cases_high, cases_moderate,
    cases_low, cases_not_assessed, cases_mo, cases_mf, awaiting_allocation,
    awaiting_weighted, weighted_load, fte, capacity, load_percent, persons_per_fte,
    open_alerts, measure_mix, delay_measures, delay_within, delay_late, computed_at
)
SELECT %(day)s, entity_type, entity_id, COALESCE(NULLIF(LEFT(label, 200), ''), '—'),
       agent_id, antenna_id, service_id, unit_id, %(policy)s, persons, measures, cases_high,
       cases_moderate, cases_low, cases_not_assessed, cases_mo, cases_mf,
       awaiting_allocation, awaiting_weighted, weighted, fte, capacity,
       ROUND(weighted / NULLIF(capacity, 0) * 100, 1), ROUND(persons / NULLIF(fte, 0), 1),
       open_alerts, measure_mix, 0, 0, 0, %(now)s
FROM (SELECT * FROM agent_row UNION ALL SELECT * FROM team_row) every_row
ON CONFLICT (day, entity_type, entity_id) DO UPDATE SET
    label = EXCLUDED.label, policy_id = EXCLUDED.policy_id,
    weighted_load = EXCLUDED.weighted_load, awaiting_weighted = EXCLUDED.awaiting_weighted,
    fte = EXCLUDED.fte, capacity = EXCLUDED.capacity, load_percent = EXCLUDED.load_percent,
    persons_per_fte = EXCLUDED.persons_per_fte, computed_at = EXCLUDED.computed_at,
    agent_id = EXCLUDED.agent_id, antenna_id = EXCLUDED.antenna_id,
    service_id = EXCLUDED.service_id, interregional_unit_id = EXCLUDED.interregional_unit_id,
    persons = EXCLUDED.persons, measures = EXCLUDED.measures,
    cases_high = EXCLUDED.cases_high, cases_moderate = EXCLUDED.cases_moderate,
    cases_low = EXCLUDED.cases_low, cases_not_assessed = EXCLUDED.cases_not_assessed,
    cases_mo = EXCLUDED.cases_mo, cases_mf = EXCLUDED.cases_mf,
    awaiting_allocation = EXCLUDED.awaiting_allocation, open_alerts = EXCLUDED.open_alerts,
    measure_mix = EXCLUDED.measure_mix
"""

# The interregional units and the nation: the sums of the service rows just written
# (their stored delays included), as ``reporting.snapshots.roll_up``.
ROLLUP_FLOOR_SQL = """
WITH service_row AS (
    SELECT interregional_unit_id, persons, measures, cases_high, cases_moderate, cases_low,
           cases_not_assessed, cases_mo, cases_mf, awaiting_allocation, awaiting_weighted,
           weighted_load, fte, capacity, open_alerts, delay_measures, delay_within,
           delay_late, measure_mix
    FROM {table} WHERE day = %(day)s AND entity_type = 'service'
), per_unit AS (
    SELECT 'interregional' AS entity_type, u.id AS entity_id, u.name AS label,
           u.id AS unit_id, s.*
    FROM spip_interregionalunit u LEFT JOIN service_row s ON s.interregional_unit_id = u.id
    UNION ALL
    SELECT 'nation', 0, 'France', NULL, s.*
    FROM (SELECT 1) AS one LEFT JOIN service_row s ON TRUE
), summed AS (
    SELECT p.entity_type, p.entity_id, p.label, p.unit_id,
           COALESCE(SUM(persons), 0) AS persons, COALESCE(SUM(measures), 0) AS measures,
           COALESCE(SUM(cases_high), 0) AS cases_high,
           COALESCE(SUM(cases_moderate), 0) AS cases_moderate,
           COALESCE(SUM(cases_low), 0) AS cases_low,
           COALESCE(SUM(cases_not_assessed), 0) AS cases_not_assessed,
           COALESCE(SUM(cases_mo), 0) AS cases_mo, COALESCE(SUM(cases_mf), 0) AS cases_mf,
           COALESCE(SUM(awaiting_allocation), 0) AS awaiting_allocation,
           COALESCE(SUM(awaiting_weighted), 0) AS awaiting_weighted,
           COALESCE(SUM(weighted_load), 0) AS weighted, COALESCE(SUM(fte), 0) AS fte,
           COALESCE(SUM(capacity), 0) AS capacity,
           COALESCE(SUM(open_alerts), 0) AS open_alerts,
           COALESCE(SUM(delay_measures), 0) AS delay_measures,
           COALESCE(SUM(delay_within), 0) AS delay_within,
           COALESCE(SUM(delay_late), 0) AS delay_late,
           COALESCE((
               SELECT jsonb_object_agg(code, n) FROM (
                   SELECT m.key AS code, SUM(m.value::int) AS n
                   FROM service_row s2, jsonb_each_text(s2.measure_mix) m
                   WHERE p.entity_type = 'nation' OR s2.interregional_unit_id = p.entity_id
                   GROUP BY m.key
               ) per_code
           ), '{{}}'::jsonb) AS measure_mix
    FROM per_unit p
    GROUP BY p.entity_type, p.entity_id, p.label, p.unit_id
)
INSERT INTO {table} AS t (
    day, entity_type, entity_id, label, interregional_unit_id, policy_id, persons, measures,
    cases_high, cases_moderate, cases_low, cases_not_assessed, cases_mo, cases_mf,
    awaiting_allocation, awaiting_weighted, weighted_load, fte, capacity, load_percent,
    persons_per_fte, open_alerts, measure_mix, delay_measures, delay_within, delay_late,
    delay_median_days, delay_p90_days, computed_at
)
SELECT %(day)s, entity_type, entity_id, COALESCE(NULLIF(LEFT(label, 200), ''), '—'),
       unit_id, %(policy)s, persons, measures, cases_high, cases_moderate, cases_low,
       cases_not_assessed, cases_mo, cases_mf, awaiting_allocation, awaiting_weighted,
       weighted, fte, capacity, ROUND(weighted / NULLIF(capacity, 0) * 100, 1),
       ROUND(persons / NULLIF(fte, 0), 1), open_alerts, measure_mix, delay_measures,
       delay_within, delay_late, NULL, NULL, %(now)s
FROM summed
ON CONFLICT (day, entity_type, entity_id) DO UPDATE SET
    label = EXCLUDED.label, policy_id = EXCLUDED.policy_id,
    interregional_unit_id = EXCLUDED.interregional_unit_id, persons = EXCLUDED.persons,
    measures = EXCLUDED.measures, cases_high = EXCLUDED.cases_high,
    cases_moderate = EXCLUDED.cases_moderate, cases_low = EXCLUDED.cases_low,
    cases_not_assessed = EXCLUDED.cases_not_assessed, cases_mo = EXCLUDED.cases_mo,
    cases_mf = EXCLUDED.cases_mf, awaiting_allocation = EXCLUDED.awaiting_allocation,
    awaiting_weighted = EXCLUDED.awaiting_weighted, weighted_load = EXCLUDED.weighted_load,
    fte = EXCLUDED.fte, capacity = EXCLUDED.capacity, load_percent = EXCLUDED.load_percent,
    persons_per_fte = EXCLUDED.persons_per_fte, open_alerts = EXCLUDED.open_alerts,
    measure_mix = EXCLUDED.measure_mix, delay_measures = EXCLUDED.delay_measures,
    delay_within = EXCLUDED.delay_within, delay_late = EXCLUDED.delay_late,
    delay_median_days = EXCLUDED.delay_median_days, delay_p90_days = EXCLUDED.delay_p90_days,
    computed_at = EXCLUDED.computed_at
"""

SCRATCH_SNAPSHOTS = "bench_floor_snapshot"
# No JIT compilation for the floor's transaction: compiling one large statement took
# seconds at 30,000 cases, which no one writing the floor by hand would accept. The alert
# job runs so too (``cases.alerts.services._without_jit``); the snapshot job's small
# queries stay under the cost at which PostgreSQL compiles.
WITHOUT_JIT = "SET LOCAL jit = off"

# What must be equal between the job's rows and the floor's (all but ids and computed_at).
COMPARED = (
    "label, agent_id, antenna_id, service_id, interregional_unit_id, policy_id, persons, "
    "measures, cases_high, cases_moderate, cases_low, cases_not_assessed, cases_mo, cases_mf, "
    "awaiting_allocation, awaiting_weighted, weighted_load, fte, capacity, load_percent, "
    "persons_per_fte, open_alerts, measure_mix, delay_measures, delay_within, delay_late, "
    "delay_median_days, delay_p90_days"
)


def _params(day: date) -> dict:
    from django.utils import timezone

    from cases.workload.models import WorkloadPolicy

    policy = WorkloadPolicy.objects.in_force(day)
    assert policy is not None
    return {
        "day": day,
        "policy": policy.pk,
        "now": timezone.now(),
        "w_high": Decimal(policy.weight_high),
        "w_moderate": Decimal(policy.weight_moderate),
        "w_low": Decimal(policy.weight_low),
        "w_not_assessed": Decimal(policy.weight_not_assessed),
    }


def _scratch_copy(cur, table: str, scratch: str) -> None:
    """A copy of ``table`` in the bench's database: columns, defaults, indexes, checks, and
    its foreign keys too (``LIKE`` leaves them out), logged like the real table, so the
    floor pays every check and write the job pays."""
    cur.execute(f"DROP TABLE IF EXISTS {scratch}")
    cur.execute(f"CREATE TABLE {scratch} (LIKE {table} INCLUDING ALL)")
    cur.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    for (definition,) in cur.fetchall():
        cur.execute(f"ALTER TABLE {scratch} ADD {definition}")


def snapshot_floor_prepare(day: date) -> None:
    """The scratch table, holding the day's rows as the job's table does (steady state)."""
    from django.db import connection

    with connection.cursor() as cur:
        _scratch_copy(cur, "reporting_workloadsnapshot", SCRATCH_SNAPSHOTS)
        cur.execute(
            f"INSERT INTO {SCRATCH_SNAPSHOTS} SELECT * FROM reporting_workloadsnapshot "  # noqa: S608
            "WHERE day = %s",
            [day],
        )


def snapshot_floor(day: date) -> int:
    """The floor itself: two statements, as timed by the bench. Returns the rows written."""
    from django.db import connection, transaction

    params = _params(day)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(WITHOUT_JIT)
        cur.execute(SNAPSHOT_FLOOR_SQL.replace("{table}", SCRATCH_SNAPSHOTS), params)
        written = cur.rowcount
        cur.execute(ROLLUP_FLOOR_SQL.format(table=SCRATCH_SNAPSHOTS), params)
        return written + cur.rowcount


def snapshot_floor_check(day: date) -> int:
    """Assert that the floor's rows are the job's: same keys, same figures. Returns the
    number of rows compared."""
    from django.db import connection

    query = (
        f"SELECT entity_type, entity_id, {COMPARED} FROM {{table}} WHERE day = %s "  # noqa: S608
        "ORDER BY entity_type, entity_id"
    )
    with connection.cursor() as cur:
        cur.execute(query.format(table="reporting_workloadsnapshot"), [day])
        job = cur.fetchall()
        cur.execute(query.format(table=SCRATCH_SNAPSHOTS), [day])
        floor = cur.fetchall()
    job_keys = {row[:2] for row in job}
    floor_keys = {row[:2] for row in floor}
    assert job_keys == floor_keys, (
        f"snapshot floor: rows differ: {sorted(job_keys - floor_keys)[:5]} only in the job, "
        f"{sorted(floor_keys - job_keys)[:5]} only in the floor"
    )
    differing = [(a, b) for a, b in zip(job, floor, strict=True) if a != b]
    assert not differing, f"snapshot floor: {len(differing)} rows differ, e.g. {differing[:2]}"
    return len(job)


def snapshot_floor_markdown() -> list[str]:
    return [
        "```sql",
        "-- agents, antennas, services",
        SNAPSHOT_FLOOR_SQL.replace("{table}", SCRATCH_SNAPSHOTS).strip(),
        ";",
        "-- interregional units and the nation, from the service rows",
        ROLLUP_FLOOR_SQL.format(table=SCRATCH_SNAPSHOTS).strip(),
        ";",
        "```",
    ]


# --- Alert rules ------------------------------------------------------------------------
#
# Each floor is one statement per rule: the findings of every time zone (UNION ALL of one
# SELECT per zone, as the rule runs once per zone), the new ones inserted with
# ON CONFLICT DO NOTHING against the partial unique index, the cleared ones closed by one
# UPDATE. It writes into a scratch copy of the alert table holding, for a rerun, the
# type's open alerts (steady state), and nothing for a first run.

SCRATCH_ALERTS = "bench_floor_alert"
SCRATCH_HOLIDAYS = "bench_floor_holiday"

ALERT_WRITE_SQL = """
WITH finding AS (
{findings}
), opened AS (
    INSERT INTO {table} (alert_type, severity, case_id, agent_id, rule, legal_reference,
                         dedup_key, due_on, measure_id, convocation_id, opened_at,
                         snooze_reason, without_referent)
    SELECT %(type)s, %(severity)s, case_id, agent_id, LEFT(rule, 255), LEFT(legal, 120),
           dedup_key, due_on, measure_id, convocation_id, %(now)s, '', FALSE
    FROM finding
    ON CONFLICT DO NOTHING
    RETURNING 1
), closed AS (
    UPDATE {table} a SET closed_at = %(now)s
    WHERE a.alert_type = %(type)s AND a.closed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM finding f WHERE f.dedup_key = a.dedup_key)
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM opened), (SELECT COUNT(*) FROM closed)
"""

LATE_START_SQL = """
    SELECT m.case_id, c.referent_id AS agent_id, 'measure:' || m.id AS dedup_key,
           m.id AS measure_id, NULL::bigint AS convocation_id,
           {text} AS rule, {legal} AS legal,
           CASE WHEN {extends} THEN (
               SELECT MIN(d)::date
               FROM generate_series(m.judgment_date + {amount}, m.judgment_date + {amount} + 14,
                                    interval '1 day') d
               WHERE EXTRACT(ISODOW FROM d) < 6 AND NOT EXISTS (
                   SELECT 1 FROM bench_floor_holiday h
                   WHERE h.subdivision = s.holiday_subdivision AND h.day = d::date)
           ) ELSE m.judgment_date + {amount} END AS due_on
    FROM measures_measure m
    JOIN cases_case c ON c.id = m.case_id
    JOIN spip_service s ON s.id = c.service_id
    JOIN (VALUES {expiry}) AS expiry(subdivision, latest)
      ON expiry.subdivision = s.holiday_subdivision
    WHERE s.time_zone = {zone} AND c.status IN ('awaiting', 'active', 'suspended')
      AND m.actual_end_date IS NULL AND c.setting = 'mo' AND m.judgment_date <= expiry.latest
      AND m.measure_type_id IN ({types}) {enforceable}
      AND m.first_contact_on IS NULL  -- the stored first contact, as the rule reads it"""

CONTACT_OVERDUE_SQL = """
    SELECT c.id AS case_id, c.referent_id AS agent_id, 'case:' || c.id AS dedup_key,
           NULL::bigint AS measure_id, NULL::bigint AS convocation_id, k.rule, '' AS legal,
           COALESCE((last.at AT TIME ZONE {zone})::date, c.allocated_on) + k.days AS due_on
    FROM cases_case c
    JOIN spip_service s ON s.id = c.service_id
    JOIN (VALUES {intervals}) AS k(intensity, days, rule, since) ON k.intensity = c.intensity
    CROSS JOIN LATERAL (
        SELECT GREATEST(
            (SELECT MAX(v.starts_at) FROM cases_convocation v
             WHERE v.case_id = c.id AND v.status = 'honoured' AND v.kind <> 'jap'),
            (SELECT MAX(i.held_at) FROM cases_interview i
             WHERE i.case_id = c.id AND i.attendance IN ('present', 'late'))) AS at
    ) last
    WHERE s.time_zone = {zone} AND c.status = 'active' AND c.allocated_on < {today} - k.days
      AND (last.at IS NULL OR last.at < k.since)"""

NO_NEXT_APPOINTMENT_SQL = """
    SELECT c.id AS case_id, c.referent_id AS agent_id, 'case:' || c.id AS dedup_key,
           NULL::bigint AS measure_id, NULL::bigint AS convocation_id,
           'Aucun prochain rendez-vous programmé' AS rule, '' AS legal, NULL::date AS due_on
    FROM cases_case c JOIN spip_service s ON s.id = c.service_id
    WHERE s.time_zone = {zone} AND c.status = 'active'
      AND NOT EXISTS (
          SELECT 1 FROM cases_convocation v
          WHERE v.case_id = c.id AND v.status = 'booked' AND v.starts_at > {now})"""


def _late_start_parts(ctx, lit) -> list[str]:
    from measures.choices import DeadlineTarget, DeadlineTrigger
    from measures.deadlines import latest_start_expired
    from measures.models import DeadlineRule

    parts = []
    rules = DeadlineRule.objects.valid_on(ctx.today).filter(
        trigger=DeadlineTrigger.SENTENCE_FREE, target=DeadlineTarget.SPIP_CONVOCATION, unit="days"
    )
    for rule in rules.prefetch_related("measure_types"):
        types = [t.pk for t in rule.measure_types.all()] or [0]
        expiry = ", ".join(
            f"({lit(sub)}, {lit(latest_start_expired(rule, ctx.today, sub))}::date)"
            for sub in ctx.subdivisions
        )
        enforceable = (
            ""
            if rule.provisionally_enforceable is None
            else f"AND m.provisionally_enforceable = {lit(rule.provisionally_enforceable)}"
        )
        parts.append(
            LATE_START_SQL.format(
                text=lit(f"{rule.label} : premier contact attendu sous {rule.amount} jours"),
                legal=lit(rule.legal_reference),
                extends=lit(rule.extends_to_working_day),
                amount=int(rule.amount),
                expiry=expiry,
                zone=lit(ctx.zone),
                types=", ".join(str(int(t)) for t in types),
                enforceable=enforceable,
            )
        )
    return parts


def _contact_overdue_parts(ctx, lit) -> list[str]:
    from datetime import timedelta

    from cases.choices import Intensity

    intervals = []
    for intensity in Intensity:
        days = ctx.policy.contact_interval(intensity)
        text = f"Dernier contact il y a plus de {days} jours (suivi {intensity.label.lower()})"
        since = ctx.local_midnight(ctx.today - timedelta(days=days))
        intervals.append(
            f"({lit(intensity.value)}, {int(days)}, {lit(text)}, {lit(since)}::timestamptz)"
        )
    return [
        CONTACT_OVERDUE_SQL.format(
            zone=lit(ctx.zone), intervals=", ".join(intervals), today=f"{lit(ctx.today)}::date"
        )
    ]


def _no_next_appointment_parts(ctx, lit) -> list[str]:
    return [NO_NEXT_APPOINTMENT_SQL.format(zone=lit(ctx.zone), now=f"{lit(ctx.now)}::timestamptz")]


ALERT_FLOORS = {
    "late_start": _late_start_parts,
    "contact_overdue": _contact_overdue_parts,
    "no_next_appointment": _no_next_appointment_parts,
}


def _literal(value) -> str:
    """A value as an SQL literal (the bench's own values), so the statement printed in
    BENCHMARKS.md is the one executed."""
    from django.db import connection

    with connection.cursor() as cur:
        return cur.mogrify("%s", [value]).decode()


def alert_floor_sql(alert_type: str, now) -> str:
    from cases.alerts.rules import contexts

    parts = [p for ctx in contexts(now) for p in ALERT_FLOORS[alert_type](ctx, _literal)]
    return ALERT_WRITE_SQL.replace("{findings}", "\n    UNION ALL".join(parts)).replace(
        "{table}", SCRATCH_ALERTS
    )


def alert_floor_prepare(alert_type: str | None) -> None:
    """The scratch alert table: empty (first run), or the type's open alerts (rerun)."""
    from django.db import connection

    from measures.deadlines import _calendar

    with connection.cursor() as cur:
        _scratch_copy(cur, "cases_alert", SCRATCH_ALERTS)
        if alert_type:
            cur.execute(
                f"INSERT INTO {SCRATCH_ALERTS} SELECT * FROM cases_alert "  # noqa: S608
                "WHERE alert_type = %s AND closed_at IS NULL",
                [alert_type],
            )
        cur.execute(f"ANALYZE {SCRATCH_ALERTS}")
        cur.execute(f"SELECT to_regclass('pg_temp.{SCRATCH_HOLIDAYS}')")
        if cur.fetchone()[0] is None:
            # The public holidays are reference data, as the job's `holidays` package is.
            cur.execute(f"CREATE TEMP TABLE {SCRATCH_HOLIDAYS} (subdivision text, day date)")
            cur.execute("SELECT DISTINCT holiday_subdivision FROM spip_service")
            rows = [
                (sub, day)
                for (sub,) in cur.fetchall()
                for year in range(date.today().year - 3, date.today().year + 2)
                for day in _calendar(sub, year)
            ]
            cur.executemany(f"INSERT INTO {SCRATCH_HOLIDAYS} VALUES (%s, %s)", rows)  # noqa: S608
            cur.execute(f"CREATE INDEX ON {SCRATCH_HOLIDAYS} (subdivision, day)")
            cur.execute(f"ANALYZE {SCRATCH_HOLIDAYS}")


def alert_floor(alert_type: str, severity: str, sql: str, now) -> tuple[int, int]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(WITHOUT_JIT)
        cur.execute(sql, {"type": alert_type, "severity": severity, "now": now})
        opened, closed = cur.fetchone()
    return opened, closed


def alert_floor_check(alert_type: str) -> int:
    """Assert that the floor opened the alerts the job holds open: same subjects, cases,
    agents, due dates, wording. Returns the number compared."""
    from django.db import connection

    query = (
        "SELECT dedup_key, case_id, agent_id, due_on, measure_id, convocation_id, rule, "
        "legal_reference, severity FROM {table} WHERE alert_type = %s AND closed_at IS NULL"
    )
    with connection.cursor() as cur:
        cur.execute(query.format(table="cases_alert"), [alert_type])
        job = set(cur.fetchall())
        cur.execute(query.format(table=SCRATCH_ALERTS), [alert_type])
        floor = set(cur.fetchall())
    assert job == floor, (
        f"{alert_type} floor: {len(job - floor)} alerts only in the job "
        f"(e.g. {sorted(job - floor)[:2]}), {len(floor - job)} only in the floor "
        f"(e.g. {sorted(floor - job)[:2]})"
    )
    return len(job)
