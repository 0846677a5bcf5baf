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
