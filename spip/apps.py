from django.apps import AppConfig


class SpipConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "spip"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from spip import signals  # noqa: F401  (connects the sign-in audit receivers)
        from spip.db_roles import after_migrate

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="spip_runtime_role")
