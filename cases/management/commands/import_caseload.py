"""manage.py import_caseload FILE --service 69 --user demo.dspip [--dry-run] [--errors report.csv]"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from cases.imports import services
from spip.csvfile import csv_lines
from spip.models import Service


class Command(BaseCommand):
    help = (
        "Importe le portefeuille d'un service depuis l'export de l'application nationale "
        "(format : cases/imports/caseload_schema.json). Simulation d'abord ; avec --dry-run, "
        "rien n'est écrit."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--service", required=True, help="code du service (69, 2A, 974)")
        parser.add_argument(
            "--user", required=True, help="identifiant du directeur ou de l'administrateur"
        )
        parser.add_argument("--dry-run", action="store_true", help="simulation seulement")
        parser.add_argument("--errors", type=Path, help="écrire le rapport d'erreurs (CSV) ici")

    def handle(self, *args, **options):
        actor = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if actor is None:
            raise CommandError(f"Aucun compte actif « {options['user']} ».")
        service = Service.objects.filter(code=options["service"]).first()
        if service is None:
            raise CommandError(f"Aucun service de code « {options['service']} ».")
        try:
            data = options["file"].read_bytes()
        except OSError as error:
            raise CommandError(
                f"Fichier illisible : {options['file']} ({error.strerror})."
            ) from error
        try:
            record = services.import_upload(
                actor=actor, service=service, name=options["file"].name, data=data
            )
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        record = services.import_check(record, actor=actor)
        dry = record.dry_run
        self.stdout.write(
            f"Simulation : {record.rows_total} lignes — {dry['new']} nouvelles, "
            f"{dry['updated']} mises à jour, {dry['matched']} retrouvées, "
            f"{dry['rejected']} rejetées ; {len(record.errors)} erreur(s)."
        )
        if options["errors"]:
            options["errors"].write_text(
                "".join(csv_lines(["ligne", "colonne", "valeur", "motif"], record.errors)),
                encoding="utf-8",
            )
        if options["dry_run"]:
            services.import_abandon(actor=actor, record=record)
            return
        try:
            services.import_confirm(actor=actor, record=record)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        record = services.import_run(
            record,
            actor=actor,
            progress=lambda done: self.stdout.write(f"  {done}/{record.rows_total} lignes"),
        )
        rec = services.reconciliation(record)
        for line in rec["table"]:
            self.stdout.write(
                f"{line['label']} : {line['created']} créé(e)s, {line['updated']} mis(es) à "
                f"jour, {line['matched']} retrouvé(e)s"
            )
        if rec["failed"]:
            raise CommandError(f"{len(rec['failed'])} lot(s) rejeté(s) : voir le rapport.")
        self.stdout.write(self.style.SUCCESS(f"Import {record.pk} terminé."))
