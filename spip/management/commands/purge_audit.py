"""Delete the audit rows past the retention period.

Run it as the database owner, the role that ran the migrations (the application's runtime
role may only INSERT and SELECT the audit table):

    DATABASE_URL="$DATABASE_OWNER_URL" python manage.py purge_audit
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from spip.services import audit_purge_expired


class Command(BaseCommand):
    help = "Supprime les entrées du journal plus anciennes que la durée de conservation."

    def handle(self, *args, **options):
        try:
            deleted = audit_purge_expired()
        except DatabaseError as exc:
            raise CommandError(
                "Purge refusée par la base : lancez cette commande avec le rôle propriétaire "
                f"(DATABASE_OWNER_URL). Détail : {exc}"
            ) from exc
        self.stdout.write(f"{deleted} entrée(s) du journal supprimée(s).")
