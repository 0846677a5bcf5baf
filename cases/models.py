"""People and their case files: persons, cases, risk and intensity history, agendas and
convocations, interviews, incidents, transfers, alerts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    OPEN_STATUSES,
    AgendaKind,
    AlertSeverity,
    Attendance,
    CaseSetting,
    CaseStatus,
    ConvocationStatus,
    ConvocationType,
    IncidentStatus,
    Intensity,
    InterviewKind,
    IssuedFrom,
    MissedReaction,
    ReportKind,
    ReportStatus,
    RiskLevel,
    Sex,
)
from spip import access


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user) -> PersonQuerySet:
        return self.filter(access.person_q(user))

    def searchable_by(self, user) -> PersonQuerySet:
        """Persons ``user`` may find by the identity search (never list)."""
        return self.filter(access.person_search_q(user))


class Person(models.Model):
    """A PPSMJ (personne placée sous main de justice)."""

    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    usage_name = models.CharField(_("nom d'usage"), max_length=100, blank=True)
    first_names = models.CharField(_("prénoms"), max_length=150)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date de naissance"))
    birth_place = models.CharField(_("lieu de naissance"), max_length=120, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.CharField(_("commune"), max_length=120, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    accepts_messages = models.BooleanField(_("accepte les rappels (SMS, courriel)"), default=True)
    national_number = models.CharField(
        _("n° de dossier national"), max_length=20, unique=True, null=True, blank=True
    )
    # Accent- and case-folded "NAME FIRSTNAMES" for duplicate detection and search.
    search_key = models.CharField(max_length=255, db_index=True, editable=False, default="")
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("personne suivie")
        verbose_name_plural = _("personnes suivies")
        ordering = ["birth_name", "first_names"]
        indexes = [models.Index(fields=["search_key", "birth_date"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        name = self.usage_name or self.birth_name
        return f"{name.upper()} {self.first_names}"


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        return self.filter(access.case_q(user))

    def counted_for(self, user) -> CaseQuerySet:
        """The population of the user's indicators: aggregate it, never list it."""
        return self.filter(access.statistics_q(user))

    def open(self) -> CaseQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Case(models.Model):
    """A person's file within one service. One open file per person per service."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="cases", verbose_name=_("personne")
    )
    service = models.ForeignKey(
        "spip.Service", on_delete=models.PROTECT, related_name="cases", verbose_name=_("service")
    )
    antenna = models.ForeignKey(
        "spip.Antenna", on_delete=models.PROTECT, related_name="cases", verbose_name=_("antenne")
    )
    referent = models.ForeignKey(
        "spip.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("CPIP référent"),
    )
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=CaseStatus.choices,
        default=CaseStatus.AWAITING_ALLOCATION,
    )
    setting = models.CharField(
        _("milieu"), max_length=2, choices=CaseSetting.choices, default=CaseSetting.OPEN
    )
    prison = models.ForeignKey(
        "spip.Prison",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("établissement"),
    )
    # Current values, kept in step with their history tables by the services.
    risk_level = models.CharField(
        _("niveau de risque"),
        max_length=12,
        choices=RiskLevel.choices,
        default=RiskLevel.NOT_ASSESSED,
    )
    intensity = models.CharField(
        _("intensité de suivi"),
        max_length=10,
        choices=Intensity.choices,
        default=Intensity.STANDARD,
    )
    opened_on = models.DateField(_("ouvert le"))
    allocated_on = models.DateField(_("attribué le"), null=True, blank=True)
    closed_on = models.DateField(_("clos le"), null=True, blank=True)
    version = models.PositiveIntegerField(
        default=1, help_text=_("Contrôle des modifications concurrentes.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "service"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_one_open_per_person_per_service",
                violation_error_message=_(
                    "Cette personne a déjà un dossier ouvert dans ce service."
                ),
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="case_closed_after_opened",
                violation_error_message=_("La clôture doit suivre l'ouverture."),
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[CaseStatus.CLOSED, CaseStatus.ARCHIVED], closed_on__isnull=False
                )
                | Q(status__in=OPEN_STATUSES, closed_on__isnull=True),
                name="case_closed_status_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.ACTIVE) | Q(referent__isnull=False),
                name="case_active_has_referent",
                violation_error_message=_("Un dossier en cours a un CPIP référent."),
            ),
            models.CheckConstraint(
                condition=Q(setting=CaseSetting.OPEN) | Q(prison__isnull=False),
                name="case_closed_setting_has_prison",
                violation_error_message=_("Un suivi en milieu fermé précise l'établissement."),
            ),
        ]
        indexes = [
            models.Index(fields=["referent", "status"]),
            models.Index(fields=["antenna", "status"]),
            models.Index(fields=["service", "status"]),
            models.Index(fields=["status", "risk_level"]),
        ]

    def __str__(self) -> str:
        return f"Dossier {self.pk} — {self.person}"


class RiskAssessmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.case_activity_q(user))


class RiskAssessment(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("dossier")
    )
    level = models.CharField(_("niveau"), max_length=12, choices=RiskLevel.choices)
    assessed_on = models.DateField(_("évalué le"))
    assessor = models.ForeignKey(
        "spip.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("évaluateur"),
    )
    reason = models.TextField(_("motif"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RiskAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("évaluation du risque")
        verbose_name_plural = _("évaluations du risque")
        ordering = ["-assessed_on", "-id"]
        indexes = [models.Index(fields=["case", "-assessed_on"])]

    def __str__(self) -> str:
        return f"{self.get_level_display()} ({self.assessed_on:%d/%m/%Y})"


class IntensityChangeQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.case_activity_q(user))


class IntensityChange(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="intensity_changes")
    intensity = models.CharField(_("intensité"), max_length=10, choices=Intensity.choices)
    changed_on = models.DateField(_("le"))
    changed_by = models.ForeignKey(
        "spip.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("motif"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IntensityChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("intensité de suivi")
        verbose_name_plural = _("historique des intensités de suivi")
        ordering = ["-changed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_intensity_display()} ({self.changed_on:%d/%m/%Y})"


class AgendaQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.agenda_q(user))


class Agenda(models.Model):
    """A place's agenda (an antenna for the SPIP, a court's SAP for the JAP)."""

    kind = models.CharField(
        _("type"), max_length=4, choices=AgendaKind.choices, default=AgendaKind.SPIP
    )
    name = models.CharField(_("nom"), max_length=160)
    antenna = models.ForeignKey(
        "spip.Antenna", on_delete=models.PROTECT, null=True, blank=True, related_name="agendas"
    )
    court = models.ForeignKey(
        "spip.Court", on_delete=models.PROTECT, null=True, blank=True, related_name="agendas"
    )
    is_active = models.BooleanField(_("actif"), default=True)
    weeks_ahead = models.PositiveSmallIntegerField(_("semaines publiées à l'avance"), default=8)

    objects = AgendaQuerySet.as_manager()

    class Meta:
        verbose_name = _("agenda")
        verbose_name_plural = _("agendas")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=AgendaKind.SPIP, antenna__isnull=False, court__isnull=True)
                | Q(kind=AgendaKind.SAP, court__isnull=False, antenna__isnull=True),
                name="agenda_owner_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SlotTemplate(models.Model):
    """A weekly pattern: every <weekday> at <start>, <capacity> seats of <duration> minutes."""

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="templates")
    weekday = models.PositiveSmallIntegerField(
        _("jour"),
        choices=[
            (0, _("lundi")),
            (1, _("mardi")),
            (2, _("mercredi")),
            (3, _("jeudi")),
            (4, _("vendredi")),
            (5, _("samedi")),
            (6, _("dimanche")),
        ],
    )
    start_time = models.TimeField(_("heure"))
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=30)
    capacity = models.PositiveSmallIntegerField(_("places"), default=1)
    kinds = models.JSONField(_("types de rendez-vous"), default=list, blank=True)

    class Meta:
        verbose_name = _("modèle de créneau")
        verbose_name_plural = _("modèles de créneaux")
        ordering = ["weekday", "start_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["agenda", "weekday", "start_time"], name="slottemplate_unique"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="slottemplate_weekday"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slottemplate_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}"


class AgendaClosure(models.Model):
    """Days without slots: a closure, a CPIP's absence, a training day."""

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"))
    reason = models.CharField(_("motif"), max_length=255)

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="closure_dates_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason} ({self.starts_on:%d/%m/%Y} – {self.ends_on:%d/%m/%Y})"


class SlotQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.agenda_q(user, "agenda__"))


class Slot(models.Model):
    agenda = models.ForeignKey(Agenda, on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField(_("début"))
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=30)
    capacity = models.PositiveSmallIntegerField(_("places"), default=1)

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("créneau")
        verbose_name_plural = _("créneaux")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agenda", "starts_at"], name="slot_unique_start_per_agenda"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="slot_duration_min"),
        ]

    def __str__(self) -> str:
        return f"{self.agenda} {self.starts_at:%d/%m/%Y %H:%M}"


class ConvocationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ConvocationQuerySet:
        return self.filter(access.convocation_q(user))

    def counted_for(self, user) -> ConvocationQuerySet:
        return self.filter(access.statistics_q(user, "case__"))


class Convocation(models.Model):
    """An appointment. A booked slot seat is held by at most one live convocation."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="convocations", verbose_name=_("dossier")
    )
    measure = models.ForeignKey(
        "measures.Measure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="convocations",
    )
    kind = models.CharField(_("type"), max_length=16, choices=ConvocationType.choices)
    antenna = models.ForeignKey(
        "spip.Antenna", on_delete=models.PROTECT, null=True, blank=True, related_name="convocations"
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, null=True, blank=True, related_name="convocations"
    )
    seat = models.PositiveSmallIntegerField(_("place"), null=True, blank=True)
    starts_at = models.DateTimeField(_("date et heure"))
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=30)
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=ConvocationStatus.choices,
        default=ConvocationStatus.BOOKED,
    )
    outcome_reason = models.CharField(_("motif"), max_length=255, blank=True)
    outcome_recorded_at = models.DateTimeField(_("issue saisie le"), null=True, blank=True)
    issued_from = models.CharField(_("émise par"), max_length=4, choices=IssuedFrom.choices)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(_("émise le"), auto_now_add=True)
    deadline_exceeded_reason = models.CharField(
        _("motif du dépassement du délai légal"), max_length=255, blank=True
    )
    rescheduled_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rescheduled_to"
    )
    # The caller's idempotency key: unique per issuing user, not across users.
    request_token = models.CharField(max_length=64, null=True, blank=True, editable=False)
    reaction = models.CharField(
        _("suite donnée à l'absence"), max_length=16, choices=MissedReaction.choices, blank=True
    )
    reaction_at = models.DateTimeField(_("suite donnée le"), null=True, blank=True)

    objects = ConvocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("convocation")
        verbose_name_plural = _("convocations")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "seat"],
                condition=Q(status__in=[ConvocationStatus.BOOKED, ConvocationStatus.HONOURED])
                & Q(slot__isnull=False),
                name="convocation_one_booking_per_slot_seat",
                violation_error_message=_("Cette place du créneau est déjà réservée."),
            ),
            models.UniqueConstraint(
                fields=["issued_by", "request_token"],
                condition=Q(request_token__isnull=False),
                name="convocation_request_token_per_user",
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=True, seat__isnull=True)
                | Q(slot__isnull=False, seat__gte=1),
                name="convocation_seat_with_slot",
            ),
            models.CheckConstraint(
                condition=Q(status=ConvocationStatus.BOOKED) | Q(outcome_recorded_at__isnull=False),
                name="convocation_outcome_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["antenna", "starts_at"]),
            models.Index(fields=["issued_by", "issued_at"]),
        ]

    def __str__(self) -> str:
        # In the reader's time zone (the service's, set per request), never UTC.
        return f"{self.get_kind_display()} — {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"


class InterviewQuerySet(models.QuerySet):
    def visible_to(self, user) -> InterviewQuerySet:
        return self.filter(access.interview_q(user))


class Interview(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="interviews", verbose_name=_("dossier")
    )
    convocation = models.OneToOneField(
        Convocation, on_delete=models.PROTECT, null=True, blank=True, related_name="interview"
    )
    agent = models.ForeignKey("spip.Agent", on_delete=models.PROTECT, related_name="interviews")
    held_at = models.DateTimeField(_("date"))
    kind = models.CharField(_("type"), max_length=12, choices=InterviewKind.choices)
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"))
    attendance = models.CharField(_("présence"), max_length=8, choices=Attendance.choices)
    notes = models.TextField(_("notes"), max_length=12000, blank=True)
    private_notes = models.TextField(
        _("notes internes au SPIP"),
        max_length=12000,
        blank=True,
        help_text=_("Jamais communiquées aux partenaires ni à la juridiction."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InterviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("entretien")
        verbose_name_plural = _("entretiens")
        ordering = ["-held_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=480),
                name="interview_duration_range",
            )
        ]
        indexes = [models.Index(fields=["case", "-held_at"])]

    def __str__(self) -> str:
        return f"Entretien du {self.held_at:%d/%m/%Y}"


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.interview_q(user))


class Incident(models.Model):
    """A breach (manquement) and the incident report to the judge."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="incidents")
    measure = models.ForeignKey(
        "measures.Measure", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    noticed_on = models.DateField(_("constaté le"))
    facts = models.TextField(_("faits"), max_length=12000)
    status = models.CharField(
        _("statut"), max_length=6, choices=IncidentStatus.choices, default=IncidentStatus.DRAFT
    )
    sent_on = models.DateField(_("transmis le"), null=True, blank=True)
    author = models.ForeignKey("spip.Agent", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-noticed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=IncidentStatus.DRAFT, sent_on__isnull=True)
                | Q(status=IncidentStatus.SENT, sent_on__isnull=False),
                name="incident_sent_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"Incident du {self.noticed_on:%d/%m/%Y}"


class TransferQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.case_activity_q(user))


class Transfer(models.Model):
    """A case handed from one service to another (change of residence, release)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    from_service = models.ForeignKey("spip.Service", on_delete=models.PROTECT, related_name="+")
    to_service = models.ForeignKey("spip.Service", on_delete=models.PROTECT, related_name="+")
    new_case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_on = models.DateField(_("demandé le"))
    completed_on = models.DateField(_("effectué le"), null=True, blank=True)
    reason = models.CharField(_("motif"), max_length=255, blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfert")
        verbose_name_plural = _("transferts")
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_service=F("to_service")), name="transfer_between_services"
            ),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=F("requested_on")),
                name="transfer_completed_after_requested",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfert vers {self.to_service}"


class AlertQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.case_activity_q(user))

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

    alert_type = models.CharField(_("type"), max_length=40)
    severity = models.CharField(_("gravité"), max_length=8, choices=AlertSeverity.choices)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alerts")
    agent = models.ForeignKey(
        "spip.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    rule = models.CharField(_("règle"), max_length=255)
    legal_reference = models.CharField(_("référence"), max_length=120, blank=True)
    dedup_key = models.CharField(max_length=120)
    opened_at = models.DateTimeField(_("ouverte le"))
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    measure = models.ForeignKey(
        "measures.Measure", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    convocation = models.ForeignKey(
        Convocation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    snoozed_until = models.DateField(_("reportée au"), null=True, blank=True)
    snooze_reason = models.CharField(_("motif du report"), max_length=255, blank=True)
    # The referent has left or is inactive: the alert waits on the head of antenna's desk.
    without_referent = models.BooleanField(_("sans référent"), default=False)

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
        return f"{self.alert_type} — dossier {self.case_id}"


class ReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.interview_q(user))


class Report(models.Model):
    """A report to the judge (evaluation, end of measure, yearly, incident)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    measure = models.ForeignKey(
        "measures.Measure", on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    kind = models.CharField(_("type"), max_length=10, choices=ReportKind.choices)
    status = models.CharField(
        _("statut"), max_length=5, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    body = models.TextField(_("contenu"), max_length=20000, blank=True)
    sent_on = models.DateField(_("transmis le"), null=True, blank=True)
    author = models.ForeignKey(
        "spip.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("rapport")
        verbose_name_plural = _("rapports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ReportStatus.DRAFT, sent_on__isnull=True)
                | Q(status=ReportStatus.SENT, sent_on__isnull=False),
                name="report_sent_has_date",
            )
        ]
        indexes = [models.Index(fields=["case", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — dossier {self.case_id}"


class ProofQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.interview_q(user))


def proof_path(instance, filename: str) -> str:
    # The stored name never comes from the user: service/case/uuid.ext.

    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        instance.content_type, "bin"
    )
    return f"proofs/{instance.case.service_id}/{instance.case_id}/{uuid.uuid4().hex}.{ext}"


class Proof(models.Model):
    """A document proving an obligation (care certificate, pay slip, receipt)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="proofs")
    obligation = models.ForeignKey(
        "measures.ImposedObligation",
        on_delete=models.PROTECT,
        related_name="proofs",
        verbose_name=_("obligation"),
    )
    interview = models.ForeignKey(
        Interview, on_delete=models.SET_NULL, null=True, blank=True, related_name="proofs"
    )
    received_on = models.DateField(_("reçu le"))
    file = models.FileField(_("fichier"), upload_to=proof_path, max_length=200)
    original_name = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProofQuerySet.as_manager()

    class Meta:
        verbose_name = _("justificatif")
        verbose_name_plural = _("justificatifs")
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["obligation", "-received_on"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.received_on:%d/%m/%Y})"


class CoverQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.agent_q(user, "absent_agent__"))

    def active_on(self, day):
        return self.filter(Q(starts_on__lte=day), Q(ends_on__gte=day))


class Cover(models.Model):
    """While an agent is away, a colleague is the temporary referent of their cases."""

    absent_agent = models.ForeignKey(
        "spip.Agent", on_delete=models.PROTECT, related_name="covered_by"
    )
    covering_agent = models.ForeignKey(
        "spip.Agent", on_delete=models.PROTECT, related_name="covering"
    )
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"))
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = CoverQuerySet.as_manager()

    class Meta:
        verbose_name = _("intérim")
        verbose_name_plural = _("intérims")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="cover_dates_order",
                violation_error_message=_("La fin doit suivre le début."),
            ),
            models.CheckConstraint(
                condition=~Q(absent_agent=F("covering_agent")),
                name="cover_not_self",
                violation_error_message=_("Un agent ne peut pas se remplacer lui-même."),
            ),
        ]
        indexes = [models.Index(fields=["covering_agent", "starts_on", "ends_on"])]

    def __str__(self) -> str:
        return f"{self.covering_agent} pour {self.absent_agent}"


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.case_activity_q(user, "convocation__"))


class Notification(models.Model):
    """A message to the person about a convocation. One per event and channel: a task
    that runs twice sends nothing twice."""

    convocation = models.ForeignKey(
        Convocation, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(
        _("événement"),
        max_length=12,
        choices=[
            ("booked", _("Confirmation")),
            ("reminder", _("Rappel")),
            ("cancelled", _("Annulation")),
            ("rescheduled", _("Report")),
        ],
    )
    channel = models.CharField(
        _("canal"), max_length=5, choices=[("sms", _("SMS")), ("email", _("Courriel"))]
    )
    recipient = models.CharField(_("destinataire"), max_length=254)
    body = models.TextField(_("message"))
    send_after = models.DateTimeField(_("à envoyer à partir du"))
    status = models.CharField(
        _("statut"),
        max_length=9,
        choices=NotificationStatus.choices,
        default=NotificationStatus.QUEUED,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("message à la personne")
        verbose_name_plural = _("messages aux personnes")
        ordering = ["send_after"]
        constraints = [
            models.UniqueConstraint(
                fields=["convocation", "event", "channel"], name="notification_once_per_event"
            )
        ]
        indexes = [models.Index(fields=["status", "send_after"])]

    def __str__(self) -> str:
        return f"{self.event} {self.channel} → {self.recipient}"


# The workload sub-domain's models, registered with this app (cases/workload/models.py).

from cases.workload.models import (  # noqa: E402, F401
    AlertSettings,
    CapacityReduction,
    ReductionKind,
    ReferenceNorm,
    WorkloadPolicy,
)
