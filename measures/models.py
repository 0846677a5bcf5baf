"""Measure and obligation catalogues, measures, imposed obligations, deadline rules.

Every legal reference is data with validity dates: laws change (the 2020 reform renamed
measures; the code of criminal procedure is renumbered from 2029).
"""

from __future__ import annotations

import re

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from measures.choices import (
    DeadlineTarget,
    DeadlineTrigger,
    EndReason,
    FollowedBy,
    MeasureCategory,
    ObligationFamily,
    ObligationGroup,
    PeriodUnit,
    Setting,
)
from spip import access
from spip.fields import created_by_field

# Legal range of TIG hours across all types (délits 20-400 h since 2020); each type
# narrows it with its own tig_hours_min / tig_hours_max, checked by the service.
TIG_HOURS_FLOOR = 20
TIG_HOURS_CEILING = 400


class ValidityQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.reference_q)

    def valid_on(self, day):
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gte=day))


class MeasureType(models.Model):
    code = models.CharField(_("code"), max_length=10, unique=True)
    legacy_code = models.CharField(_("ancien code"), max_length=10, blank=True)
    label = models.CharField(_("libellé"), max_length=160)
    category = models.CharField(_("catégorie"), max_length=12, choices=MeasureCategory.choices)
    setting = models.CharField(_("milieu"), max_length=6, choices=Setting.choices)
    legal_basis = models.CharField(_("base légale"), max_length=120, blank=True)
    min_duration_months = models.PositiveSmallIntegerField(
        _("durée minimale (mois)"), null=True, blank=True
    )
    max_duration_months = models.PositiveSmallIntegerField(
        _("durée maximale (mois)"), null=True, blank=True
    )
    tig_hours_min = models.PositiveSmallIntegerField(
        _("heures de TIG minimum"), null=True, blank=True
    )
    tig_hours_max = models.PositiveSmallIntegerField(
        _("heures de TIG maximum"), null=True, blank=True
    )
    notes = models.TextField(_("remarques"), blank=True)
    needs_legal_check = models.BooleanField(
        _("référence à vérifier"), default=False, help_text=_("Texte exact non confirmé.")
    )
    valid_from = models.DateField(_("valide à partir du"))
    valid_to = models.DateField(_("valide jusqu'au"), null=True, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("type de mesure")
        verbose_name_plural = _("types de mesure")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="measuretype_validity_order",
            ),
            models.CheckConstraint(
                condition=Q(max_duration_months__isnull=True)
                | Q(min_duration_months__isnull=True)
                | Q(max_duration_months__gte=F("min_duration_months")),
                name="measuretype_duration_order",
            ),
        ]

    def __str__(self) -> str:
        legacy = f" (ex-{self.legacy_code})" if self.legacy_code else ""
        return f"{self.code}{legacy} — {self.label}"


class ObligationType(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("libellé"), max_length=255)
    family = models.CharField(_("famille"), max_length=8, choices=ObligationFamily.choices)
    group = models.CharField(_("groupe"), max_length=20, choices=ObligationGroup.choices)
    article = models.CharField(_("article"), max_length=60)
    needs_proof = models.BooleanField(_("justificatif attendu"), default=False)
    proof_hint = models.CharField(_("justificatif type"), max_length=160, blank=True)
    needs_legal_check = models.BooleanField(_("référence à vérifier"), default=False)
    valid_from = models.DateField(_("valide à partir du"))
    valid_to = models.DateField(_("valide jusqu'au"), null=True, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("type d'obligation")
        verbose_name_plural = _("types d'obligation")
        ordering = ["family", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="obligationtype_validity_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.article} — {self.label}"

    @property
    def legal_key(self) -> tuple:
        """Order of the code: article 132-44 before 132-45 before 132-45-1, then 1°, 2°…
        (not the alphabetical order of "132-45 14°" and "132-45 4°")."""
        match = ARTICLE.match(self.article)
        if match is None:
            return ((9999,), 0, self.code)
        numbers = tuple(int(n) for n in match.group("number").split("-"))
        # An obligation of the article without its own ordinal comes after the numbered ones.
        return (numbers, int(match.group("ordinal") or 99), self.code)

    @property
    def article_heading(self) -> str:
        """ "article 132-45 du code pénal", the heading the obligation stands under."""
        match = ARTICLE.match(self.article)
        if match is None:
            return self.article
        code = CODES.get(match.group("code") or "", match.group("code") or "")
        return f"article {match.group('number')} {code}".strip()


# "132-45 14° CP", "132-45-1 CP", "138 CPP": the article, its ordinal, its code.
ARTICLE = re.compile(r"^\s*(?P<number>\d+(?:-\d+)*)(?:\s+(?P<ordinal>\d+)°)?\s*(?P<code>CPP|CP)?")
CODES = {"CP": "du code pénal", "CPP": "du code de procédure pénale"}


def in_legal_order(obligations) -> list[tuple[str, list]]:
    """Imposed obligations (or obligation types) grouped under their article, in the
    order of the code: what the convocation, the desk and the case file print."""

    def type_of(o):
        return getattr(o, "obligation_type", o)

    groups: dict[str, list] = {}
    for o in sorted(obligations, key=lambda o: type_of(o).legal_key):
        groups.setdefault(type_of(o).article_heading, []).append(o)
    return list(groups.items())


class DeadlineRule(models.Model):
    """A statutory deadline, as versioned data (DOMAIN.md §5)."""

    code = models.CharField(_("code"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    label = models.CharField(_("libellé"), max_length=255)
    trigger = models.CharField(
        _("événement déclencheur"), max_length=16, choices=DeadlineTrigger.choices
    )
    target = models.CharField(_("échéance"), max_length=20, choices=DeadlineTarget.choices)
    amount = models.SmallIntegerField(
        _("délai"), help_text=_("Négatif pour une échéance avant l'événement (fin de mesure).")
    )
    unit = models.CharField(
        _("unité"), max_length=6, choices=PeriodUnit.choices, default=PeriodUnit.DAYS
    )
    measure_types = models.ManyToManyField(
        MeasureType, related_name="deadline_rules", verbose_name=_("mesures")
    )
    condition = models.CharField(
        _("condition"),
        max_length=255,
        blank=True,
        help_text=_("Condition d'application, en clair."),
    )
    provisionally_enforceable = models.BooleanField(
        _("exécution provisoire"),
        null=True,
        blank=True,
        help_text=_("Vide : la règle s'applique dans les deux cas."),
    )
    legal_reference = models.CharField(_("référence légale"), max_length=120)
    extends_to_working_day = models.BooleanField(
        _("prorogé au premier jour ouvrable"),
        default=True,
        help_text=_(
            "Un délai qui expire un samedi, un dimanche ou un jour férié du service est "
            "prorogé jusqu'au premier jour ouvrable suivant (art. 801 CPP)."
        ),
    )
    needs_legal_check = models.BooleanField(_("référence à vérifier"), default=False)
    valid_from = models.DateField(_("valide à partir du"))
    valid_to = models.DateField(_("valide jusqu'au"), null=True, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("règle de délai")
        verbose_name_plural = _("règles de délai")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="deadlinerule_unique_version"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="deadlinerule_validity_order",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="deadlinerule_nonzero_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.amount} {self.get_unit_display()}, {self.legal_reference})"


class MeasureQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.measure_q)

    def counted_for(self, user) -> MeasureQuerySet:
        return self.filter(access.statistics_q(user, "case__"))

    def open(self) -> MeasureQuerySet:
        return self.filter(actual_end_date__isnull=True)


class Measure(models.Model):
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="measures", verbose_name=_("dossier")
    )
    measure_type = models.ForeignKey(
        MeasureType, on_delete=models.PROTECT, related_name="measures", verbose_name=_("type")
    )
    court = models.ForeignKey(
        "spip.Court",
        on_delete=models.PROTECT,
        related_name="measures",
        verbose_name=_("juridiction"),
    )
    judgment_date = models.DateField(_("date du jugement"))
    judgment_reference = models.CharField(_("n° parquet / jugement"), max_length=40, blank=True)
    provisionally_enforceable = models.BooleanField(_("exécution provisoire"), default=False)
    start_date = models.DateField(_("début"), null=True, blank=True)
    planned_end_date = models.DateField(_("fin prévue"), null=True, blank=True)
    actual_end_date = models.DateField(_("fin effective"), null=True, blank=True)
    end_reason = models.CharField(
        _("motif de fin"), max_length=16, choices=EndReason.choices, blank=True
    )
    followed_by = models.CharField(
        _("suivi par"), max_length=8, choices=FollowedBy.choices, default=FollowedBy.SERVICE
    )
    partner = models.ForeignKey(
        "partners.PartnerBody",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
        verbose_name=_("association mandatée"),
    )
    convention = models.ForeignKey(
        "partners.Convention",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
        verbose_name=_("convention"),
    )
    tig_hours = models.PositiveSmallIntegerField(
        _("heures de TIG prononcées"), null=True, blank=True
    )
    tig_deadline = models.DateField(_("date limite d'exécution du TIG"), null=True, blank=True)
    tig_hours_done = models.PositiveSmallIntegerField(_("heures de TIG effectuées"), default=0)
    # The first contact with the SPIP since the judgment, as ``cases.files.selectors.
    # first_contact`` defines it, stored so that delays aggregate without a lookup per
    # measure. Kept by ``cases.files.contacts.first_contact_refresh``, which every service
    # that changes an input calls; never written anywhere else.
    first_contact_on = models.DateField(
        _("premier contact le"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = created_by_field()

    objects = MeasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("mesure")
        verbose_name_plural = _("mesures")
        ordering = ["-judgment_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(start_date__gte=F("judgment_date")),
                name="measure_start_after_judgment",
                violation_error_message=_("La mesure ne peut pas commencer avant le jugement."),
            ),
            models.CheckConstraint(
                condition=Q(planned_end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(planned_end_date__gte=F("start_date")),
                name="measure_planned_end_after_start",
                violation_error_message=_("La fin prévue doit suivre le début."),
            ),
            models.CheckConstraint(
                condition=Q(actual_end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(actual_end_date__gte=F("start_date")),
                name="measure_actual_end_after_start",
                violation_error_message=_("La fin effective doit suivre le début."),
            ),
            models.CheckConstraint(
                condition=Q(actual_end_date__isnull=True, end_reason="")
                | Q(actual_end_date__isnull=False) & ~Q(end_reason=""),
                name="measure_end_reason_with_end",
                violation_error_message=_(
                    "Une mesure terminée a un motif de fin, et seulement elle."
                ),
            ),
            models.CheckConstraint(
                condition=Q(tig_hours__isnull=True)
                | Q(tig_hours__gte=TIG_HOURS_FLOOR, tig_hours__lte=TIG_HOURS_CEILING),
                name="measure_tig_hours_range",
                violation_error_message=_(
                    "Les heures de TIG doivent être comprises entre 20 et 400."
                ),
            ),
            models.CheckConstraint(
                condition=Q(tig_hours__isnull=True, tig_hours_done=0)
                | Q(tig_hours_done__lte=F("tig_hours")),
                name="measure_tig_hours_done_within_ordered",
                violation_error_message=_(
                    "Les heures effectuées ne peuvent dépasser les heures prononcées."
                ),
            ),
            models.CheckConstraint(
                condition=Q(followed_by=FollowedBy.SERVICE, partner__isnull=True)
                | Q(followed_by=FollowedBy.PARTNER, partner__isnull=False),
                name="measure_partner_iff_followed_by_partner",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "actual_end_date"]),
            models.Index(fields=["measure_type", "actual_end_date"]),
            models.Index(fields=["court", "judgment_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.measure_type.code} du {self.judgment_date:%d/%m/%Y}"


class ImposedObligationQuerySet(access.ScopedQuerySet):
    rule = staticmethod(access.measure_q)
    path = "measure__"


class ImposedObligation(models.Model):
    measure = models.ForeignKey(
        Measure, on_delete=models.CASCADE, related_name="obligations", verbose_name=_("mesure")
    )
    obligation_type = models.ForeignKey(
        ObligationType, on_delete=models.PROTECT, related_name="+", verbose_name=_("obligation")
    )
    details = models.CharField(_("précisions"), max_length=255, blank=True)

    objects = ImposedObligationQuerySet.as_manager()

    class Meta:
        verbose_name = _("obligation imposée")
        verbose_name_plural = _("obligations imposées")
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "obligation_type"], name="imposedobligation_once_per_measure"
            )
        ]

    def __str__(self) -> str:
        return str(self.obligation_type)
