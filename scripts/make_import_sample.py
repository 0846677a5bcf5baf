"""Write tests/data/caseload_sample.csv: an anonymised (entirely fictitious) export of a
service's caseload in the import format (cases/imports/caseload_schema.json).

Deterministic (fixed seeds): the file is committed and the tests' expected counts are
written by hand from what this script builds:
- 230 persons of service 69; every 4th has two measures (58 persons, 288 clean rows)
  ... see COUNTS below, printed when the script runs.
- then 8 rows, each with one defect the import must report.

Run: .venv/bin/python scripts/make_import_sample.py
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "cases/imports/caseload_schema.json").read_text(encoding="utf-8"))
OUT = ROOT / "tests/data/caseload_sample.csv"
PERSONS = 230
REFERENTS = ["MARTIN Camille", "BERNARD Julien"]
ANTENNAS = ["Antenne de Lyon", "Antenne de Villefranche-sur-Saône"]
COURTS = ["Tribunal judiciaire de Lyon", "Tribunal judiciaire de Villefranche-sur-Saône"]
COMMUNES = [("Lyon", "69003"), ("Villeurbanne", "69100"), ("Bron", "69500"), ("Tarare", "69170")]
OBLIGATIONS = ["G-CONVOC|S-SOINS", "G-CONVOC|S-TRAVAIL", "G-RESIDENCE|S-VICTIME"]


def d(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def clean_rows(persons: int = PERSONS, seed: int = 2026) -> tuple[list[dict], dict]:
    """``persons`` fictitious persons of service 69, one row per measure, no defect."""
    rng = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rows: list[dict] = []
    seen = set()
    counts = {"persons": 0, "rows": 0, "appointments": 0, "awaiting": 0, "measures": 0}
    counts["interviews"] = sum(1 for index in range(persons) if index % 5)
    for index in range(persons):
        while True:
            sex = rng.choice("FM")
            first = fake.first_name_female() if sex == "F" else fake.first_name_male()
            last = fake.last_name()
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
            if (last, first, born) not in seen:
                seen.add((last, first, born))
                break
        commune, postal = rng.choice(COMMUNES)
        person = {
            "service": "69",
            "numero_national": f"SPL{index + 1:07d}" if index % 3 else "",
            "nom_naissance": last.upper(),
            "nom_usage": "",
            "prenoms": first,
            "sexe": sex,
            "date_naissance": d(born),
            "lieu_naissance": fake.city(),
            "adresse": f"{rng.randint(1, 120)} rue {fake.last_name()}",
            "code_postal": postal,
            "commune": commune,
            "telephone": f"06{rng.randrange(10**8):08d}",
            "courriel": "",
            "antenne": "" if index % 5 else rng.choice(ANTENNAS),
            "referent": "" if index % 5 == 0 else REFERENTS[index % 2],
            "date_ouverture": "",
            # The last interview, for the files that have a referent to have held it.
            "dernier_entretien": d(date(2026, 9, 1) + timedelta(days=index % 60))
            if index % 5
            else "",
        }
        counts["awaiting"] += index % 5 == 0
        measures = 2 if index % 4 == 0 else 1
        for m in range(measures):
            judged = date(2023, 1, 2) + timedelta(days=rng.randrange(0, 3 * 365 + 200))
            code = ["SP", "TIG", "SME", "DDSE", "LC"][(index + m) % 5]
            row = {
                **person,
                "code_mesure": code,
                "date_jugement": d(judged),
                "juridiction": COURTS[index % 2],
                "reference_jugement": f"P{judged:%y}{rng.randrange(10**6):06d}",
                "execution_provisoire": "non",
                "date_debut": d(judged + timedelta(days=30)),
                "date_fin_prevue": d(judged + timedelta(days=30 + 365 * 2)),
                "date_fin": "",
                "motif_fin": "",
                "heures_tig": "140" if code == "TIG" else "",
                "delai_tig": d(judged + timedelta(days=365)) if code == "TIG" else "",
                "obligations": OBLIGATIONS[index % 3] if code != "TIG" else "",
                "prochain_rdv": "",
            }
            if m == 0 and index % 4 == 0:
                slot = date(2026, 12, 7) + timedelta(days=index % 20)
                row["prochain_rdv"] = f"{d(slot)} {9 + index % 8:02d}:30"
                counts["appointments"] += 1
            rows.append(row)
            counts["measures"] += 1
        counts["persons"] += 1
    counts["rows"] = len(rows)
    return rows, counts


def main() -> None:
    names = [c["name"] for c in SCHEMA["columns"]]
    rows, counts = clean_rows()
    good = rows[1]

    def bad(**changes):
        return {**good, **changes}

    rows += [
        bad(nom_naissance="AUBERT", prenoms="Lina", numero_national="", code_mesure="XYZ"),
        bad(nom_naissance="BLANC", prenoms="Enzo", numero_national="", date_jugement="2024-03-15"),
        bad(nom_naissance="CARON", prenoms="Inès", numero_national="", referent="DUPONT Inconnu"),
        bad(nom_naissance="DENIS", prenoms="Rayan", numero_national="", service="13"),
        bad(lieu_naissance="Une autre ville", code_mesure="SPR", heures_tig="", delai_tig=""),
        bad(nom_naissance="", prenoms="Zoé", numero_national=""),
        bad(
            nom_naissance="FABRE",
            prenoms="Noah",
            numero_national="",
            code_mesure="TIG",
            heures_tig="500",
            delai_tig=d(date(2024, 9, 1)),
            obligations="",
            date_jugement=d(date(2024, 3, 1)),
            date_debut=d(date(2024, 4, 1)),
        ),
        dict(good),  # the same measure again
    ]
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    print(counts, "bad rows: 8, total rows:", len(rows))


if __name__ == "__main__":
    main()
