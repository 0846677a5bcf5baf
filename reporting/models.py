"""Workload snapshots: the nightly figures per agent, antenna, service, region and nation."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.workload.models import WorkloadPolicy
from spip import access

# The counts a snapshot row carries, each a column of the table.
COUNT_FIELDS = (
    "persons",
    "measures",
    "cases_high",
    "cases_moderate",
    "cases_low",
    "cases_not_assessed",
    "cases_mo",
    "cases_mf",
    "awaiting_allocation",
)


class EntityType(models.TextChoices):
    AGENT = "agent", _("Agent")
    ANTENNA = "antenna", _("Antenne")
    SERVICE = "service", _("Service")
    INTERREGIONAL = "interregional", _("Direction interrégionale")
    NATION = "nation", _("National")


class WorkloadSnapshotQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.snapshot_q)

    def counted_for(self, user):
        return self.filter(access.snapshot_statistics_q(user))


class EntityDay(models.Model):
    """What every nightly figure row is keyed by: a day, a level of the organisation and
    the entity at that level (one row each, upserted), its direction, and when it was
    computed."""

    day = models.DateField(_("jour"))
    entity_type = models.CharField(_("niveau"), max_length=14, choices=EntityType.choices)
    entity_id = models.BigIntegerField(_("identifiant"), help_text=_("0 pour le niveau national."))
    interregional_unit = models.ForeignKey(
        "spip.InterregionalUnit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("direction interrégionale"),
    )
    computed_at = models.DateTimeField(_("calculé le"))

    class Meta:
        abstract = True


class WorkloadSnapshot(EntityDay):
    """One row per entity per day, upserted: rerunning the same day changes nothing."""

    label = models.CharField(_("libellé"), max_length=200)
    # Denormalised owners, for scoping and drill-down.
    agent = models.ForeignKey(
        "spip.Agent", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    antenna = models.ForeignKey(
        "spip.Antenna",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("antenne"),
    )
    service = models.ForeignKey(
        "spip.Service", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    policy = models.ForeignKey(
        WorkloadPolicy,
        on_delete=models.PROTECT,
        related_name="snapshots",
        verbose_name=_("politique de charge"),
    )
    persons = models.PositiveIntegerField(_("personnes suivies"), default=0)
    measures = models.PositiveIntegerField(_("mesures"), default=0)
    cases_high = models.PositiveIntegerField(default=0, verbose_name=_("dossiers à risque élevé"))
    cases_moderate = models.PositiveIntegerField(
        default=0, verbose_name=_("dossiers à risque modéré")
    )
    cases_low = models.PositiveIntegerField(default=0, verbose_name=_("dossiers à risque faible"))
    cases_not_assessed = models.PositiveIntegerField(
        default=0, verbose_name=_("dossiers non évalués")
    )
    cases_mo = models.PositiveIntegerField(default=0, verbose_name=_("dossiers en milieu ouvert"))
    cases_mf = models.PositiveIntegerField(default=0, verbose_name=_("dossiers en milieu fermé"))
    # Open cases of the entity that no CPIP in post follows (arrivals to allocate, cases of
    # departed agents): beside the load, never inside it.
    awaiting_allocation = models.PositiveIntegerField(_("dossiers à attribuer"), default=0)
    awaiting_weighted = models.DecimalField(
        _("charge pondérée à attribuer (ETP)"), max_digits=12, decimal_places=5, default=0
    )
    weighted_load = models.DecimalField(
        _("charge pondérée (ETP)"), max_digits=12, decimal_places=5, default=0
    )
    fte = models.DecimalField(_("ETP (quotités)"), max_digits=10, decimal_places=3, default=0)
    capacity = models.DecimalField(
        _("capacité nette (ETP)"), max_digits=10, decimal_places=3, default=0
    )
    load_percent = models.DecimalField(
        _("charge (%)"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    persons_per_fte = models.DecimalField(
        _("personnes par ETP"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    open_alerts = models.PositiveIntegerField(_("alertes ouvertes"), default=0)
    measure_mix = models.JSONField(
        _("mesures en cours par type"), default=dict, blank=True, help_text=_("code → nombre")
    )
    # Delays of the last twelve months (sentence → first SPIP appointment), service rows.
    delay_measures = models.PositiveIntegerField(_("mesures prononcées (12 mois)"), default=0)
    delay_within = models.PositiveIntegerField(_("convoquées dans le délai"), default=0)
    delay_late = models.PositiveIntegerField(_("hors délai"), default=0)
    delay_median_days = models.PositiveIntegerField(
        _("délai médian (jours)"), null=True, blank=True
    )
    delay_p90_days = models.PositiveIntegerField(
        _("délai 9e décile (jours)"), null=True, blank=True
    )

    objects = WorkloadSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("instantané de charge")
        verbose_name_plural = _("instantanés de charge")
        ordering = ["-day", "entity_type", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "entity_type", "entity_id"], name="snapshot_one_per_entity_per_day"
            )
        ]
        indexes = [
            models.Index(fields=["entity_type", "entity_id", "-day"]),
            models.Index(fields=["service", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.day:%d/%m/%Y}"

    @property
    def followed_cases(self) -> int:
        """The open cases the entity's CPIPs follow (those its load weighs)."""
        return self.cases_high + self.cases_moderate + self.cases_low + self.cases_not_assessed

    @property
    def open_cases(self) -> int:
        """Followed cases and those nobody follows yet (arrivals, departed referents)."""
        return self.followed_cases + self.awaiting_allocation


class DelaysSnapshotQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.delays_snapshot_q)


class DelaysSnapshot(EntityDay):
    """The delays page's figures for the last twelve months, as the nightly job computed
    them for the nation and for each interregional direction (the national and regional
    pages read them instead of recomputing 250,000 measures' deadlines on each visit).
    Only figures: measures counted, medians, shares, per service, antenna and month."""

    figures = models.JSONField(_("chiffres"))

    objects = DelaysSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("instantané des délais")
        verbose_name_plural = _("instantanés des délais")
        ordering = ["-day", "entity_type", "entity_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "entity_type", "entity_id"], name="delays_one_per_entity_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_entity_type_display()} {self.entity_id} {self.day:%d/%m/%Y}"
