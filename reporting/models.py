"""Workload policy (effective-dated settings, never constants in code) and reference norms."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.choices import Intensity, RiskLevel


class WorkloadPolicyQuerySet(models.QuerySet):
    def in_force(self, day) -> WorkloadPolicy | None:
        return (
            self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gte=day))
            .order_by("-valid_from")
            .first()
        )

    def visible_to(self, user):
        return self if user is not None and user.is_authenticated else self.none()


class WorkloadPolicy(models.Model):
    """Weights per risk level as a fraction of one full-time agent (APPA: 1/20, 1/50, 1/200)."""

    name = models.CharField(_("nom"), max_length=120)
    valid_from = models.DateField(_("en vigueur à partir du"), unique=True)
    valid_to = models.DateField(_("jusqu'au"), null=True, blank=True)
    weight_high = models.DecimalField(_("poids risque élevé"), max_digits=7, decimal_places=5)
    weight_moderate = models.DecimalField(
        _("poids risque modéré à élevé"), max_digits=7, decimal_places=5
    )
    weight_low = models.DecimalField(_("poids risque faible"), max_digits=7, decimal_places=5)
    weight_not_assessed = models.DecimalField(
        _("poids par défaut (non évalué)"), max_digits=7, decimal_places=5
    )
    interval_reinforced_days = models.PositiveSmallIntegerField(
        _("intervalle de contact, renforcé (jours)")
    )
    interval_standard_days = models.PositiveSmallIntegerField(
        _("intervalle de contact, standard (jours)")
    )
    interval_light_days = models.PositiveSmallIntegerField(
        _("intervalle de contact, allégé (jours)")
    )
    threshold_amber = models.PositiveSmallIntegerField(_("seuil orange (%)"))
    threshold_red = models.PositiveSmallIntegerField(_("seuil rouge (%)"))

    objects = WorkloadPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("politique de charge de travail")
        verbose_name_plural = _("politiques de charge de travail")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="workloadpolicy_validity_order",
            ),
            models.CheckConstraint(
                condition=Q(
                    weight_high__gt=0,
                    weight_moderate__gt=0,
                    weight_low__gt=0,
                    weight_not_assessed__gt=0,
                )
                & Q(
                    weight_high__lte=1,
                    weight_moderate__lte=1,
                    weight_low__lte=1,
                    weight_not_assessed__lte=1,
                ),
                name="workloadpolicy_weights_range",
            ),
            models.CheckConstraint(
                condition=Q(threshold_red__gt=F("threshold_amber")),
                name="workloadpolicy_thresholds_order",
            ),
            models.CheckConstraint(
                condition=Q(interval_reinforced_days__gte=1)
                & Q(interval_standard_days__gte=F("interval_reinforced_days"))
                & Q(interval_light_days__gte=F("interval_standard_days")),
                name="workloadpolicy_intervals_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (depuis le {self.valid_from:%d/%m/%Y})"

    def weight(self, risk_level: str) -> Decimal:
        return {
            RiskLevel.HIGH: self.weight_high,
            RiskLevel.MODERATE: self.weight_moderate,
            RiskLevel.LOW: self.weight_low,
        }.get(risk_level, self.weight_not_assessed)

    def contact_interval(self, intensity: str) -> int:
        return {
            Intensity.REINFORCED: self.interval_reinforced_days,
            Intensity.STANDARD: self.interval_standard_days,
            Intensity.LIGHT: self.interval_light_days,
        }[intensity]


class ReferenceNorm(models.Model):
    """Persons per counsellor quoted in the policy debate (60 European, 82 national 2011…)."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("libellé"), max_length=160)
    persons_per_agent = models.PositiveSmallIntegerField(_("personnes par conseiller"))
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("norme de référence")
        verbose_name_plural = _("normes de référence")
        ordering = ["persons_per_agent"]

    def __str__(self) -> str:
        return f"{self.label} : {self.persons_per_agent}"
