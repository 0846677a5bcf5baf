"""Back up the database and the stored files together (see spip/backup.py).

    python manage.py backup [--output var/backups/20261201-0300]

Run it as the database owner (DATABASE_OWNER_URL), as ``make backup`` does.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from spip.backup import BackupError, backup, default_target


class Command(BaseCommand):
    help = "Sauvegarde la base de données et les fichiers stockés, ensemble, dans un dossier."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="dossier de la sauvegarde (vide ou absent)")

    def handle(self, *args, **options):
        target = Path(options["output"]) if options["output"] else default_target()
        try:
            manifest = backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Sauvegarde écrite dans {target} : {len(manifest['tables'])} tables, "
            f"{rows} lignes, {len(manifest['files'])} fichiers."
        )
