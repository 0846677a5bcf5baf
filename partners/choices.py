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
    SENT = "sent", _("Adressée")
    ACCEPTED = "accepted", _("Acceptée")
    REFUSED = "refused", _("Refusée")
    ENDED = "ended", _("Terminée")
