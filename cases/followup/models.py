"""Follow-up: interviews, incidents, reports to the judge, proofs of obligations, absence covers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.agenda.models import Convocation
from cases.choices import (
    Attendance,
    IncidentStatus,
    InterviewKind,
    ReportKind,
    ReportStatus,
)
from cases.files.models import Case
from spip import access
from spip.fields import created_by_field


class InterviewQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.interview_q)


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
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))

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


class IncidentQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.interview_q)


class Incident(models.Model):
    """A breach (manquement) and the incident report to the judge."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("dossier")
    )
    measure = models.ForeignKey(
        "measures.Measure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mesure"),
    )
    noticed_on = models.DateField(_("constaté le"))
    facts = models.TextField(_("faits"), max_length=12000)
    status = models.CharField(
        _("statut"), max_length=6, choices=IncidentStatus.choices, default=IncidentStatus.DRAFT
    )
    sent_on = models.DateField(_("transmis le"), null=True, blank=True)
    author = models.ForeignKey(
        "spip.Agent", on_delete=models.PROTECT, related_name="+", verbose_name=_("auteur")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))

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


class ReportQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.interview_q)


class Report(models.Model):
    """A report to the judge (evaluation, end of measure, yearly, incident)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="reports", verbose_name=_("dossier")
    )
    measure = models.ForeignKey(
        "measures.Measure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("mesure"),
    )
    kind = models.CharField(_("type"), max_length=10, choices=ReportKind.choices)
    status = models.CharField(
        _("statut"), max_length=5, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    body = models.TextField(_("contenu"), max_length=20000, blank=True)
    sent_on = models.DateField(_("transmis le"), null=True, blank=True)
    author = models.ForeignKey(
        "spip.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))

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


class ProofQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.interview_q)


def proof_path(instance, filename: str) -> str:
    # The stored name never comes from the user: service/case/uuid.ext.

    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        instance.content_type, "bin"
    )
    return f"proofs/{instance.case.service_id}/{instance.case_id}/{uuid.uuid4().hex}.{ext}"


class Proof(models.Model):
    """A document proving an obligation (care certificate, pay slip, receipt)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="proofs", verbose_name=_("dossier")
    )
    obligation = models.ForeignKey(
        "measures.ImposedObligation",
        on_delete=models.PROTECT,
        related_name="proofs",
        verbose_name=_("obligation"),
    )
    interview = models.ForeignKey(
        Interview,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proofs",
        verbose_name=_("entretien"),
    )
    received_on = models.DateField(_("reçu le"))
    file = models.FileField(_("fichier"), upload_to=proof_path, max_length=200)
    original_name = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(max_length=40, verbose_name=_("type de fichier"))
    size = models.PositiveIntegerField(verbose_name=_("taille (octets)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("déposé par"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))

    objects = ProofQuerySet.as_manager()

    class Meta:
        verbose_name = _("justificatif")
        verbose_name_plural = _("justificatifs")
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["obligation", "-received_on"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.received_on:%d/%m/%Y})"


class CoverQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.agent_q)
    path = "absent_agent__"

    def active_on(self, day):
        return self.filter(Q(starts_on__lte=day), Q(ends_on__gte=day))


class Cover(models.Model):
    """While an agent is away, a colleague is the temporary referent of their cases."""

    absent_agent = models.ForeignKey(
        "spip.Agent",
        on_delete=models.PROTECT,
        related_name="covered_by",
        verbose_name=_("CPIP absent"),
    )
    covering_agent = models.ForeignKey(
        "spip.Agent",
        on_delete=models.PROTECT,
        related_name="covering",
        verbose_name=_("CPIP qui assure l'intérim"),
    )
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"))
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    created_by = created_by_field(optional=False)

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
