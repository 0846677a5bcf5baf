"""Partner bodies, their conventions, the referrals they answer, the TIG posts they host
(placements, sessions) and the pre-sentencing mandates they hand over to the SPIP."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from partners.choices import (
    PRESENTENCING_MANDATE_CHOICES,
    ConventionKind,
    Domain,
    MandateKind,
    PartnerKind,
    Rating,
    ReferralStatus,
    TigOutcome,
)
from spip import access
from spip.fields import created_by_field


class PartnerBodyQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.partner_q)


class PartnerBody(models.Model):
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=PartnerKind.choices)
    domains = models.JSONField(
        _("domaines"), default=list, blank=True, help_text=str(Domain.values)
    )
    services = models.ManyToManyField(
        "spip.Service", related_name="partners", verbose_name=_("territoire")
    )
    # Finer than a service's whole territory, when the partner says so: the antennas'
    # areas or the communes it serves.
    antennas = models.ManyToManyField(
        "spip.Antenna", related_name="partners", blank=True, verbose_name=_("antennes servies")
    )
    communes = models.ManyToManyField(
        "spip.Commune", related_name="partners", blank=True, verbose_name=_("communes servies")
    )
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("courriel"), blank=True)

    objects = PartnerBodyQuerySet.as_manager()

    class Meta:
        verbose_name = _("partenaire")
        verbose_name_plural = _("partenaires")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def domain_labels(self) -> list[str]:
        return [str(Domain(d).label) for d in self.domains if d in Domain.values]


def serving_q(commune) -> Q:
    """Partners whose territory covers the commune: listed by commune, by its antenna, or
    (listing neither) by its whole service."""
    q = Q(services=commune.service_id, antennas__isnull=True, communes__isnull=True)
    q |= Q(communes=commune.pk)
    if commune.antenna_id:
        q |= Q(antennas=commune.antenna_id)
    return q


class ConventionQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.partner_q)
    path = "partner__"


class Convention(models.Model):
    partner = models.ForeignKey(
        PartnerBody,
        on_delete=models.PROTECT,
        related_name="conventions",
        verbose_name=_("partenaire"),
    )
    kind = models.CharField(_("type"), max_length=8, choices=ConventionKind.choices)
    court = models.ForeignKey(
        "spip.Court",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conventions",
        verbose_name=_("juridiction"),
    )
    service = models.ForeignKey(
        "spip.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="conventions"
    )
    mandate = models.CharField(
        _("mandat confié"), max_length=10, choices=MandateKind.choices, blank=True
    )
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    places = models.PositiveIntegerField(
        _("places (personnes suivies en même temps)"), null=True, blank=True
    )
    funding = models.CharField(_("financement"), max_length=255, blank=True)

    objects = ConventionQuerySet.as_manager()

    class Meta:
        verbose_name = _("convention")
        verbose_name_plural = _("conventions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="convention_dates_order",
            ),
            # A judicial mandate is signed with a court; social support with a service.
            models.CheckConstraint(
                condition=Q(kind=ConventionKind.JUDICIAL_MANDATE, court__isnull=False)
                | Q(kind=ConventionKind.SOCIAL_SUPPORT, service__isnull=False),
                name="convention_counterpart_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        what = self.get_mandate_display() if self.mandate else self.get_kind_display()
        return f"{self.partner} — {what}"

    def in_force(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)


class ReferralQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.referral_q)


class Referral(models.Model):
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("dossier")
    )
    partner = models.ForeignKey(
        PartnerBody,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("partenaire"),
    )
    domain = models.CharField(_("domaine"), max_length=12, choices=Domain.choices)
    status = models.CharField(
        _("statut"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    sent_on = models.DateField(_("adressée le"))
    ended_on = models.DateField(_("terminée le"), null=True, blank=True)
    reason = models.TextField(_("motif de l'orientation"), max_length=2000, blank=True)
    message = models.TextField(
        _("ce que le partenaire doit savoir"),
        max_length=2000,
        blank=True,
        help_text=_("Le strict nécessaire : le partenaire ne voit rien d'autre du dossier."),
    )
    outside_reason = models.CharField(
        _("motif (hors domaine ou hors territoire du partenaire)"), max_length=255, blank=True
    )
    answered_on = models.DateField(_("réponse le"), null=True, blank=True)
    refusal_reason = models.CharField(_("motif du refus"), max_length=255, blank=True)
    first_contact_on = models.DateField(_("premier contact le"), null=True, blank=True)
    attended = models.BooleanField(_("la personne a suivi l'accompagnement"), null=True, blank=True)
    result = models.TextField(_("bilan de fin"), max_length=4000, blank=True)
    reminded_on = models.DateField(_("relancée le"), null=True, blank=True)
    created_by = created_by_field()

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("orientation")
        verbose_name_plural = _("orientations")
        ordering = ["-sent_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("sent_on")),
                name="referral_dates_order",
            )
        ]
        indexes = [models.Index(fields=["partner", "status"])]

    def __str__(self) -> str:
        return f"{self.get_domain_display()} — {self.partner}"


class ReferralEventQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.referral_q)
    path = "referral__"


class ReferralEvent(models.Model):
    """One step of a referral, or a note the partner writes for the CPIP: the case's
    timeline shows them."""

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="events", verbose_name=_("orientation")
    )
    at = models.DateTimeField(_("le"), auto_now_add=True)
    status = models.CharField(_("étape"), max_length=10, choices=ReferralStatus.choices, blank=True)
    note = models.TextField(_("note"), max_length=4000, blank=True)
    created_by = created_by_field()

    objects = ReferralEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("étape d'une orientation")
        verbose_name_plural = _("étapes des orientations")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_status_display() or _('Note')} ({self.at:%d/%m/%Y})"


# --- Travail d'intérêt général ----------------------------------------------------------


class TigPostQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.partner_q)
    path = "partner__"


class TigPost(models.Model):
    """A post a host body offers for TIG: what is done, where, when, by how many."""

    partner = models.ForeignKey(
        PartnerBody,
        on_delete=models.PROTECT,
        related_name="tig_posts",
        verbose_name=_("structure d'accueil"),
    )
    title = models.CharField(_("intitulé"), max_length=200)
    tasks = models.TextField(_("tâches"), max_length=2000, blank=True)
    place = models.CharField(_("lieu"), max_length=255)
    schedule = models.CharField(_("horaires"), max_length=255, blank=True)
    weekly_hours = models.PositiveSmallIntegerField(
        _("heures proposées par semaine"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(35)],
    )
    places = models.PositiveSmallIntegerField(
        _("places offertes"), default=1, validators=[MinValueValidator(1)]
    )
    tutor_name = models.CharField(_("tuteur"), max_length=150)
    tutor_phone = models.CharField(_("téléphone du tuteur"), max_length=20, blank=True)
    equipment = models.CharField(_("équipement fourni ou à prévoir"), max_length=255, blank=True)
    active = models.BooleanField(_("ouvert"), default=True)

    objects = TigPostQuerySet.as_manager()

    class Meta:
        verbose_name = _("poste de TIG")
        verbose_name_plural = _("postes de TIG")
        ordering = ["partner__name", "title"]

    def __str__(self) -> str:
        return f"{self.title} — {self.partner}"


class TigPlacementQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.tig_placement_q)


class TigPlacement(models.Model):
    """A TIG measure placed on a post, from a date until it ends."""

    measure = models.ForeignKey(
        "measures.Measure",
        on_delete=models.PROTECT,
        related_name="tig_placements",
        verbose_name=_("mesure"),
    )
    post = models.ForeignKey(
        TigPost, on_delete=models.PROTECT, related_name="placements", verbose_name=_("poste")
    )
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"), null=True, blank=True)
    created_by = created_by_field()

    objects = TigPlacementQuerySet.as_manager()

    class Meta:
        verbose_name = _("placement en TIG")
        verbose_name_plural = _("placements en TIG")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="tig_placement_dates_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.post.title} ({self.starts_on:%d/%m/%Y})"


class TigSessionQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.tig_placement_q)
    path = "placement__"


class TigSession(models.Model):
    """One session on the post: when, what came of it, how it went. Only a session done
    credits hours (its length); one session per placement and start time."""

    placement = models.ForeignKey(
        TigPlacement, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("placement")
    )
    on = models.DateField(_("date"))
    starts_at = models.TimeField(_("début"))
    ends_at = models.TimeField(_("fin"))
    outcome = models.CharField(_("issue"), max_length=10, choices=TigOutcome.choices)
    behaviour = models.CharField(
        _("comportement"), max_length=5, choices=Rating.choices, blank=True
    )
    work_quality = models.CharField(
        _("qualité du travail"), max_length=5, choices=Rating.choices, blank=True
    )
    note = models.TextField(_("observations pour le CPIP"), max_length=2000, blank=True)
    minutes = models.PositiveSmallIntegerField(_("minutes créditées"), default=0)
    created_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)
    created_by = created_by_field()

    objects = TigSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("séance de TIG")
        verbose_name_plural = _("séances de TIG")
        ordering = ["-on", "-starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "on", "starts_at"], name="tig_session_one_per_start"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="tig_session_times_order"
            ),
            models.CheckConstraint(
                condition=Q(outcome=TigOutcome.DONE) | Q(minutes=0),
                name="tig_session_credit_only_when_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.on:%d/%m/%Y} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"


# --- Pre-sentencing -----------------------------------------------------------------------


class PresentencingMandateQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.presentencing_q)


class PresentencingMandate(models.Model):
    """What an association did before the judgment (socio-educational judicial control,
    social inquiry, mediation), handed over to the SPIP once the person is sentenced."""

    partner = models.ForeignKey(
        PartnerBody,
        on_delete=models.PROTECT,
        related_name="presentencing",
        verbose_name=_("association"),
    )
    convention = models.ForeignKey(
        Convention,
        on_delete=models.PROTECT,
        related_name="presentencing",
        verbose_name=_("convention"),
    )
    mandate = models.CharField(_("mandat"), max_length=10, choices=PRESENTENCING_MANDATE_CHOICES)
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    usage_name = models.CharField(_("nom d'usage"), max_length=100, blank=True)
    first_names = models.CharField(_("prénoms"), max_length=150)
    birth_date = models.DateField(_("date de naissance"), db_index=True)
    starts_on = models.DateField(_("début du mandat"))
    ends_on = models.DateField(_("fin du mandat"), null=True, blank=True)
    summary = models.TextField(_("synthèse de l'évaluation"), max_length=6000)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="presentencing",
        verbose_name=_("dossier SPIP"),
    )
    handed_over_on = models.DateField(_("transmis au SPIP le"), null=True, blank=True)
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)
    created_by = created_by_field()

    objects = PresentencingMandateQuerySet.as_manager()

    class Meta:
        verbose_name = _("mandat présentenciel")
        verbose_name_plural = _("mandats présentenciels")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="presentencing_dates_order",
            ),
            models.CheckConstraint(
                condition=Q(case__isnull=True, handed_over_on__isnull=True)
                | Q(case__isnull=False, handed_over_on__isnull=False),
                name="presentencing_handover_with_case",
            ),
        ]

    def __str__(self) -> str:
        name = self.usage_name or self.birth_name
        return f"{self.get_mandate_display()} — {name.upper()} {self.first_names}"
