"""Organisation: interregional units, services (SPIP), antennas, courts, prisons, agents.

Also the audit trail, which every service function writes.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from spip import access
from spip.choices import AntennaKind, Assignment, AuditAction, PrisonKind, Role


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("Fuseau horaire inconnu : %(tz)s"), params={"tz": value})


class InterregionalUnitQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.interregional_q)


class InterregionalUnit(models.Model):
    """A DISP (direction interrégionale) or the overseas mission."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("nom"), max_length=120)

    objects = InterregionalUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("direction interrégionale")
        verbose_name_plural = _("directions interrégionales")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.service_q)


class Service(models.Model):
    """A SPIP: one per département (overseas included)."""

    code = models.CharField(_("code département"), max_length=3, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    department_name = models.CharField(_("département"), max_length=80)
    interregional_unit = models.ForeignKey(
        InterregionalUnit, on_delete=models.PROTECT, related_name="services", verbose_name=_("DISP")
    )
    seat_address = models.CharField(_("adresse du siège"), max_length=255)
    seat_city = models.CharField(_("ville du siège"), max_length=120)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    time_zone = models.CharField(
        _("fuseau horaire"), max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    reminder_days_before = models.PositiveSmallIntegerField(
        _("rappel (jours avant le rendez-vous)"), default=2
    )
    desk_lead_minutes = models.PositiveSmallIntegerField(
        _("délai minimal avant le premier créneau proposé au greffe (minutes)"),
        default=120,
        help_text=_("Le temps de venir de l'audience au SPIP."),
    )
    message_booked = models.TextField(
        _("message à la prise de rendez-vous"),
        default="SPIP : vous êtes convoqué(e) le {date} à {heure}, {lieu}, {adresse}. Tél. {telephone}.",
    )
    message_reminder = models.TextField(
        _("message de rappel"),
        default="Rappel SPIP : rendez-vous le {date} à {heure}, {lieu}, {adresse}.",
    )
    message_cancelled = models.TextField(
        _("message d'annulation"),
        default="SPIP : votre rendez-vous du {date} à {heure} est annulé. Une nouvelle convocation vous sera adressée.",
    )
    holiday_subdivision = models.CharField(
        _("calendrier des jours fériés"),
        max_length=8,
        blank=True,
        help_text=_(
            "Subdivision du calendrier français (57, 6AE, 971…), vide pour le calendrier national."
        ),
    )

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("service (SPIP)")
        verbose_name_plural = _("services (SPIP)")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PrisonQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.service_q)
    path = "service__"


class Prison(models.Model):
    name = models.CharField(_("nom"), max_length=160)
    kind = models.CharField(_("type"), max_length=4, choices=PrisonKind.choices)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="prisons", verbose_name=_("service")
    )
    city = models.CharField(_("commune"), max_length=120)

    objects = PrisonQuerySet.as_manager()

    class Meta:
        verbose_name = _("établissement pénitentiaire")
        verbose_name_plural = _("établissements pénitentiaires")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "name"], name="prison_unique_name_per_service"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AntennaQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.service_q)
    path = "service__"


class Antenna(models.Model):
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="antennas", verbose_name=_("service")
    )
    name = models.CharField(_("nom"), max_length=160)
    kind = models.CharField(_("type"), max_length=5, choices=AntennaKind.choices)
    address = models.CharField(_("adresse"), max_length=255)
    city = models.CharField(_("commune"), max_length=120)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    prisons = models.ManyToManyField(
        Prison, blank=True, related_name="antennas", verbose_name=_("établissements couverts")
    )

    objects = AntennaQuerySet.as_manager()

    class Meta:
        verbose_name = _("antenne")
        verbose_name_plural = _("antennes")
        ordering = ["service__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "name"], name="antenna_unique_name_per_service"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CourtQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.court_q)
    distinct_rows = True


class Court(models.Model):
    """A tribunal judiciaire, with its BEX and its SAP."""

    name = models.CharField(_("nom"), max_length=160, unique=True)
    city = models.CharField(_("commune"), max_length=120)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    phone = models.CharField(
        _("téléphone du service de l'application des peines"), max_length=20, blank=True
    )
    services = models.ManyToManyField(
        Service, related_name="courts", verbose_name=_("services destinataires")
    )

    objects = CourtQuerySet.as_manager()

    class Meta:
        verbose_name = _("tribunal judiciaire")
        verbose_name_plural = _("tribunaux judiciaires")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.agent_q)

    def active(self, on=None) -> AgentQuerySet:

        on = on or timezone.localdate()
        return self.filter(Q(active_from__lte=on), Q(active_to__isnull=True) | Q(active_to__gte=on))


def agent_label(first_name: str, last_name: str, username: str) -> str:
    """How an agent is named on every page: "First Last", or the username without a name
    (also for rows read as values)."""
    return f"{first_name} {last_name}".strip() or username


class Agent(models.Model):
    """The profile of one named user account: role, place in the organisation, working time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="agent",
        verbose_name=_("compte"),
    )
    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices, db_index=True)
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agents",
        verbose_name=_("service"),
    )
    antenna = models.ForeignKey(
        Antenna,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agents",
        verbose_name=_("antenne"),
    )
    interregional_unit = models.ForeignKey(
        InterregionalUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agents",
        verbose_name=_("DISP"),
    )
    court = models.ForeignKey(
        Court,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agents",
        verbose_name=_("tribunal"),
    )
    partner = models.ForeignKey(
        "partners.PartnerBody",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("partenaire"),
    )
    quotite = models.DecimalField(
        _("quotité"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("1.0"))],
    )
    assignment = models.CharField(
        _("affectation"), max_length=4, choices=Assignment.choices, default=Assignment.BOTH
    )
    active_from = models.DateField(_("en poste depuis"))
    active_to = models.DateField(_("en poste jusqu'au"), null=True, blank=True)
    # The number the administration knows the agent by: how a caseload export names
    # the referent when a name is ambiguous.
    registration_number = models.CharField(_("matricule"), max_length=20, blank=True)

    objects = AgentQuerySet.as_manager()

    # The post and working time, as the admin lists them and the API gives them.
    POSTING_FIELDS = (
        "role",
        "service",
        "antenna",
        "quotite",
        "assignment",
        "active_from",
        "active_to",
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quotite__gte=Decimal("0.1")) & Q(quotite__lte=Decimal("1.0")),
                name="agent_quotite_range",
                violation_error_message=_("La quotité doit être comprise entre 0,1 et 1."),
            ),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="agent_active_dates_order",
                violation_error_message=_("La date de fin doit suivre la date de début."),
            ),
            # An antenna belongs to the agent's service: enforced in the service layer
            # (a cross-table rule); here, an antenna always comes with a service.
            models.CheckConstraint(
                condition=Q(antenna__isnull=True) | Q(service__isnull=False),
                name="agent_antenna_needs_service",
            ),
            models.UniqueConstraint(
                fields=["registration_number"],
                condition=~Q(registration_number=""),
                name="agent_registration_number_unique",
                violation_error_message=_("Ce matricule est déjà celui d'un autre agent."),
            ),
        ]
        indexes = [
            models.Index(fields=["service", "role"]),
            models.Index(fields=["antenna", "role"]),
        ]

    def __str__(self) -> str:
        user = self.user
        return agent_label(user.first_name, user.last_name, user.get_username())

    @property
    def display_name(self) -> str:
        return str(self)


class AuditEntryQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.audit_q)

    def update(self, **kwargs):  # noqa: ARG002
        raise PermissionError("Audit entries cannot be changed.")

    def delete(self):
        raise PermissionError("Audit entries cannot be deleted; the retention purge does it.")


class AuditEntry(models.Model):
    """One row per read of a person's file and per write anywhere. Append-only.

    The database refuses UPDATE, and DELETE of rows younger than the retention
    period, through a trigger (see migration 0002_audit_append_only).
    """

    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utilisateur"),
    )
    username = models.CharField(_("identifiant"), max_length=150, blank=True)
    role = models.CharField(_("rôle"), max_length=16, blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(_("type d'objet"), max_length=64)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64, blank=True)
    object_repr = models.CharField(_("objet"), max_length=255, blank=True)
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service concerné"),
    )
    changes = models.JSONField(_("modifications"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("entrée du journal")
        verbose_name_plural = _("journal des accès et modifications")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["service", "-at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["user", "-at"]),
        ]

    def __str__(self) -> str:
        at = timezone.localtime(self.at)
        return (
            f"{at:%d/%m/%Y %H:%M} {self.username} : {self.get_action_display()} "
            f"{self.object_type} n° {self.object_id}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries cannot be deleted.")


class JobStatus(models.TextChoices):
    RUNNING = "running", _("En cours")
    SUCCESS = "success", _("Terminé")
    FAILED = "failed", _("Échec")
    INTERRUPTED = "interrupted", _("Interrompu")


# What the jobs count, as people read it (the keys are the jobs' own).
COUNT_LABELS = {
    "agent": _("agents"),
    "antenna": _("antennes"),
    "service": _("services"),
    "interregional": _("directions interrégionales"),
    "nation": _("nation"),
    "opened": _("alertes ouvertes"),
    "closed": _("alertes closes"),
    "reassigned": _("alertes réattribuées"),
    "sent": _("messages envoyés"),
    "failed": _("échecs"),
    "created": _("créés"),
    "done": _("faits"),
    "total": _("au total"),
    "interrupted": _("interrompus"),
    "unchanged": _("alertes inchangées"),
    "moved": _("alertes réattribuées"),
    "reminded": _("orientations relancées"),
    "retry": _("à réessayer"),
}


# The jobs by the name they run under, as administrators and directors read them.
JOB_LABELS = {
    "alerts_refresh": _("Calcul des alertes"),
    "notifications_send": _("Envoi des messages aux personnes"),
    "slots_generate": _("Création des créneaux"),
    "workload_snapshot_compute": _("Calcul des charges de travail"),
    "national_export": _("Export des indicateurs"),
    "referrals_remind": _("Relance des orientations sans réponse"),
    "transfers_tick": _("Transferts : acceptation d'office et relances"),
    "agents_deactivate_departed": _("Désactivation des comptes des agents partis"),
    "job_runs_sweep": _("Repérage des tâches interrompues"),
    "audit_partitions_ensure": _("Partitions du journal d'audit"),
    "exports_purge": _("Suppression des exports expirés"),
    "retention_apply": _("Conservation : archivage et destruction des dossiers"),
}


class JobRunQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.job_run_q)


class JobRun(models.Model):
    """One run of a Celery job: when, what it did, how it ended. Visible to administrators."""

    name = models.CharField(_("tâche"), max_length=80, choices=list(JOB_LABELS.items()))
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("début"))
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    status = models.CharField(
        _("état"), max_length=12, choices=JobStatus.choices, default=JobStatus.RUNNING
    )
    counts = models.JSONField(_("compteurs"), default=dict, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("demandé par"),
    )
    file = models.CharField(_("fichier produit"), max_length=255, blank=True)

    objects = JobRunQuerySet.as_manager()

    class Meta:
        db_table = "reporting_jobrun"  # created there; the table keeps its name
        verbose_name = _("exécution de tâche")
        verbose_name_plural = _("exécutions de tâches")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["name", "-started_at"])]

    def __str__(self) -> str:
        started = timezone.localtime(self.started_at)
        return f"{self.label} {started:%d/%m/%Y %H:%M} ({self.get_status_display()})"

    @property
    def label(self) -> str:
        return str(JOB_LABELS.get(self.name, self.name))

    @property
    def counts_display(self) -> list[tuple[str, object]]:
        """The run's counters named in French (unknown keys as they are)."""
        return [(str(COUNT_LABELS.get(key, key)), value) for key, value in self.counts.items()]


class CommuneQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.reference_q)


class Commune(models.Model):
    """The commune → competent service table (and antenna, where the service divides its
    territory), loaded from a CSV (``manage.py communes_load``)."""

    insee_code = models.CharField(_("code INSEE"), max_length=5, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    postal_code = models.CharField(_("code postal"), max_length=5, db_index=True)
    search_key = models.CharField(max_length=120, db_index=True, editable=False)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="communes", verbose_name=_("service")
    )
    antenna = models.ForeignKey(
        "Antenna",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communes",
        verbose_name=_("antenne"),
    )

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.postal_code})"
