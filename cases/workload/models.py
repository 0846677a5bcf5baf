"""The workload sub-domain's settings: the effective-dated policy (weights per risk level,
thresholds, defaults — never constants in code), the reference norms, capacity reductions
and the alert settings. They weigh the cases they sit beside; reporting only reads them."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.choices import Intensity, RiskLevel
from spip import access


class WorkloadPolicyQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.reference_q)

    def in_force(self, day) -> WorkloadPolicy | None:
        return cast(
            "WorkloadPolicy | None",
            self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gte=day))
            .order_by("-valid_from")
            .first(),
        )


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
        db_table = (
            "reporting_workloadpolicy"  # created by the reporting app; the table keeps its name
        )
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
        weights: dict[str, Decimal] = {
            RiskLevel.HIGH: self.weight_high,
            RiskLevel.MODERATE: self.weight_moderate,
            RiskLevel.LOW: self.weight_low,
        }
        return weights.get(risk_level, self.weight_not_assessed)

    def contact_interval(self, intensity: str) -> int:
        intervals: dict[str, int] = {
            Intensity.REINFORCED: self.interval_reinforced_days,
            Intensity.STANDARD: self.interval_standard_days,
            Intensity.LIGHT: self.interval_light_days,
        }
        return intervals[intensity]


class ReferenceNorm(models.Model):
    """Persons per counsellor quoted in the policy debate (60 European, 82 national 2011…)."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("libellé"), max_length=160)
    persons_per_agent = models.PositiveSmallIntegerField(_("personnes par conseiller"))
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        db_table = (
            "reporting_referencenorm"  # created by the reporting app; the table keeps its name
        )
        verbose_name = _("norme de référence")
        verbose_name_plural = _("normes de référence")
        ordering = ["persons_per_agent"]

    def __str__(self) -> str:
        return f"{self.label} : {self.persons_per_agent}"


class ReductionKind(models.TextChoices):
    TRAINING = "training", _("Formation")
    UNION = "union", _("Décharge syndicale")
    PART_TIME = "part_time", _("Temps partiel thérapeutique ou temporaire")
    SICK_LEAVE = "sick_leave", _("Arrêt maladie")
    ABSENCE = "absence", _("Absence (congés, mission)")
    OTHER = "other", _("Autre")


class CapacityReductionQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.agent_q)
    path = "agent__"

    def active_on(self, day):
        return self.filter(Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day))


class CapacityReduction(models.Model):
    """A share of an agent's time that does not go to the caseload. Expires by itself."""

    agent = models.ForeignKey("spip.Agent", on_delete=models.PROTECT, related_name="reductions")
    kind = models.CharField(_("motif"), max_length=12, choices=ReductionKind.choices)
    percent = models.PositiveSmallIntegerField(_("part du temps (%)"))
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"), null=True, blank=True)
    note = models.CharField(_("précision"), max_length=255, blank=True)

    objects = CapacityReductionQuerySet.as_manager()

    class Meta:
        db_table = (
            "reporting_capacityreduction"  # created by the reporting app; the table keeps its name
        )
        verbose_name = _("réduction de capacité")
        verbose_name_plural = _("réductions de capacité")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=1, percent__lte=100),
                name="reduction_percent_range",
                violation_error_message=_("La réduction est comprise entre 1 et 100 %."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="reduction_dates_order",
                violation_error_message=_("La fin doit suivre le début."),
            ),
        ]
        indexes = [models.Index(fields=["agent", "starts_on", "ends_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.percent} %"


class AlertSettingsQuerySet(models.QuerySet):
    def in_force(self, day) -> AlertSettings | None:
        return cast(
            "AlertSettings | None", self.filter(valid_from__lte=day).order_by("-valid_from").first()
        )


class AlertSettings(models.Model):
    """The delays behind each alert rule (days). Effective-dated like the policy."""

    valid_from = models.DateField(_("en vigueur à partir du"), unique=True)
    no_convocation_days = models.PositiveSmallIntegerField(
        _("mesure sans convocation après (jours)"), default=10
    )
    awaiting_allocation_days = models.PositiveSmallIntegerField(
        _("dossier non attribué après (jours)"), default=8
    )
    missed_reaction_days = models.PositiveSmallIntegerField(
        _("délai de réaction à une absence (jours)"), default=7
    )
    outcome_missing_days = models.PositiveSmallIntegerField(
        _("issue non saisie après (jours)"), default=3
    )
    repeated_breaches_count = models.PositiveSmallIntegerField(
        _("absences répétées : nombre"), default=2
    )
    repeated_breaches_months = models.PositiveSmallIntegerField(
        _("absences répétées : sur (mois)"), default=12
    )
    tig_warning_days = models.PositiveSmallIntegerField(
        _("TIG : alerte avant l'échéance (jours)"), default=90
    )
    assessment_due_days = models.PositiveSmallIntegerField(
        _("évaluation du risque attendue sous (jours)"), default=30
    )
    report_warning_days = models.PositiveSmallIntegerField(
        _("rapport : alerte avant l'échéance (jours)"), default=15
    )
    referral_answer_days = models.PositiveSmallIntegerField(
        _("orientation : relance du partenaire sans réponse après (jours)"), default=10
    )
    convention_expiry_days = models.PositiveSmallIntegerField(
        _("convention : alerte avant l'échéance (jours)"), default=60
    )
    transfer_auto_accept_days = models.PositiveSmallIntegerField(
        _("transfert : accepté sans réponse après (jours)"), default=10
    )
    transfer_reminder_days = models.PositiveSmallIntegerField(
        _("transfert : relance des directeurs tous les (jours)"), default=5
    )
    release_handover_weeks = models.PositiveSmallIntegerField(
        _("sortie : préparation à partir de (semaines avant)"), default=6
    )
    release_warning_days = models.PositiveSmallIntegerField(
        _("sortie : alerte sans rendez-vous pris (jours avant)"), default=15
    )

    objects = AlertSettingsQuerySet.as_manager()

    class Meta:
        db_table = (
            "reporting_alertsettings"  # created by the reporting app; the table keeps its name
        )
        verbose_name = _("paramètres des alertes")
        verbose_name_plural = _("paramètres des alertes")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"Paramètres des alertes du {self.valid_from:%d/%m/%Y}"
