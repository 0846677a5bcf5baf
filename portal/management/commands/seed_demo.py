from datetime import timedelta
from time import monotonic

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from cases.alerts.services import alerts_refresh
from portal.demo import DEFAULT_PASSWORD, DemoSeeder
from reporting.snapshots import compute


class Command(BaseCommand):
    help = "Crée des données de démonstration et les comptes demo.* (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help="Mot de passe des comptes de démonstration.",
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Taille du portefeuille (1 = environ 750 dossiers en cours).",
        )

    def handle(self, *args, password: str, scale: float, **options):
        call_command("load_reference", stdout=self.stdout)
        result = DemoSeeder(password=password, scale=scale, stdout=self.stdout).run()
        # The nightly jobs, once now, so that the pages have figures and alerts at once.
        # Twelve weeks of weekly snapshots first, for the trends (today's caseload, with the
        # capacity of each past day), then today's.

        started = monotonic()
        self.stdout.write("Charges des douze dernières semaines, alertes, charge du jour…")
        today = timezone.localdate()
        for weeks in range(12, 0, -1):
            compute(day=today - timedelta(weeks=weeks))
        # Alerts before today's snapshot, which counts them by who holds them.
        alerts_refresh()
        compute()
        self.stdout.write(f"  fait en {monotonic() - started:.1f} s".replace(".", ","))
        if result["cases_created"]:
            self.stdout.write(f"Dossiers de démonstration créés : {result['cases_created']}.")
        else:
            self.stdout.write("Dossiers de démonstration : déjà présents.")
        self.stdout.write(f"Comptes de démonstration (mot de passe : {password}) :")
        for username in result["accounts"]:
            self.stdout.write(f"  {username}")
