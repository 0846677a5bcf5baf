"""Restore a backup (spip/backup.py) into an empty database and an empty storage.

    python manage.py restore var/backups/20261201-0300

Run it as the database owner on a fresh database (``createdb``), with the roles the
backup names already created (scripts/postgres/01-runtime-role.sh).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from spip.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restaure une sauvegarde dans une base vide et un stockage vide, puis la vérifie."

    def add_arguments(self, parser):
        parser.add_argument("source", help="dossier de la sauvegarde")

    def handle(self, *args, **options):
        try:
            manifest = restore(Path(options["source"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Sauvegarde du {manifest['created_at']} restaurée et vérifiée : "
            f"{len(manifest['tables'])} tables, {rows} lignes, {len(manifest['files'])} fichiers."
        )
