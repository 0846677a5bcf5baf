"""A caseload import: the uploaded export, its dry run, its progress and its outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from spip import access


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Vérification en cours")
    CHECKED = "checked", _("Vérifié, en attente de confirmation")
    RUNNING = "running", _("Import en cours")
    DONE = "done", _("Importé")
    FAILED = "failed", _("Échec")
    ABANDONED = "abandoned", _("Abandonné")


class CaseloadImportQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.caseload_import_q)


class CaseloadImport(models.Model):
    """One export file imported into one service. The file stays in storage until the
    import ends (or is abandoned); the dry run's counts, the row errors and the
    reconciliation stay with the row."""

    service = models.ForeignKey(
        "spip.Service", on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    file = models.FileField(_("fichier"), upload_to="imports/%Y/%m/", max_length=255)
    filename = models.CharField(_("nom du fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte"), max_length=64)
    status = models.CharField(
        _("état"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.CHECKING
    )
    rows_total = models.PositiveIntegerField(_("lignes"), default=0)
    rows_done = models.PositiveIntegerField(_("lignes traitées"), default=0)
    # The dry run's outcome per row ({"new": n, "matched": n, "updated": n, "rejected": n})
    # and, once imported, what was written (persons, cases, measures… created, matched,
    # updated), the batches done, the batches that failed.
    dry_run = models.JSONField(_("simulation"), default=dict, blank=True)
    result = models.JSONField(_("résultat"), default=dict, blank=True)
    errors = models.JSONField(_("erreurs"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("importé par"),
    )
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    objects = CaseloadImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("import de portefeuille")
        verbose_name_plural = _("imports de portefeuille")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.filename} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0
