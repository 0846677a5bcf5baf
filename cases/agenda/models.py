"""Agendas, their weekly templates, closures and slots; convocations and the messages sent about them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    AgendaKind,
    ConvocationStatus,
    ConvocationType,
    IssuedFrom,
    MissedReaction,
)
from cases.files.models import Case
from spip import access


class AgendaQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.agenda_q)


class Agenda(models.Model):
    """A place's agenda (an antenna for the SPIP, a court's SAP for the JAP)."""

    kind = models.CharField(
        _("type"), max_length=4, choices=AgendaKind.choices, default=AgendaKind.SPIP
    )
    name = models.CharField(_("nom"), max_length=160)
    antenna = models.ForeignKey(
        "spip.Antenna",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agendas",
        verbose_name=_("antenne"),
    )
    court = models.ForeignKey(
        "spip.Court",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agendas",
        verbose_name=_("juridiction"),
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


class SlotQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.agenda_q)
    path = "agenda__"


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


class ConvocationQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.convocation_q)

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
        verbose_name=_("mesure"),
    )
    kind = models.CharField(_("type"), max_length=16, choices=ConvocationType.choices)
    antenna = models.ForeignKey(
        "spip.Antenna",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="convocations",
        verbose_name=_("antenne"),
    )
    slot = models.ForeignKey(
        Slot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="convocations",
        verbose_name=_("créneau"),
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
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("émise par"),
    )
    issued_at = models.DateTimeField(_("émise le"), auto_now_add=True)
    deadline_exceeded_reason = models.CharField(
        _("motif du dépassement du délai légal"), max_length=255, blank=True
    )
    rescheduled_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescheduled_to",
        verbose_name=_("reportée depuis"),
    )
    # The caller's idempotency key: unique per issuing user, not across users.
    request_token = models.CharField(
        max_length=64, null=True, blank=True, editable=False, verbose_name=_("jeton de la demande")
    )
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


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")


class NotificationQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.case_activity_q)
    path = "convocation__"


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
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("tentatives"))
    last_error = models.CharField(max_length=255, blank=True, verbose_name=_("dernière erreur"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("envoyé le"))

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
