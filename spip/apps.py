from django.apps import AppConfig


class SpipConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "spip"
    verbose_name = "Organisation"
