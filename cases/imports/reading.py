"""Reading a caseload export: the declared format (``caseload_schema.json``), the file's
encoding, separator and header, and each cell typed or refused with a reason in French.

Nothing here reads the database: what a row means for the application (its service, its
measure type, its referent) is ``planning``'s business.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).with_name("caseload_schema.json")
# The largest export a service has is a few tens of thousands of lines: 50 MB is well
# above, and keeps a mistaken upload (a database dump, a video) out.
MAX_BYTES = 50 * 1024 * 1024

DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
DATETIME = re.compile(r"^(\d{2})/(\d{2})/(\d{4})[ T](\d{2}):(\d{2})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Dates of a caseload: births of the last century, decisions and appointments of ours.
PLAUSIBLE_YEARS = (1900, 2100)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool
    description: str
    max_length: int | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    encoding: str
    delimiter: str
    list_separator: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@cache
def schema() -> Schema:
    raw = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Schema(
        name=raw["name"],
        description=raw["description"],
        encoding=raw["encoding"],
        delimiter=raw["delimiter"],
        list_separator=raw["list_separator"],
        columns=tuple(
            Column(
                name=c["name"],
                type=c["type"],
                required=c["required"],
                description=c["description"],
                max_length=c.get("max_length"),
                values=tuple(c.get("values", ())),
            )
            for c in raw["columns"]
        ),
    )


@dataclass(frozen=True)
class RowError:
    """One line of the error report. ``line`` counts the header as line 1, as a
    spreadsheet shows it; 0 is the file as a whole."""

    line: int
    column: str
    value: str
    reason: str


@dataclass
class Row:
    """One line of the file: its cells as read (``raw``), typed (``values``), its errors."""

    line: int
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)

    def refuse(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, self.raw.get(column, ""), reason))


@dataclass
class ReadFile:
    rows: list[Row]
    errors: list[RowError]  # the file's own errors: encoding, separator, header


def read(data: bytes) -> ReadFile:
    """The file's rows, each typed (``Row.values``) or with its errors; or, when the file
    itself cannot be read as the format says, no row and the reason."""
    s = schema()
    if len(data) > MAX_BYTES:
        return _refused(_("Le fichier dépasse 50 Mo : découpez l'export par antenne."))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        return _refused(
            _(
                "Ce fichier est un classeur (Excel, Calc), pas un CSV : dans le tableur, "
                "« Enregistrer sous » au format « CSV UTF-8 » (séparateur point-virgule)."
            )
        )
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"%PDF", b"GIF8")) or b"\x00" in data[:4096]:
        return _refused(_("Ce fichier n'est pas un fichier texte CSV (une image, un PDF ?)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return _refused(
            _(
                "Le fichier n'est pas encodé en UTF-8 (octet illisible à la position "
                "%(position)s) : enregistrez-le au format « CSV UTF-8 » puis recommencez."
            )
            % {"position": error.start}
        )
    # Old spreadsheet programs end lines with CR alone: one line ending for the reader.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        return _refused(_("Ce fichier n'est pas un fichier texte CSV."))
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return _refused(_("Le fichier est vide."))
    header_line = lines[0]
    if s.delimiter not in header_line:
        found = next((d for d in (",", "\t", "|") if d in header_line), None)
        reason = (
            _(
                "Le séparateur des colonnes est « %(found)s » : le format attendu est le "
                "point-virgule (« ; »)."
            )
            % {"found": "tabulation" if found == "\t" else found}
            if found
            else _("La première ligne ne contient pas les noms des colonnes séparés par « ; ».")
        )
        return _refused(reason)
    reader = csv.reader(io.StringIO(text), delimiter=s.delimiter)
    try:
        return _rows(reader, s)
    except csv.Error as error:
        logger.info("caseload import: unreadable CSV: %s", error)
        return _refused(
            _(
                "Le fichier n'est pas un CSV lisible à partir de la ligne %(line)s (une cellule "
                "de plus de 100 000 caractères ou des guillemets mal fermés)."
            )
            % {"line": reader.line_num}
        )


def _rows(reader, s: Schema) -> ReadFile:
    header = [h.strip().lower() for h in next(reader)]
    errors = []
    missing = [c.name for c in s.columns if c.required and c.name not in header]
    for name in missing:
        errors.append(RowError(1, name, "", _("Colonne obligatoire absente de l'en-tête.")))
    doubled = sorted({h for h in header if h and header.count(h) > 1})
    for name in doubled:
        errors.append(RowError(1, name, "", _("Colonne présente deux fois dans l'en-tête.")))
    if errors:
        return ReadFile([], errors)
    rows = []
    for cells in reader:
        number = reader.line_num  # the line a spreadsheet shows, quoted line breaks counted
        if not any(c.strip() for c in cells):
            continue
        row = Row(line=number, values={})
        if len(cells) != len(header):
            row.errors.append(
                RowError(
                    number,
                    "",
                    "",
                    _(
                        "%(found)s cellules au lieu de %(expected)s : vérifiez les « ; » de la ligne."
                    )
                    % {"found": len(cells), "expected": len(header)},
                )
            )
            rows.append(row)
            continue
        row.raw = {h: c.strip() for h, c in zip(header, cells, strict=True) if h in s.names}
        for column in s.columns:
            _typed(row, column, row.raw.get(column.name, ""))
        rows.append(row)
    if not rows:
        return _refused(_("Le fichier ne contient aucune ligne après l'en-tête."))
    return ReadFile(rows, [])


def _refused(reason: str) -> ReadFile:
    return ReadFile([], [RowError(0, "", "", reason)])


def _typed(row: Row, column: Column, raw: str) -> None:
    """Put ``raw`` into ``row.values`` as its column's type, or refuse it."""
    name = column.name
    if not raw:
        if column.required:
            row.errors.append(RowError(row.line, name, "", _("Valeur obligatoire manquante.")))
        row.values[name] = [] if column.type == "list" else None
        return
    if column.max_length and len(raw) > column.max_length:
        row.errors.append(
            RowError(
                row.line,
                name,
                raw,
                _("Trop long : %(max)s caractères au plus.") % {"max": column.max_length},
            )
        )
        return
    try:
        row.values[name] = PARSERS[column.type](raw, column)
    except ValueError as error:
        row.errors.append(RowError(row.line, name, raw, str(error)))


def _date(raw: str, column: Column) -> date:
    match = DATE.match(raw)
    if not match:
        if ISO_DATE.match(raw):
            raise ValueError(
                _("Date au format AAAA-MM-JJ : le format attendu est JJ/MM/AAAA (ex. 31/01/2024).")
            )
        raise ValueError(_("Date illisible : le format attendu est JJ/MM/AAAA."))
    day, month, year = (int(g) for g in match.groups())
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueError(_("Cette date n'existe pas.")) from None
    if not PLAUSIBLE_YEARS[0] <= year <= PLAUSIBLE_YEARS[1]:
        raise ValueError(_("Date invraisemblable : vérifiez l'année."))
    return value


def _datetime(raw: str, column: Column) -> datetime:
    match = DATETIME.match(raw)
    if not match:
        raise ValueError(_("Date et heure illisibles : le format attendu est JJ/MM/AAAA HH:MM."))
    day, month, year, hour, minute = (int(g) for g in match.groups())
    try:
        value = datetime(year, month, day, hour, minute)  # noqa: DTZ001 - the service's local time
    except ValueError:
        raise ValueError(_("Cette date ou cette heure n'existe pas.")) from None
    if not PLAUSIBLE_YEARS[0] <= year <= PLAUSIBLE_YEARS[1]:
        raise ValueError(_("Date invraisemblable : vérifiez l'année."))
    return value


def _choice(raw: str, column: Column) -> str:
    value = raw.upper() if column.values and column.values[0].isupper() else raw.lower()
    if value not in column.values:
        raise ValueError(
            _("Valeur inconnue : valeurs admises %(values)s.")
            % {"values": ", ".join(column.values)}
        )
    return value


def _integer(raw: str, column: Column) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", raw):
        raise ValueError(_("Nombre entier attendu."))
    return int(raw)


def _boolean(raw: str, column: Column) -> bool:
    value = raw.lower()
    if value in ("oui", "o", "1", "vrai"):
        return True
    if value in ("non", "n", "0", "faux"):
        return False
    raise ValueError(_("« oui » ou « non » attendu."))


def _postal_code(raw: str, column: Column) -> str:
    if not re.fullmatch(r"\d{5}|\d[AB]\d{3}", raw):
        raise ValueError(_("Code postal à 5 chiffres attendu."))
    return raw


def _email(raw: str, column: Column) -> str:
    try:
        validate_email(raw)
    except ValidationError:
        raise ValueError(_("Adresse électronique invalide.")) from None
    return raw


def _list(raw: str, column: Column) -> list[str]:
    """The codes of the cell, each once (upper case: codes are)."""
    codes = [p.strip().upper() for p in raw.split(schema().list_separator) if p.strip()]
    return list(dict.fromkeys(codes))


def _text(raw: str, column: Column) -> str:
    return raw


def _identifier(raw: str, column: Column) -> str:
    """A number given by another application: compared and kept in upper case."""
    return raw.upper()


PARSERS = {
    "text": _text,
    "identifier": _identifier,
    "date": _date,
    "datetime": _datetime,
    "choice": _choice,
    "integer": _integer,
    "boolean": _boolean,
    "postal_code": _postal_code,
    "email": _email,
    "list": _list,
}
