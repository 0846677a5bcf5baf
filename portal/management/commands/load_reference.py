from django.core.management.base import BaseCommand

from portal.reference.load import reference_load


class Command(BaseCommand):
    help = "Charge les données de référence (services, catalogues, délais, politique de charge). Idempotent."

    def handle(self, *args, **options):
        counts = reference_load()
        if counts:
            self.stdout.write(
                f"Données de référence : {counts['created']} créées, {counts['updated']} mises à jour."
            )
        else:
            self.stdout.write("Données de référence : déjà à jour.")
