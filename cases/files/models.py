"""Persons and their case files, with the history of their risk level and intensity, and transfers between services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.choices import (
    OPEN_STATUSES,
    OPEN_TRANSFER_STATUSES,
    CaseSetting,
    CaseStatus,
    Intensity,
    RiskLevel,
    Sex,
    TransferStatus,
)
from spip import access
from spip.fields import created_by_field


class PersonQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.person_q)

    def searchable_by(self, user) -> PersonQuerySet:
        """Persons ``user`` may find by the identity search (never list)."""
        return self.filter(access.person_search_q(user))


# How a person is reached: written by the court desk, read by the API and the messages.
PERSON_CONTACT_FIELDS = ("address", "postal_code", "commune", "phone", "email", "accepts_messages")


def person_label(birth_name: str, usage_name: str, first_names: str) -> str:
    """How a person is named on every page: "USAGE-OR-BIRTH NAME First names" (also for rows
    read as values)."""
    return f"{(usage_name or birth_name).upper()} {first_names}"


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
    search_key = models.CharField(
        max_length=255,
        db_index=True,
        editable=False,
        default="",
        verbose_name=_("clé de recherche"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = created_by_field()
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fusionnée dans"),
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
        return person_label(self.birth_name, self.usage_name, self.first_names)


class CaseQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.case_q)

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
    restricted = models.BooleanField(
        _("dossier sensible"),
        default=False,
        help_text=_("Ex. terrorisme : ne se transfère que sur dérogation d'un directeur."),
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
    created_by = created_by_field()
    # A legal hold (a pending appeal, a litigation, a request of the court) stops the
    # archiving and the destruction of the file (cases/files/retention.py).
    legal_hold = models.BooleanField(_("conservation bloquée"), default=False)
    legal_hold_reason = models.CharField(_("motif du blocage"), max_length=300, blank=True)

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


class CaseDecision(models.Model):
    """A decision on a case's follow-up kept in its history: why, and when it was written."""

    reason = models.TextField(_("motif"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))

    class Meta:
        abstract = True


class RiskAssessmentQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.case_activity_q)


class RiskAssessment(CaseDecision):
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
    objects = RiskAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("évaluation du risque")
        verbose_name_plural = _("évaluations du risque")
        ordering = ["-assessed_on", "-id"]
        indexes = [models.Index(fields=["case", "-assessed_on"])]

    def __str__(self) -> str:
        return f"{self.get_level_display()} ({self.assessed_on:%d/%m/%Y})"


class IntensityChangeQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.case_activity_q)


class IntensityChange(CaseDecision):
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="intensity_changes", verbose_name=_("dossier")
    )
    intensity = models.CharField(_("intensité"), max_length=10, choices=Intensity.choices)
    changed_on = models.DateField(_("le"))
    changed_by = models.ForeignKey(
        "spip.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("modifié par"),
    )
    objects = IntensityChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("intensité de suivi")
        verbose_name_plural = _("historique des intensités de suivi")
        ordering = ["-changed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_intensity_display()} ({self.changed_on:%d/%m/%Y})"


class TransferQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.transfer_q)


class Transfer(models.Model):
    """A case handed from one service to another (change of residence, release)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("dossier")
    )
    from_service = models.ForeignKey(
        "spip.Service",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service d'origine"),
    )
    to_service = models.ForeignKey(
        "spip.Service",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service d'accueil"),
    )
    new_case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("nouveau dossier"),
    )
    to_antenna = models.ForeignKey(
        "spip.Antenna",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("antenne d'accueil"),
    )
    status = models.CharField(
        _("état"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.PROPOSED
    )
    requested_on = models.DateField(_("demandé le"))
    completed_on = models.DateField(_("effectué le"), null=True, blank=True)
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    override_reason = models.CharField(
        _("dérogation (dossier sensible)"), max_length=255, blank=True
    )
    answered_on = models.DateField(_("réponse le"), null=True, blank=True)
    answer_note = models.CharField(_("motif de la réponse"), max_length=255, blank=True)
    auto_accepted = models.BooleanField(_("accepté sans réponse"), default=False)
    reminded_on = models.DateField(_("relancé le"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("à l'initiative de"),
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("réponse de"),
    )

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
            # Proposed twice, requested by both ends: one open transfer per case.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=OPEN_TRANSFER_STATUSES),
                name="transfer_one_open_per_case",
                violation_error_message=_("Un transfert de ce dossier est déjà en cours."),
            ),
        ]

    def __str__(self) -> str:
        return f"Transfert vers {self.to_service}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TRANSFER_STATUSES


class ReleasePlanQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.release_q)


class ReleasePlan(models.Model):
    """Release from prison handed to the home service: the planned date and address, the
    checklist the prison's CPIP works, the first community appointment booked before
    release in the home antenna, and, at release, the transfer when home is elsewhere."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="release_plans", verbose_name=_("dossier")
    )
    planned_on = models.DateField(_("date de sortie prévue"))
    address = models.CharField(_("adresse à la sortie"), max_length=255)
    postal_code = models.CharField(_("code postal"), max_length=5)
    commune = models.CharField(_("commune"), max_length=120)
    home_service = models.ForeignKey(
        "spip.Service",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service compétent à la sortie"),
    )
    home_antenna = models.ForeignKey(
        "spip.Antenna",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("antenne compétente à la sortie"),
    )
    address_checked = models.BooleanField(_("adresse vérifiée"), default=False)
    documents_ready = models.BooleanField(_("pièces d'identité prêtes"), default=False)
    health_arranged = models.BooleanField(_("suite des soins organisée"), default=False)
    housing_found = models.BooleanField(_("hébergement trouvé"), default=False)
    convocation_handed = models.BooleanField(_("convocation remise en main propre"), default=False)
    convocation = models.ForeignKey(
        "cases.Convocation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("premier rendez-vous en milieu ouvert"),
    )
    booked_on = models.DateField(_("rendez-vous pris le"), null=True, blank=True)
    released_on = models.DateField(_("sortie effective"), null=True, blank=True)
    transfer = models.ForeignKey(
        Transfer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transfert"),
    )
    created_by = created_by_field()

    objects = ReleasePlanQuerySet.as_manager()

    CHECKLIST = (
        "address_checked",
        "documents_ready",
        "health_arranged",
        "housing_found",
        "convocation_handed",
    )

    class Meta:
        verbose_name = _("préparation de la sortie")
        verbose_name_plural = _("préparations des sorties")
        ordering = ["planned_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(released_on__isnull=True),
                name="release_one_open_plan_per_case",
                violation_error_message=_("Une sortie est déjà en préparation pour ce dossier."),
            )
        ]

    def __str__(self) -> str:
        return f"Sortie prévue le {self.planned_on:%d/%m/%Y}"

    @property
    def checklist(self) -> list[tuple[str, str, bool]]:
        return [
            (
                name,
                str(getattr(self._meta.get_field(name), "verbose_name", name)),
                getattr(self, name),
            )
            for name in self.CHECKLIST
        ]


class PersonMergeQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.person_merge_q)


class PersonMerge(models.Model):
    """Two records of one person made one, after a director's review: the files of
    ``merged`` moved to ``kept``, listed in ``moved_cases`` so that it can be undone."""

    kept = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("fiche conservée")
    )
    merged = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("fiche fusionnée")
    )
    reason = models.CharField(_("motif"), max_length=255)
    rule = models.CharField(_("règle de détection"), max_length=40, blank=True)
    moved_cases = models.JSONField(_("dossiers déplacés"), default=list)
    merged_at = models.DateTimeField(_("fusionnée le"), auto_now_add=True)
    merged_by = created_by_field()
    undone_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("annulée par"),
    )

    objects = PersonMergeQuerySet.as_manager()

    class Meta:
        verbose_name = _("fusion de fiches")
        verbose_name_plural = _("fusions de fiches")
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(kept=F("merged")), name="merge_two_persons"),
        ]

    def __str__(self) -> str:
        return f"{self.merged} → {self.kept}"


class TombstoneQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.tombstone_q)


class Tombstone(models.Model):
    """What the retention job destroyed: which file of which service, closed when, by
    which rule, how many rows and files. Nothing that names the person."""

    case_number = models.BigIntegerField(_("dossier n°"))
    service = models.ForeignKey(
        "spip.Service", on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    closed_on = models.DateField(_("clos le"))
    rule = models.CharField(_("règle"), max_length=200)
    counts = models.JSONField(_("lignes détruites"), default=dict)
    files = models.JSONField(_("fichiers détruits"), default=list)
    files_removed = models.BooleanField(_("fichiers supprimés du stockage"), default=False)
    destroyed_at = models.DateTimeField(_("détruit le"))

    objects = TombstoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("trace de destruction")
        verbose_name_plural = _("traces de destruction")
        ordering = ["-destroyed_at", "-id"]
        indexes = [models.Index(fields=["service", "-destroyed_at"])]

    def __str__(self) -> str:
        return f"Dossier {self.case_number} détruit le {self.destroyed_at:%d/%m/%Y}"
