"""Benchmark of the caseload import (PostgreSQL): N rows of fictitious persons for
service 69 (scripts/make_import_sample.py's generator), on a database of its own
(NAME_import_bench, rebuilt): the dry run, the import, then the same file again (a dry
run that finds everything), each timed once, with the rows per second.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/spiplocal \
    .venv/bin/python scripts/bench_import.py [--persons 40000]
(40,000 persons make 50,000 rows: every fourth has two measures.)
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def _database(url: str) -> str:
    """A fresh database next to DATABASE_URL's, whose URL is returned."""
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/") + "_import_bench"
    admin = psycopg2.connect(url.replace(parsed.path, "/postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return url.replace(parsed.path, "/" + name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=40_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database.")
    os.environ["DATABASE_URL"] = _database(url)
    os.environ.setdefault("DJANGO_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spip.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from make_import_sample import SCHEMA, clean_rows

    from cases.imports import services
    from portal.reference.load import reference_load
    from spip.choices import Role
    from spip.models import Service
    from tests.factories import AgentFactory, AntennaFactory, CourtFactory, UserFactory

    call_command("migrate", verbosity=0)
    reference_load()
    lyon = Service.objects.get(code="69")
    antenna = AntennaFactory(service=lyon, name="Antenne de Lyon")
    AntennaFactory(service=lyon, name="Antenne de Villefranche-sur-Saône")
    CourtFactory(name="Tribunal judiciaire de Lyon", services=[lyon])
    CourtFactory(name="Tribunal judiciaire de Villefranche-sur-Saône", services=[lyon])
    for first, last in (("Camille", "Martin"), ("Julien", "Bernard")):
        AgentFactory(
            user=UserFactory(username=last.lower(), first_name=first, last_name=last),
            role=Role.CPIP,
            antenna=antenna,
        )
    director = AgentFactory(user=UserFactory(username="dspip"), role=Role.DSPIP, service=lyon)

    start = time.perf_counter()
    rows, counts = clean_rows(args.persons)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[c["name"] for c in SCHEMA["columns"]], delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    print(
        f"file: {len(rows)} rows, {len(data) / 1e6:.1f} MB, built in {time.perf_counter() - start:.1f} s"
    )

    def timed(label, fn):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        print(f"{label}: {elapsed:.1f} s ({len(rows) / elapsed:.0f} rows/s)")
        return result, elapsed

    actor = director.user
    record = services.import_upload(actor=actor, service=lyon, name="bench.csv", data=data)
    record, check = timed("dry run", lambda: services.import_check(record, actor=actor))
    print("  ", record.dry_run)
    services.import_confirm(actor=actor, record=record)
    record, run = timed("import", lambda: services.import_run(record, actor=actor))
    print("  ", record.result["counts"])
    again = services.import_upload(actor=actor, service=lyon, name="bench.csv", data=data)
    again, recheck = timed(
        "same file again (dry run)", lambda: services.import_check(again, actor=actor)
    )
    print("  ", again.dry_run)
    print(
        f"| {len(rows):,} rows ({counts['persons']:,} persons) | dry run {check:.0f} s | "
        f"import {run:.0f} s | again {recheck:.0f} s | total {check + run:.0f} s |"
    )


if __name__ == "__main__":
    main()
