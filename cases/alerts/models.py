"""Alerts: what needs someone's attention on a case, opened and closed by the alert job."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.agenda.models import Convocation
from cases.choices import (
    AlertSeverity,
    AlertType,
)
from cases.files.models import Case
from spip import access


class AlertQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.case_activity_q)

    def counted_for(self, user):
        return self.filter(access.statistics_q(user, "case__"))

    def by_urgency(self):
        """Critical first, then warnings, then information; earliest due date first."""
        rank = models.Case(
            models.When(severity=AlertSeverity.CRITICAL, then=models.Value(0)),
            models.When(severity=AlertSeverity.WARNING, then=models.Value(1)),
            default=models.Value(2),
        )
        return self.annotate(urgency=rank).order_by(
            "urgency", F("due_on").asc(nulls_last=True), "id"
        )


class Alert(models.Model):
    """Raised and closed by the alert jobs. One open alert per type per subject."""

    alert_type = models.CharField(_("type"), max_length=40, choices=AlertType.choices)
    severity = models.CharField(_("gravité"), max_length=8, choices=AlertSeverity.choices)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("dossier")
    )
    agent = models.ForeignKey(
        "spip.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    rule = models.CharField(_("règle"), max_length=255)
    legal_reference = models.CharField(_("référence"), max_length=120, blank=True)
    dedup_key = models.CharField(max_length=120, verbose_name=_("clé de dédoublonnage"))
    opened_at = models.DateTimeField(_("ouverte le"))
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    measure = models.ForeignKey(
        "measures.Measure",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mesure"),
    )
    convocation = models.ForeignKey(
        Convocation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    snoozed_until = models.DateField(_("reportée au"), null=True, blank=True)
    snooze_reason = models.CharField(_("motif du report"), max_length=255, blank=True)
    # The referent has left or is inactive: the alert waits on the head of antenna's desk.
    without_referent = models.BooleanField(_("sans référent"), default=False)

    # What a rule's finding fills in (the alert job inserts them, the API shows them).
    FINDING_FIELDS = (
        "alert_type",
        "severity",
        "case",
        "agent",
        "rule",
        "legal_reference",
        "due_on",
        "measure",
        "convocation",
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alerte")
        verbose_name_plural = _("alertes")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert_type", "dedup_key"],
                condition=Q(closed_at__isnull=True),
                name="alert_one_open_per_type_and_subject",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="alert_closed_after_opened",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "closed_at"]),
            models.Index(fields=["case", "closed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_alert_type_display()} — dossier {self.case_id}"
