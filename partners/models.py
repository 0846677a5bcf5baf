"""Partner bodies, conventions and referrals (behaviour comes later; tables now)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from partners.choices import ConventionKind, Domain, PartnerKind, ReferralStatus
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
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"), null=True, blank=True)

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
        return f"{self.partner} — {self.get_kind_display()}"


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
