"""Create the PostgreSQL database of DATABASE_URL if it does not exist yet (``make migrate``
on a new machine); nothing to do on SQLite."""

from django.core.management.base import BaseCommand, CommandError

from spip.backup import BackupError, database_ensure


class Command(BaseCommand):
    help = "Crée la base PostgreSQL de DATABASE_URL si elle n'existe pas encore."
    requires_system_checks: list = []

    def handle(self, *args, **options):
        try:
            database_ensure()
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
