"""Load the commune → service table: ``manage.py communes_load communes.csv``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from spip.communes import communes_load


class Command(BaseCommand):
    help = "Charge la table des communes (code INSEE;nom;code postal[;antenne])."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        with path.open(encoding="utf-8-sig") as handle:
            counts = communes_load(handle)
        self.stdout.write(
            f"Communes : {counts['created']} créées, {counts['updated']} mises à jour, "
            f"{counts['refused']} refusées."
        )
