from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerKind(models.TextChoices):
    ASSOCIATION = "association", _("Association")
    PUBLIC_BODY = "public", _("Organisme public")
    TIG_HOST = "tig_host", _("Structure d'accueil TIG")


class Domain(models.TextChoices):
    HOUSING = "housing", _("Hébergement, logement")
    EMPLOYMENT = "employment", _("Emploi, formation")
    HEALTH = "health", _("Santé, addictions")
    RIGHTS = "rights", _("Accès aux droits")
    JUDICIAL = "judicial", _("Mandat judiciaire")
    VIOLENCE = "violence", _("Violences conjugales")
    TIG = "tig", _("Travail d'intérêt général")


class ConventionKind(models.TextChoices):
    JUDICIAL_MANDATE = "mandate", _("Mandat judiciaire")
    SOCIAL_SUPPORT = "support", _("Accompagnement social")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Proposée")
    ACCEPTED = "accepted", _("Acceptée")
    REFUSED = "refused", _("Refusée")
    FIRST_CONTACT = "contacted", _("Premier contact")
    IN_PROGRESS = "ongoing", _("En cours")
    ENDED = "ended", _("Terminée")
    ABANDONED = "abandoned", _("Abandonnée")


# The referral's workflow: from each state, where it may go. Refused, ended and abandoned
# referrals are closed. A progress note is not a step: it is written while in progress.
REFERRAL_STEPS = {
    ReferralStatus.SENT: {
        ReferralStatus.ACCEPTED,
        ReferralStatus.REFUSED,
        ReferralStatus.ABANDONED,
    },
    ReferralStatus.ACCEPTED: {ReferralStatus.FIRST_CONTACT, ReferralStatus.ABANDONED},
    ReferralStatus.FIRST_CONTACT: {
        ReferralStatus.IN_PROGRESS,
        ReferralStatus.ENDED,
        ReferralStatus.ABANDONED,
    },
    ReferralStatus.IN_PROGRESS: {ReferralStatus.ENDED, ReferralStatus.ABANDONED},
}
OPEN_REFERRAL_STATUSES = tuple(REFERRAL_STEPS)


class MandateKind(models.TextChoices):
    """What a judicial-mandate convention entrusts to the association."""

    SOCIO_EDUCATIONAL = "cjse", _("Contrôle judiciaire socio-éducatif")
    SOCIAL_INQUIRY = "esr", _("Enquête sociale rapide")
    DOMESTIC_VIOLENCE = "471", _("Suivi probatoire violences conjugales (471 CPP)")
    OUTSIDE_PLACEMENT = "pe", _("Placement extérieur")
    MEDIATION = "mediation", _("Médiation pénale")


# Pre-sentencing mandates: what the association did before the judgment.
PRESENTENCING_MANDATES = (
    MandateKind.SOCIO_EDUCATIONAL,
    MandateKind.SOCIAL_INQUIRY,
    MandateKind.MEDIATION,
)
PRESENTENCING_MANDATE_CHOICES = [(m.value, m.label) for m in PRESENTENCING_MANDATES]


class TigOutcome(models.TextChoices):
    DONE = "done", _("Effectuée")
    EXCUSED = "excused", _("Absence excusée")
    UNEXCUSED = "unexcused", _("Absence non excusée")
    SENT_HOME = "sent_home", _("Renvoyé(e) par le tuteur")


class Rating(models.TextChoices):
    GOOD = "good", _("Bon")
    FAIR = "fair", _("Correct")
    POOR = "poor", _("Insuffisant")
