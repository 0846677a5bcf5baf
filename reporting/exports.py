"""CSV and XLSX exports of the dashboards' tables.

Each table is described once (headers + a function from the indicator's output to rows),
so a page, its export and the national export file show the same numbers. CSV streams
row by row; XLSX is written in constant-memory mode to a temporary file, then streamed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

from spip.csvfile import FORMULA_TRIGGERS, cell, csv_lines  # noqa: F401 - the exports' cells

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Table:
    name: str
    headers: tuple
    rows: Callable[[dict], Iterable[Iterable]]


def respond(fmt: str, filename: str, headers, rows) -> StreamingHttpResponse | FileResponse:
    """The export as a download: streamed CSV (French Excel dialect) or XLSX."""
    if fmt == "xlsx":
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse
        write_workbook(handle, [(filename[:31], headers, rows)])
        handle.seek(0)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        csv_lines(headers, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def write_workbook(handle, sheets, progress: Callable[[int], None] | None = None) -> None:
    """Sheets of (name, headers, rows) into one workbook, in constant memory."""
    # Strings are written as strings, never as formulas or numbers, whatever they start with.
    workbook = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "in_memory": False,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    for index, (name, headers, rows) in enumerate(sheets):
        sheet = workbook.add_worksheet(str(name)[:31])
        sheet.write_row(0, 0, [str(h) for h in headers], bold)
        for number, row in enumerate(rows, start=1):
            sheet.write_row(number, 0, [cell(v) for v in row])
        if progress:
            progress(index + 1)
    workbook.close()


# --- The tables --------------------------------------------------------------------------


def _team_rows(data: dict):
    for r in data["rows"]:
        yield (
            r.label,
            r.quotite,
            r.persons,
            r.cases_high,
            r.cases_moderate,
            r.cases_low,
            r.cases_not_assessed,
            r.weighted_load,
            r.capacity,
            r.load_percent,
            r.over_since.isoformat() if r.over_since else "",
            r.alerts_total,
            r.outcomes_missing,
        )


TEAM = Table(
    "equipe",
    (
        _("Agent"),
        _("Quotité"),
        _("Personnes suivies"),
        _("Risque élevé"),
        _("Risque modéré à élevé"),
        _("Risque faible"),
        _("Non évalué"),
        _("Charge pondérée (ETP)"),
        _("Capacité nette (ETP)"),
        _("Charge (%)"),
        _("Au-dessus du seuil depuis"),
        _("Alertes ouvertes"),
        _("Issues non saisies"),
    ),
    _team_rows,
)

_DELAY_HEADERS = (
    _("Mesures"),
    _("Dans le délai"),
    _("Hors délai"),
    _("En attente"),
    _("Part dans le délai (%)"),
    _("Convocation : médiane (j)"),
    _("Convocation : 9e décile (j)"),
    _("Premier contact : médiane (j)"),
    _("Premier contact : 9e décile (j)"),
)


def _delay_cells(f: dict) -> tuple:
    return (
        f["measures"],
        f["within"],
        f["late"],
        f["pending"],
        f["within_share"],
        f["appointment_median"],
        f["appointment_p90"],
        f["contact_median"],
        f["contact_p90"],
    )


DELAYS = Table(
    "delais",
    (_("Niveau"), _("Entité"), *_DELAY_HEADERS),
    lambda data: [
        *((_("Service"), s["label"], *_delay_cells(s)) for s in data["services"]),
        *(
            (_("Antenne"), f"{a['label']} — {a['service']}" if a.get("service") else a["label"])
            + _delay_cells(a)
            for a in data["antennas"]
        ),
        *((_("Mois"), m["month"], *_delay_cells(m)) for m in data["months"]),
    ],
)

_MISSED_HEADERS = (
    _("Convocations passées"),
    _("Honorées"),
    _("Non honorées"),
    _("Excusées"),
    _("Sans issue saisie"),
    _("Taux d'absence (%)"),
    _("Part sans issue (%)"),
)


def _missed_cells(f: dict) -> tuple:
    return (
        f["total"],
        f["honoured"],
        f["missed"],
        f["excused"],
        f["not_recorded"],
        f["missed_rate"],
        f["not_recorded_share"],
    )


MISSED = Table(
    "absences",
    (_("Niveau"), _("Entité"), *_MISSED_HEADERS),
    lambda data: [
        *((_("Service"), s["label"], *_missed_cells(s)) for s in data["services"]),
        *((_("Antenne"), a["label"], *_missed_cells(a)) for a in data["antennas"]),
        *((_("Agent"), a["label"], *_missed_cells(a)) for a in data["agents"]),
        *((_("Type"), k["label"], *_missed_cells(k)) for k in data["kinds"]),
        *(
            (
                _("Rappel"),
                _("avec rappel") if r["reminded"] else _("sans rappel"),
                *_missed_cells(r),
            )
            for r in data["reminders"]
        ),
    ],
)

_OUTCOME_HEADERS = (
    _("Mesures terminées"),
    _("Exécutées"),
    _("Révoquées"),
    _("Nouvelle condamnation"),
    _("Autre fin"),
    _("Exécutées (%)"),
    _("Révoquées (%)"),
    _("Nouvelle condamnation (%)"),
)


def _outcome_cells(f: dict) -> tuple:
    return (
        f["total"],
        f["completed"],
        f["revoked"],
        f["new_conviction"],
        f["other"],
        f["completed_share"],
        f["revoked_share"],
        f["new_conviction_share"],
    )


OUTCOMES = Table(
    "issues",
    (_("Regroupement"), _("Groupe"), *_OUTCOME_HEADERS),
    lambda data: [
        *((_("Type de mesure"), g["label"], *_outcome_cells(g)) for g in data["measure_types"]),
        *((_("Suivi par"), g["label"], *_outcome_cells(g)) for g in data["providers"]),
        *((_("Intensité"), g["label"], *_outcome_cells(g)) for g in data["intensities"]),
        *((_("Risque"), g["label"], *_outcome_cells(g)) for g in data["risk_levels"]),
    ],
)


def _network_rows(data: dict):
    for s in data["services"]:
        d = s["distribution"]
        yield (
            s["code"],
            s["label"],
            s["persons"],
            s["fte"],
            s["persons_per_fte"],
            d["min"],
            d["q1"],
            d["median"],
            d["q3"],
            d["max"],
            s["load_percent"],
            s["awaiting_allocation"],
            s["open_alerts"],
            s["delay_median_days"],
            s["delay_within_share"],
            s["needed_load_fte"],
            s["gap_load_fte"],
            s["needed_norm_fte"],
            s["gap_norm_fte"],
        )


NETWORK = Table(
    "services",
    (
        _("Code"),
        _("Service"),
        _("Personnes suivies"),
        _("ETP de CPIP"),
        _("Personnes par ETP"),
        _("Par CPIP : minimum"),
        _("1er quartile"),
        _("Médiane"),
        _("3e quartile"),
        _("Maximum"),
        _("Charge (%)"),
        _("Arrivées à attribuer"),
        _("Alertes ouvertes"),
        _("Délai médian (j)"),
        _("Dans le délai (%)"),
        _("ETP nécessaires (charge 100 %)"),
        _("Écart (ETP)"),
        _("ETP nécessaires (norme)"),
        _("Écart à la norme (ETP)"),
    ),
    _network_rows,
)


def _continuity_rows(data: dict):
    for s in [{"code": "", "label": str(_("Ensemble")), **data}, *data["services"]]:
        yield (
            s["code"],
            s["label"],
            s["releases"],
            s["releases_booked_before"],
            s["releases_booked_share"],
            s["releases_contact_in_time"],
            s["releases_contact_share"],
            s["transfers_accepted"],
            s["transfers_median_days"],
            s["transfers_d9_days"],
            s["transfers_auto_share"],
        )


CONTINUITY = Table(
    "continuite",
    (
        _("Code"),
        _("Service"),
        _("Sorties de détention"),
        _("Rendez-vous pris avant la sortie"),
        _("Rendez-vous pris avant la sortie (%)"),
        _("Premier contact dans le délai"),
        _("Premier contact dans le délai (%)"),
        _("Transferts acceptés"),
        _("Délai médian d'acceptation (j)"),
        _("9e décile (j)"),
        _("Acceptés d'office (%)"),
    ),
    _continuity_rows,
)


def _staffing_rows(data: dict):
    for s in data["services"]:
        yield (
            s["code"],
            s["label"],
            s["persons"],
            s["fte"],
            s["capacity"],
            s["load_percent"],
            s["needed_load_fte"],
            s["gap_load_fte"],
            s["needed_norm_fte"],
            s["gap_norm_fte"],
        )


STAFFING = Table(
    "effectifs",
    (
        _("Code"),
        _("Service"),
        _("Personnes suivies"),
        _("ETP (quotités)"),
        _("Capacité nette (ETP)"),
        _("Charge (%)"),
        _("ETP nécessaires (charge 100 %)"),
        _("Écart (ETP)"),
        _("ETP nécessaires (norme)"),
        _("Écart à la norme (ETP)"),
    ),
    _staffing_rows,
)


def late_rows(facts) -> Iterator[tuple]:
    """The cases outside the deadline, streamed from the database."""
    for f in facts.iterator(chunk_size=500):
        yield (
            f["id"],
            f["judgment_date"].isoformat(),
            f["measure_type__code"],
            f"{f['case__person__birth_name']} {f['case__person__first_names']}",
            f["case__antenna__name"],
            f["case__referent__user__last_name"] or "",
            f["deadline_days"],
            f["appointment_days"],
            f["contact_days"],
        )


LATE_HEADERS = (
    _("Mesure n°"),
    _("Jugement"),
    _("Type"),
    _("Personne"),
    _("Antenne"),
    _("Référent"),
    _("Délai légal (j)"),
    _("Convocation (j)"),
    _("Premier contact (j)"),
)
