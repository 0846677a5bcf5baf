from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SpipConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "spip"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from spip import (
            labels,
            signals,  # noqa: F401  (connects the sign-in audit receivers)
        )
        from spip.db_roles import after_migrate  # app loading: models are ready only now

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="spip_runtime_role")
        labels.install()
