"""Importing a caseload from the national application's export (cases/imports).

The sample (tests/data/caseload_sample.csv, written by scripts/make_import_sample.py) holds
230 fictitious persons of service 69 in 288 clean rows (58 persons with two measures,
58 TIG measures without obligations, 230 others with two obligations each, 46 files
without a referent, the 184 others with their last interview, 58 next appointments
between 7 and 26 December 2026), then 8 rows with one defect each (lines 290 to 297). The expected numbers below are counted from
that construction, by hand."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from cases.imports import services
from cases.imports.models import CaseloadImport, ImportStatus
from cases.models import Case, Convocation, Interview, Notification, Person
from measures.models import ImposedObligation, Measure
from spip.choices import AuditAction, Role
from spip.models import AuditEntry, Service
from tests.factories import AgentFactory, AntennaFactory, CourtFactory, UserFactory

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "caseload_sample.csv"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def site(reference, settings, tmp_path):
    """Service 69 as the sample names it: two antennas, two courts, its two CPIPs."""
    settings.MEDIA_ROOT = tmp_path
    lyon = Service.objects.get(code="69")
    marseille = Service.objects.get(code="13")
    antenna = AntennaFactory(service=lyon, name="Antenne de Lyon")
    AntennaFactory(service=lyon, name="Antenne de Villefranche-sur-Saône")
    AntennaFactory(service=marseille, name="Antenne de Marseille")
    CourtFactory(name="Tribunal judiciaire de Lyon", services=[lyon])
    CourtFactory(name="Tribunal judiciaire de Villefranche-sur-Saône", services=[lyon])

    def agent(username, role, first="", last="", **kw):
        user = UserFactory(username=username, first_name=first, last_name=last)
        return AgentFactory(user=user, role=role, **kw)

    return {
        "service": lyon,
        "other": marseille,
        "cpip": agent("martin", Role.CPIP, "Camille", "Martin", antenna=antenna),
        "cpip2": agent("bernard", Role.CPIP, "Julien", "Bernard", antenna=antenna),
        "dspip": agent("dspip", Role.DSPIP, service=lyon).user,
        "dspip_other": agent("dspip13", Role.DSPIP, service=marseille).user,
        "admin": agent("admin", Role.ADMIN).user,
        "cpip_user": agent("cpip_user", Role.CPIP, antenna=antenna).user,
    }


def _upload(site, data: bytes, actor=None, service=None) -> CaseloadImport:
    return services.import_upload(
        actor=actor or site["dspip"],
        service=service or site["service"],
        name="export.csv",
        data=data,
    )


def _check(site, data: bytes, **kw) -> CaseloadImport:
    record = _upload(site, data, **kw)
    return services.import_check(record, actor=record.created_by)


def _import(site, data: bytes) -> CaseloadImport:
    return services.import_now(_upload(site, data), actor=site["dspip"])


def _sample_rows() -> tuple[list[str], list[dict]]:
    with SAMPLE.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _written() -> dict[str, int]:
    return {
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "measures": Measure.objects.count(),
        "convocations": Convocation.objects.count(),
        "imported": AuditEntry.objects.filter(action=AuditAction.IMPORT).count(),
    }


# --- The sample -------------------------------------------------------------------------


def test_the_dry_run_of_the_sample_counts_each_outcome_and_writes_nothing(site):
    before = _written()
    record = _check(site, SAMPLE.read_bytes())
    assert record.status == ImportStatus.CHECKED
    assert record.rows_total == 296
    assert record.dry_run == {"new": 288, "updated": 0, "matched": 0, "rejected": 8}
    assert _written() == before
    assert [(line, column) for line, column, _value, _reason in record.errors] == [
        (290, "code_mesure"),
        (291, "date_jugement"),
        (292, "referent"),
        (293, "service"),
        (294, "lieu_naissance"),
        (295, "nom_naissance"),
        (296, "heures_tig"),
        (297, "code_mesure"),
    ]
    reasons = {line: (value, reason) for line, _c, value, reason in record.errors}
    assert reasons[290] == ("XYZ", "Code de mesure inconnu (voir le référentiel des mesures).")
    assert reasons[291][0] == "2024-03-15"
    assert "le format attendu est JJ/MM/AAAA" in reasons[291][1]
    assert reasons[292][0] == "DUPONT Inconnu"
    assert reasons[293][1].startswith("Ligne du service 13")
    assert "ligne 2" in reasons[294][1]
    assert reasons[295][1] == "Valeur obligatoire manquante."
    assert reasons[296][1] == "Le nombre d'heures doit être compris entre 20 et 400."
    assert reasons[297][1] == "Même mesure, même date de jugement qu'à la ligne 3."


def test_the_sample_imports_with_the_expected_counts_all_audited(
    site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record = _import(site, SAMPLE.read_bytes())
    assert record.status == ImportStatus.DONE
    assert Person.objects.count() == 230
    cases = Case.objects.filter(service=site["service"])
    assert cases.count() == 230
    assert cases.filter(status="awaiting", referent__isnull=True).count() == 46
    assert cases.filter(status="active", referent=site["cpip"]).count() == 92
    assert cases.filter(status="active", referent=site["cpip2"]).count() == 92
    assert Measure.objects.count() == 288
    assert Measure.objects.filter(measure_type__code="TIG", tig_hours=140).count() == 58
    # "SME" after 24 March 2020 is the probation sentence (SP): the legacy code maps.
    assert not Measure.objects.filter(measure_type__code="SME").exists()
    assert ImposedObligation.objects.count() == 460
    booked = Convocation.objects.filter(status="booked", issued_from="spip")
    assert booked.count() == 58
    # Their reminders are queued (the person already knows the appointment).
    assert Notification.objects.filter(event="reminder").count() == 58
    assert not Notification.objects.filter(event="booked").exists()
    # The last interview of each file with a referent, held by that referent.
    interviews = Interview.objects.filter(attendance="present")
    assert interviews.count() == 184
    assert not interviews.exclude(agent__in=[site["cpip"], site["cpip2"]]).exists()
    # One "import" audit row per object created: persons, files, measures, appointments,
    # interviews.
    imported = AuditEntry.objects.filter(action=AuditAction.IMPORT)
    assert imported.count() == 230 + 230 + 288 + 58 + 184
    assert set(imported.values_list("service_id", flat=True)) == {site["service"].pk}
    assert set(imported.values_list("username", flat=True)) == {"dspip"}
    rec = services.reconciliation(record)
    assert rec["rows_in_file"] == 296
    assert rec["rows"] == {"new": 288, "updated": 0, "matched": 0, "rejected": 8}
    assert [(r["created"], r["updated"], r["matched"]) for r in rec["table"]] == [
        (230, 0, 0),
        (230, 0, 0),
        (288, 0, 0),
        (58, 0, 0),
        (184, 0, 0),
    ]
    assert rec["obligations_created"] == 460
    # The export holds a whole caseload: it is not kept once imported.
    assert not record.file.storage.exists(record.file.name)


def test_importing_the_same_file_again_changes_nothing(site):
    _import(site, SAMPLE.read_bytes())
    written = _written()
    again = _check(site, SAMPLE.read_bytes())
    assert again.dry_run == {"new": 0, "updated": 0, "matched": 288, "rejected": 8}
    with pytest.raises(ValidationError, match="rien à importer"):
        services.import_confirm(actor=site["dspip"], record=again)
    assert _written() == written


def test_a_newer_export_updates_what_changed_and_never_duplicates_a_person(site):
    _import(site, SAMPLE.read_bytes())
    header, rows = _sample_rows()
    rows = rows[:288]
    for row in rows[5:7]:  # the fifth person (two rows, a national number) moved
        row["adresse"] = "3 place Bellecour"
    rows[2]["date_fin"] = "01/12/2024"  # the second person's TIG ended
    rows[2]["motif_fin"] = "completed"
    rows[3]["referent"] = "BERNARD Julien"  # the third person changes hands
    rows[7]["obligations"] += "|S-SOINS"  # the sixth person's measure, one more obligation
    rows.append(
        {
            **rows[4],
            "code_mesure": "LC",
            "date_jugement": "01/06/2026",
            "date_debut": "01/07/2026",
            "date_fin_prevue": "01/07/2027",
            "obligations": "",
            "prochain_rdv": "",
        }
    )  # a new measure for the 4th
    record = _check(site, _csv(header, rows))
    assert record.dry_run == {"new": 1, "updated": 4, "matched": 284, "rejected": 0}
    services.import_confirm(actor=site["dspip"], record=record)
    record = services.import_run(record, actor=site["dspip"])
    assert Person.objects.count() == 230
    assert Case.objects.count() == 230
    assert Measure.objects.count() == 289
    moved = Person.objects.filter(address="3 place Bellecour")
    assert moved.count() == 1
    ended = Measure.objects.get(case__person__national_number=rows[2]["numero_national"])
    assert (ended.actual_end_date.isoformat(), ended.end_reason) == ("2024-12-01", "completed")
    handed = Case.objects.get(person__national_number=rows[3]["numero_national"])
    assert handed.referent == site["cpip2"]
    rec = services.reconciliation(record)
    assert [(r["created"], r["updated"], r["matched"]) for r in rec["table"]] == [
        (0, 1, 229),
        (0, 1, 229),
        (1, 2, 286),
        (0, 0, 58),  # the appointments and last interviews of the first import, found
        (0, 0, 184),
    ]
    assert rec["obligations_created"] == 1
    added = Measure.objects.get(case__person__national_number=rows[7]["numero_national"])
    assert sorted(added.obligations.values_list("obligation_type__code", flat=True)) == [
        "G-RESIDENCE",
        "S-SOINS",
        "S-VICTIME",
    ]
    updates = AuditEntry.objects.filter(action=AuditAction.IMPORT, changes__import=record.pk)
    # One person, one file, two measures changed; one measure created.
    assert updates.count() == 5


# --- Bad input ------------------------------------------------------------------------


def test_a_file_in_another_encoding_is_refused_with_the_reason(site):
    text = SAMPLE.read_text(encoding="utf-8")
    record = _check(site, text.encode("cp1252", errors="replace"))
    assert record.dry_run["rejected"] == 0 and record.rows_total == 0
    assert len(record.errors) == 1
    line, column, _value, reason = record.errors[0]
    assert (line, column) == (0, "")
    assert "n'est pas encodé en UTF-8" in reason


def test_a_file_with_another_separator_is_refused_with_the_reason(site):
    header, rows = _sample_rows()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=",")
    writer.writeheader()
    writer.writerows(rows[:3])
    record = _check(site, out.getvalue().encode())
    assert [e[3] for e in record.errors] == [
        "Le séparateur des colonnes est « , » : le format attendu est le point-virgule (« ; »)."
    ]


def test_missing_columns_are_each_reported_and_nothing_is_read(site):
    header, rows = _sample_rows()
    header = [h for h in header if h not in ("sexe", "code_mesure")]
    trimmed = [{k: v for k, v in r.items() if k in header} for r in rows[:5]]
    record = _check(site, _csv(header, trimmed))
    assert [(e[0], e[1], e[3]) for e in record.errors] == [
        (1, "sexe", "Colonne obligatoire absente de l'en-tête."),
        (1, "code_mesure", "Colonne obligatoire absente de l'en-tête."),
    ]
    assert record.dry_run == {"new": 0, "updated": 0, "matched": 0, "rejected": 0}


def test_a_file_of_another_service_is_refused_in_one_line_and_cannot_be_confirmed(site):
    header, rows = _sample_rows()
    rows = [{**r, "service": "13"} for r in rows[:10]]
    record = _check(site, _csv(header, rows))
    assert record.dry_run == {"new": 0, "updated": 0, "matched": 0, "rejected": 0}
    assert record.errors == [
        [
            0,
            "service",
            "13",
            "Aucune ligne de ce fichier n'est du service 69 (il est du service 13) : "
            "vérifiez le service choisi ou le fichier.",
        ]
    ]
    with pytest.raises(ValidationError):
        services.import_confirm(actor=site["dspip"], record=record)
    assert Person.objects.count() == 0


def test_a_person_twice_with_different_data_is_refused_on_the_second_line(site):
    header, rows = _sample_rows()
    first = rows[5]
    twin = {**first, "numero_national": "", "date_naissance": "02/02/1980", "code_mesure": "LC"}
    record = _check(
        site,
        _csv(
            header,
            [
                first,
                {**first, "sexe": "F" if first["sexe"] == "M" else "M", "code_mesure": "LC"},
                twin,
            ],
        ),
    )
    assert [(e[0], e[1]) for e in record.errors] == [(3, "sexe")]
    # Another birth date is another person (names alike, different persons exist).
    assert record.dry_run == {"new": 2, "updated": 0, "matched": 0, "rejected": 1}


def test_a_failed_batch_is_rolled_back_whole_reported_and_the_others_go_on(site, monkeypatch):
    monkeypatch.setattr(services, "BATCH_PERSONS", 100)
    real = ImposedObligation.objects.bulk_create
    calls = {"n": 0}

    def failing(objs, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise IntegrityError("simulated constraint violation")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(ImposedObligation.objects, "bulk_create", failing)
    record = _import(site, SAMPLE.read_bytes())
    assert record.status == ImportStatus.FAILED
    # Persons 1-100 and 201-230 written; the second batch (persons 101-200), nothing.
    assert Person.objects.count() == 130
    assert Case.objects.count() == 130
    [failure] = record.result["failed"]
    assert (failure["batch"], failure["rows"]) == (1, 125)
    # Each line of the failed batch is in the report, saying why.
    failed = [e for e in record.errors if "rejeté en entier" in e[3]]
    assert len(failed) == 125
    assert "Lot 2 rejeté en entier (125 lignes, rien n'en a été écrit)" in failed[0][3]
    monkeypatch.setattr(ImposedObligation.objects, "bulk_create", real)
    # Importing the file again brings the missing batch, and only it.
    again = _check(site, SAMPLE.read_bytes())
    assert again.dry_run == {"new": 125, "updated": 0, "matched": 163, "rejected": 8}


def test_a_task_run_again_skips_the_batches_already_done(site, monkeypatch):
    monkeypatch.setattr(services, "BATCH_PERSONS", 100)
    record = _upload(site, SAMPLE.read_bytes())
    services.import_check(record, actor=site["dspip"])
    record = services.import_confirm(actor=site["dspip"], record=record)
    services.import_run(record, actor=site["dspip"])
    written = _written()
    # A redelivery after the end (acks_late): every batch is recorded as done.
    CaseloadImport.objects.filter(pk=record.pk).update(status=ImportStatus.RUNNING)
    record.refresh_from_db()
    services.import_run(record, actor=site["dspip"])
    assert _written() == written


# --- Who may import ---------------------------------------------------------------------


def test_only_the_services_director_or_an_administrator_imports(site, client_for):
    assert client_for(site["cpip_user"]).get("/dossiers/imports/").status_code == 403
    with pytest.raises(Exception, match="réservé"):
        _upload(site, b"x", actor=site["dspip_other"])
    record = _check(site, SAMPLE.read_bytes())
    other = client_for(site["dspip_other"])
    assert other.get(f"/dossiers/imports/{record.pk}/").status_code == 404
    assert other.get(f"/dossiers/imports/{record.pk}/erreurs.csv").status_code == 404
    assert other.post(f"/dossiers/imports/{record.pk}/confirmer/").status_code == 404
    assert client_for(site["admin"]).get(f"/dossiers/imports/{record.pk}/").status_code == 200


def test_the_pages_take_a_director_from_upload_to_reconciliation(
    site, client_for, django_capture_on_commit_callbacks
):
    from spip.celery import app

    app.conf.task_always_eager = True
    try:
        client = client_for(site["dspip"])
        page = client.get("/dossiers/imports/").content.decode()
        assert "numero_national" in page and "Télécharger un fichier d'exemple" in page
        with SAMPLE.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
            response = client.post("/dossiers/imports/", {"file": handle})
        record = CaseloadImport.objects.get()
        assert response["Location"] == f"/dossiers/imports/{record.pk}/"
        page = client.get(response["Location"]).content.decode()
        assert 'data-outcome="new">288<' in page and 'data-outcome="rejected">8<' in page
        report = client.get(f"/dossiers/imports/{record.pk}/erreurs.csv")
        lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
        assert lines[0] == "ligne;colonne;valeur;motif"
        assert (
            lines[1]
            == "290;code_mesure;XYZ;Code de mesure inconnu (voir le référentiel des mesures)."
        )
        assert len(lines) == 9
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/dossiers/imports/{record.pk}/confirmer/")
        record.refresh_from_db()
        assert record.status == ImportStatus.DONE
        page = client.get(f"/dossiers/imports/{record.pk}/").content.decode()
        assert 'data-testid="reconciliation"' in page
        assert "Le fichier comptait 296 ligne(s)" in page
    finally:
        app.conf.task_always_eager = False


def test_an_upload_that_is_not_a_csv_is_refused_by_the_form(site, client_for):
    client = client_for(site["dspip"])
    upload = io.BytesIO(b"\x89PNG....")
    upload.name = "photo.png"
    page = client.post("/dossiers/imports/", {"file": upload}).content.decode()
    assert "Déposez le fichier CSV de l&#x27;export (.csv)." in page
    assert not CaseloadImport.objects.exists()


def test_a_file_the_csv_reader_cannot_read_is_one_line_of_the_report(site):
    header, rows = _sample_rows()
    rows[0]["adresse"] = "x" * 200_000  # above the CSV reader's cell limit
    record = _check(site, _csv(header, rows[:3]))
    [(line, column, _value, reason)] = record.errors
    assert (line, column) == (0, "")
    assert reason.startswith("Le fichier n'est pas un CSV lisible")


def test_a_dry_run_that_crashes_ends_as_failed_instead_of_waiting_forever(site, monkeypatch):
    from cases import tasks

    record = _upload(site, SAMPLE.read_bytes())

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "import_check", crash)
    with pytest.raises(RuntimeError):
        tasks.caseload_import_check(import_id=record.pk, user_id=site["dspip"].pk)
    record.refresh_from_db()
    assert record.status == ImportStatus.FAILED
    assert "erreur inattendue" in record.errors[0][3]


def test_a_national_number_held_by_a_merged_record_finds_the_kept_person(site):
    header, rows = _sample_rows()
    row = rows[2]  # SPL0000002, one measure
    kept = Person.objects.create(
        birth_name=row["nom_naissance"],
        first_names=row["prenoms"],
        sex=row["sexe"],
        birth_date=datetime.strptime(row["date_naissance"], "%d/%m/%Y").date(),
    )
    Person.objects.create(
        birth_name=row["nom_naissance"],
        first_names=row["prenoms"],
        sex=row["sexe"],
        birth_date=kept.birth_date,
        national_number=row["numero_national"],
        merged_into=kept,
    )
    record = _import(site, _csv(header, [row]))
    assert record.status == ImportStatus.DONE
    assert Person.objects.count() == 2
    assert Case.objects.get().person == kept


def test_the_command_line_runs_a_dry_run_and_an_import(site, tmp_path):
    from django.core.management import call_command

    out = io.StringIO()
    report = tmp_path / "erreurs.csv"
    call_command(
        "import_caseload",
        str(SAMPLE),
        "--service",
        "69",
        "--user",
        "dspip",
        "--dry-run",
        "--errors",
        str(report),
        stdout=out,
    )
    assert "288 nouvelles, 0 mises à jour, 0 retrouvées, 8 rejetées ; 8 erreur(s)" in out.getvalue()
    assert len(report.read_text(encoding="utf-8-sig").splitlines()) == 9
    assert Person.objects.count() == 0
    assert CaseloadImport.objects.get().status == ImportStatus.ABANDONED
    out = io.StringIO()
    call_command("import_caseload", str(SAMPLE), "--service", "69", "--user", "dspip", stdout=out)
    assert "Personnes : 230 créé(e)s" in out.getvalue()
    assert Person.objects.count() == 230


# --- What a second look found -----------------------------------------------------------


def _one(rows, **changes) -> dict:
    return {**rows[2], **changes}  # SPL0000002: one TIG, a referent, a last interview


def test_a_national_number_in_lower_case_is_the_same_number_on_the_next_import(site):
    header, rows = _sample_rows()
    data = _csv(header, [_one(rows, numero_national="spl0000002")])
    _import(site, data)
    assert Person.objects.get().national_number == "SPL0000002"
    assert _check(site, data).dry_run == {"new": 0, "updated": 0, "matched": 1, "rejected": 0}


def test_the_same_obligation_twice_in_a_cell_is_imposed_once(site):
    header, rows = _sample_rows()
    row = {**rows[3], "obligations": "G-CONVOC|g-convoc|S-SOINS"}
    _import(site, _csv(header, [row]))
    assert ImposedObligation.objects.count() == 2


def test_an_update_the_stored_measure_cannot_take_is_a_line_of_the_dry_run(site):
    header, rows = _sample_rows()
    _import(site, _csv(header, [_one(rows)]))
    Measure.objects.update(tig_hours_done=100)
    later = [
        _one(rows, date_debut="", date_fin="01/01/2023", motif_fin="completed"),
    ]
    record = _check(site, _csv(header, later))
    assert record.dry_run == {"new": 0, "updated": 0, "matched": 0, "rejected": 1}
    assert [(e[1], e[3]) for e in record.errors] == [
        ("date_fin", "La fin effective doit suivre le début enregistré.")
    ]
    fewer = _check(site, _csv(header, [_one(rows, heures_tig="80")]))
    assert [e[1] for e in fewer.errors] == ["heures_tig"]
    assert "100 heures de TIG sont déjà effectuées" in fewer.errors[0][3]


def test_a_person_found_by_names_and_birth_date_only_is_linked_never_rewritten(site):
    header, rows = _sample_rows()
    row = _one(rows, numero_national="")
    elsewhere = Person.objects.create(
        birth_name=row["nom_naissance"],
        first_names=row["prenoms"],
        sex=row["sexe"],
        birth_date=datetime.strptime(row["date_naissance"], "%d/%m/%Y").date(),
        address="1 rue de Marseille",
        phone="0491000000",
    )
    _import(site, _csv(header, [row]))
    elsewhere.refresh_from_db()
    assert (elsewhere.address, elsewhere.phone) == ("1 rue de Marseille", "0491000000")
    assert Case.objects.get().person == elsewhere


def test_a_national_number_held_by_someone_else_is_refused_without_telling_about_them(site):
    header, rows = _sample_rows()
    Person.objects.create(
        birth_name="AUTRE",
        first_names="Personne",
        sex="F",
        birth_date=datetime(1981, 2, 3).date(),
        national_number="SPL0000002",
    )
    record = _check(site, _csv(header, [_one(rows)]))
    [(_line, column, _value, reason)] = record.errors
    assert column == "numero_national"
    assert "1981" not in reason and "03/02" not in reason


def test_an_appointment_the_cpip_cancelled_is_not_booked_again_by_the_same_export(site):
    header, rows = _sample_rows()
    data = _csv(header, [_one(rows, prochain_rdv="10/12/2026 10:30")])
    _import(site, data)
    Convocation.objects.update(status="cancelled", outcome_recorded_at=NOW)
    assert _check(site, data).dry_run["matched"] == 1


def test_a_referent_of_another_antenna_than_the_one_named_is_refused(site):
    header, rows = _sample_rows()
    row = _one(rows, antenne="Antenne de Villefranche-sur-Saône")  # the CPIP is in Lyon
    record = _check(site, _csv(header, [row]))
    assert [e[1] for e in record.errors] == ["referent"]


def test_the_last_interview_is_the_files_first_contact_and_is_not_imported_twice(site):
    header, rows = _sample_rows()
    data = _csv(header, [_one(rows)])
    _import(site, data)
    interview = Interview.objects.get()
    assert interview.agent == site["cpip2"]
    assert Measure.objects.get().first_contact_on == interview.held_at.date()
    assert _check(site, data).dry_run["matched"] == 1


def test_a_workbook_or_an_image_named_csv_is_told_for_what_it_is(site):
    record = _check(site, b"PK\x03\x04" + b"\x00" * 100)
    assert record.errors[0][3].startswith("Ce fichier est un classeur (Excel, Calc), pas un CSV")
    record = _check(site, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert record.errors[0][3].startswith("Ce fichier n'est pas un fichier texte CSV")


def test_a_reimport_finds_the_appointments_and_interviews_it_brought(site):
    header, rows = _sample_rows()
    data = _csv(header, [_one(rows, prochain_rdv="10/12/2026 10:30")])
    _import(site, data)
    again = _upload(site, data)
    services.import_check(again, actor=site["dspip"])
    # Nothing new: the reconciliation of a confirmed re-import would find them all.
    run = services._Run(again, actor=site["dspip"])
    _rows, groups, _errors = services._rows_and_groups(again, run)
    [plan] = run.plan(groups)
    assert plan.interview_found and plan.measures[0].appointment_found


def test_a_file_with_old_mac_line_endings_reads_like_any_other(site):
    record = _check(site, SAMPLE.read_bytes().replace(b"\n", b"\r"))
    assert record.dry_run == {"new": 288, "updated": 0, "matched": 0, "rejected": 8}


def test_reports_are_erased_after_a_month_and_a_lost_import_ends_as_failed(site):
    record = _import(site, SAMPLE.read_bytes())
    assert len(record.errors) == 8
    stuck = _upload(site, b"x")
    CaseloadImport.objects.filter(pk=stuck.pk).update(status=ImportStatus.RUNNING)
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        services.imports_purge()
    record.refresh_from_db()
    stuck.refresh_from_db()
    assert (record.errors, record.result["errors_erased"]) == ([], 8)
    assert stuck.status == ImportStatus.FAILED


def _newer(rows: list[dict], n: int, when: str):
    """The first ``n`` rows of persons with a national number followed by Camille Martin get
    Julien Bernard, a new address and an appointment at ``when``; the others are unchanged."""
    changed = []
    once = Counter(row["numero_national"] for row in rows)
    for row in rows:
        number = row["numero_national"]
        if len(changed) < n and once[number] == 1 and row["referent"] == "MARTIN Camille":
            row = {
                **row,
                "referent": "BERNARD Julien",
                "adresse": "3 place Bellecour",
                "prochain_rdv": when,
            }
            changed.append(row["numero_national"])
        yield row


def test_a_newer_export_is_written_in_the_same_queries_whatever_it_changes(site):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    header, rows = _sample_rows()
    rows = rows[:288]
    _import(site, _csv(header, rows))
    counts = []
    for n, when in ((2, "15/12/2026 14:00"), (12, "16/12/2026 14:00")):
        record = _check(site, _csv(header, list(_newer(rows, n, when))))
        assert record.dry_run["new"] == n
        services.import_confirm(actor=site["dspip"], record=record)
        with CaptureQueriesContext(connection) as queries:
            services.import_run(record, actor=site["dspip"])
        counts.append(len(queries))
    # One batch: its reads and writes, not a query per changed row.
    assert counts[0] == counts[1]


def test_the_command_line_says_in_french_what_it_cannot_find(site, tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Aucun compte actif « personne »"):
        call_command("import_caseload", str(SAMPLE), "--service", "69", "--user", "personne")
    with pytest.raises(CommandError, match="Aucun service de code « 00 »"):
        call_command("import_caseload", str(SAMPLE), "--service", "00", "--user", "dspip")
    with pytest.raises(CommandError, match="Fichier illisible"):
        call_command(
            "import_caseload", str(tmp_path / "absent.csv"), "--service", "69", "--user", "dspip"
        )
    with pytest.raises(CommandError, match="réservé au directeur"):
        call_command("import_caseload", str(SAMPLE), "--service", "69", "--user", "cpip_user")
