"""Benchmark of the audit table at years of rows (PostgreSQL): before (one plain table, the
same indexes and triggers) and after (partitioned by month, migration 0013).

Loads N generated rows over 24 months and 103 services into both, then measures the
insert cost of a request's audit row (``audit_write``, one transaction each), the journal's
queries (a DSPIP's page, by person, by user, by date) and the purge of one month (DELETE on
the plain table, DROP of the partition). The bench tables and rows are dropped at the end.

Standalone: DATABASE_URL=postgres://…/NAME python scripts/bench_audit.py [--audit-rows N]
runs on NAME_audit_bench (rebuilt); ``scripts/bench.py`` calls ``audit_benchmark`` on its
own database and appends the lines to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PLAIN = "spip_auditentry_bench_plain"
MONTHS = 24
WRITES = 1_000


def _median(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _load(cursor, rows: int) -> tuple[float, float]:
    """Generated rows, in time order as a journal fills, into the plain table (indexes built
    after the load) and then into the partitioned one; the two load times."""
    cursor.execute("SELECT count(*) FROM auth_user")
    if cursor.fetchone()[0] < 1_000:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) SELECT '!', false, 'audit.bench.' || g, "
            "'', '', '', false, true, now() FROM generate_series(1, 1000) g"
        )
    cursor.execute(f"DROP TABLE IF EXISTS {PLAIN}")
    cursor.execute(f"CREATE TABLE {PLAIN} (LIKE spip_auditentry INCLUDING IDENTITY)")
    cursor.execute("SELECT coalesce(max(id), 0) FROM spip_auditentry")
    offset = cursor.fetchone()[0]
    start = time.perf_counter()
    cursor.execute(
        f"""
        WITH s AS (SELECT array_agg(id ORDER BY id) AS ids FROM spip_service),
             u AS (SELECT array_agg(id ORDER BY id) AS ids FROM auth_user)
        INSERT INTO {PLAIN} (id, at, username, role, ip, action, object_type, object_id,
                             object_repr, changes, user_id, service_id)
        SELECT %(offset)s + g,
               now() - make_interval(days => %(days)s + 5)
                     + (g::float / %(rows)s) * make_interval(days => %(days)s),
               'agent.' || (g %% 1000), 'cpip', '10.0.0.1',
               (ARRAY['view', 'list', 'update', 'create'])[1 + g %% 4],
               (ARRAY['cases.case', 'cases.person', 'cases.interview', 'cases.convocation'])
                   [1 + (g / 7) %% 4],
               ((g * 7919) %% 250000)::text, 'Dossier n° ' || ((g * 7919) %% 250000), '{{}}',
               u.ids[1 + (g * 31) %% array_length(u.ids, 1)],
               s.ids[1 + (g * 17) %% array_length(s.ids, 1)]
        FROM generate_series(1::bigint, %(rows)s) g, s, u
        """,  # noqa: S608 - the bench table's name
        {"offset": offset, "rows": rows, "days": MONTHS * 30},
    )
    cursor.execute(f"ALTER TABLE {PLAIN} ADD PRIMARY KEY (id)")
    for columns in ("object_type, object_id", "service_id, at DESC", "user_id, at DESC"):
        cursor.execute(f"CREATE INDEX ON {PLAIN} ({columns})")
    for column in ("at", "service_id", "user_id"):
        cursor.execute(f"CREATE INDEX ON {PLAIN} ({column})")
    for trigger, when in (
        ("spip_audit_protect", "UPDATE OR DELETE"),
        ("spip_audit_stamp", "INSERT"),
    ):
        cursor.execute(
            f"CREATE TRIGGER {trigger} BEFORE {when} ON {PLAIN} "
            f"FOR EACH ROW EXECUTE FUNCTION {trigger}()"
        )
    plain_load = time.perf_counter() - start
    start = time.perf_counter()
    cursor.execute(
        "SELECT spip_audit_partition_create(month::date) FROM generate_series("
        "date_trunc('month', now() - make_interval(days => %s + 5)), now(), "
        "interval '1 month') month",
        [MONTHS * 30],
    )
    cursor.execute(f"INSERT INTO spip_auditentry SELECT * FROM {PLAIN}")  # noqa: S608
    partitioned_load = time.perf_counter() - start
    for table in (PLAIN, "spip_auditentry"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
        )
    return plain_load, partitioned_load


def _journal(service_id: int, user_id: int, object_id: str):
    """The journal's queries: (what, queryset, paginated as the DSPIP's page is)."""
    from datetime import timedelta

    from django.utils import timezone

    from spip.models import AuditEntry

    entries = AuditEntry.objects.order_by("-at", "-id")
    day = timezone.now() - timedelta(days=200)
    return [
        (
            "a DSPIP's journal page (count + latest 50 of the largest service)",
            entries.filter(service_id=service_id),
            True,
        ),
        (
            "a person's rows (latest 50)",
            entries.filter(object_type="cases.person", object_id=object_id)[:50],
            False,
        ),
        ("a user's rows (latest 50)", entries.filter(user_id=user_id)[:50], False),
        (
            "one day, 200 days ago (latest 50)",
            entries.filter(at__gte=day, at__lt=day + timedelta(days=1))[:50],
            False,
        ),
    ]


def _plan(cursor, queryset) -> str:
    """The plan's shape: index or sequential scans (a sequential scan of an empty partition,
    a month ahead, reads nothing), and how many partitions it reads."""
    sql, params = queryset.query.sql_with_params()
    cursor.execute(f"EXPLAIN {sql}", params)
    plan = "\n".join(line for (line,) in cursor.fetchall())
    seq = re.findall(r"Seq Scan on (\w+)", plan)
    cursor.execute("SELECT count(*) FROM pg_class WHERE relname = ANY(%s) AND reltuples > 0", [seq])
    full = cursor.fetchone()[0]
    scans = f"{full} seq scan(s)" if full else "index scans"
    touched = len(re.findall(r" on spip_auditentry_(?:2|default)", plan))
    return f"{scans}, {touched} partitions" if touched else scans


@contextmanager
def _as_the_journal(table: str):
    """The application's own code (``audit_write``, the journal's querysets) run against
    ``table``: it takes the audit table's name for the time of the measures."""
    from django.db import connection

    if table == "spip_auditentry":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE spip_auditentry RENAME TO spip_auditentry_bench_parked")
        cursor.execute(f"ALTER TABLE {table} RENAME TO spip_auditentry")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE spip_auditentry RENAME TO {table}")
            cursor.execute("ALTER TABLE spip_auditentry_bench_parked RENAME TO spip_auditentry")


def audit_benchmark(rows: int) -> list[str]:
    """Markdown lines: the audit table before and after partitioning, at ``rows`` rows."""
    from django.core.paginator import Paginator
    from django.db import connection, transaction
    from django.utils import timezone

    from spip.audit import audit_write
    from spip.audit_partitions import audit_partitions, audit_partitions_drop_expired

    with connection.cursor() as cursor:
        plain_load, partitioned_load = _load(cursor, rows)
        cursor.execute(f"VACUUM ANALYZE {PLAIN}")  # as autovacuum would after a bulk load
        cursor.execute("VACUUM ANALYZE spip_auditentry")
        cursor.execute(
            f"SELECT service_id, count(*) FROM {PLAIN} GROUP BY 1 ORDER BY 2 DESC LIMIT 1"  # noqa: S608
        )
        service_id, service_rows = cursor.fetchone()
        cursor.execute(f"SELECT user_id, object_id FROM {PLAIN} ORDER BY id DESC LIMIT 1")  # noqa: S608
        user_id, object_id = cursor.fetchone()

    results: dict[str, dict[str, str]] = {}
    for label, table in (("before", PLAIN), ("after", "spip_auditentry")):
        column = results.setdefault(label, {})
        with _as_the_journal(table):
            start = time.perf_counter()
            for i in range(WRITES):
                audit_write(actor=None, action="view", object_type="bench", object_id=i)
            column["insert"] = f"{(time.perf_counter() - start) / WRITES * 1000:.2f} ms"
            for name, query, paginated in _journal(service_id, user_id, object_id):
                if paginated:
                    seconds = _median(
                        lambda q=query: list(Paginator(q, 50).get_page(1).object_list)
                    )
                    query = query[:50]
                else:
                    seconds = _median(lambda q=query: list(q.all()))
                with transaction.atomic(), connection.cursor() as cursor:
                    shape = _plan(cursor, query)
                column[name] = f"{seconds * 1000:.1f} ms ({shape})"

    oldest, lower, upper = audit_partitions()[0]
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(f"DELETE FROM {PLAIN} WHERE at < %s", [upper])  # noqa: S608
        deleted = cursor.rowcount
        results["before"]["purge"] = (
            f"{time.perf_counter() - start:.2f} s (DELETE {deleted:,} rows)"
        )
    start = time.perf_counter()
    dropped = audit_partitions_drop_expired(cutoff=upper)
    results["after"]["purge"] = (
        f"{time.perf_counter() - start:.2f} s (DROP {oldest}, {dropped:,} rows)"
    )

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {PLAIN}")
        cursor.execute("TRUNCATE spip_auditentry")  # the owner's: no row trigger fires
        # The months generated in the past; this month and the next ones stay.
        for name, _lower, partition_upper in audit_partitions():
            if partition_upper <= timezone.now():
                cursor.execute(f"DROP TABLE {connection.ops.quote_name(name)}")

    lines = [
        "",
        "## Audit table: plain vs partitioned by month",
        "",
        f"{rows:,} generated rows over {MONTHS} months and 103 services (the largest service: "
        f"{service_rows:,} rows); loaded in {plain_load:.0f} s (plain, indexes built after) and "
        f"{partitioned_load:.0f} s (partitioned, through the triggers). Journal timings: median "
        "of 5 (ORM queryset, evaluated), with the plan's shape; insert: "
        f"{WRITES:,} `audit_write` calls, one transaction each.",
        "",
        "| measure | before (one table) | after (partitioned) |",
        "|---|---|---|",
        f"| insert cost per request (one audit row) | {results['before']['insert']} | "
        f"{results['after']['insert']} |",
    ]
    lines += [
        f"| {name} | {results['before'][name]} | {results['after'][name]} |"
        for name, _query, _paginated in _journal(service_id, user_id, object_id)
    ]
    lines.append(
        f"| purge of the oldest month | {results['before']['purge']} | {results['after']['purge']} |"
    )
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audit-rows", type=int, default=20_000_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("The audit benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    import psycopg2

    base, name = url.rsplit("/", 1)
    bench = f"{name.split('?')[0]}_audit_bench"
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{bench}"')
        cur.execute(f'CREATE DATABASE "{bench}"')
    conn.close()
    os.environ["DATABASE_URL"] = f"{base}/{bench}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spip.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    print(f"Loading {args.audit_rows:,} audit rows…", flush=True)
    print("\n".join(audit_benchmark(args.audit_rows)))


if __name__ == "__main__":
    main()
