"""Delete the audit rows past the retention period, and create the audit table's partitions
ahead (PostgreSQL: the months past the retention go as whole partitions).

Run it as the database owner, the role that ran the migrations (the application's runtime
role may only INSERT and SELECT the audit table):

    DATABASE_URL="$DATABASE_OWNER_URL" python manage.py purge_audit
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from spip.audit_partitions import audit_partitions_ensure
from spip.services import audit_purge_expired


class Command(BaseCommand):
    help = (
        "Supprime les entrées du journal plus anciennes que la durée de conservation "
        "et crée à l'avance les partitions des mois à venir."
    )

    def handle(self, *args, **options):
        try:
            created = audit_partitions_ensure()
            deleted = audit_purge_expired()
        except DatabaseError as exc:
            raise CommandError(
                "Purge refusée par la base : lancez cette commande avec le rôle propriétaire "
                f"(DATABASE_OWNER_URL). Détail : {exc}"
            ) from exc
        if created:
            self.stdout.write(f"{created} partition(s) mensuelle(s) du journal créée(s).")
        self.stdout.write(f"{deleted} entrée(s) du journal supprimée(s).")
