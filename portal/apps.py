from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top layer: what assembles the others — the root URLconf and API router, each
    role's home page, the reference data loader and the demonstration data."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Portail"
