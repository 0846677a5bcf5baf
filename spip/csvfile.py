"""CSV as French spreadsheets read it (";", UTF-8 with BOM, decimal comma), with cells that
can never be taken for a formula. Every CSV the application hands out goes through here."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal

from django.utils.functional import Promise


def cell(value):
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if value is None:
        return ""
    return value


class _Echo:
    def write(self, value):
        return value


def csv_lines(headers, rows) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow([str(h) for h in headers])
    for row in rows:
        yield writer.writerow([_csv_cell(v) for v in row])


# A text cell starting with one of these is read as a formula by spreadsheet programs
# (OWASP "CSV injection"): a name typed as "=HYPERLINK(...)" must stay text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value):
    value = cell(value)
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
