from django.apps import AppConfig


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = "Personnes et dossiers"

    def ready(self) -> None:
        from partners.tig import tig_absence_recorded  # app loading: models are ready only now

        tig_absence_recorded.connect(_tig_absence_alert, dispatch_uid="cases.tig_absence")


def _tig_absence_alert(sender, **kwargs) -> None:
    """An unexcused TIG absence reaches the CPIP's alerts at once, not at the next run."""
    from cases.alerts.services import alerts_refresh  # app loading: imported once apps are ready
    from cases.choices import AlertType  # idem

    alerts_refresh(types=[AlertType.TIG_ABSENCE])
