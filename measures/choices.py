from django.db import models
from django.utils.translation import gettext_lazy as _


class MeasureCategory(models.TextChoices):
    PRE_SENTENCING = "pre", _("Présentenciel")
    SENTENCE = "sentence", _("Peine")
    ADJUSTMENT = "adjustment", _("Aménagement de peine")
    POST_SENTENCE = "post", _("Post-sentenciel")
    CUSTODY = "custody", _("Milieu fermé (détention)")


class Setting(models.TextChoices):
    OPEN = "mo", _("Milieu ouvert")
    UNDER_COMMITTAL = "ecrou", _("Sous écrou")
    CLOSED = "mf", _("Milieu fermé")


class EndReason(models.TextChoices):
    COMPLETED = "completed", _("Fin de mesure (exécutée)")
    REVOKED = "revoked", _("Révocation")
    NEW_CONVICTION = "new_conviction", _("Nouvelle condamnation")
    TRANSFERRED = "transferred", _("Transfert")
    OTHER = "other", _("Autre")


class FollowedBy(models.TextChoices):
    SERVICE = "service", _("Le SPIP")
    PARTNER = "partner", _("Une association (mandat judiciaire)")


class ObligationFamily(models.TextChoices):
    GENERAL = "general", _("Mesures de contrôle (132-44 CP)")
    SPECIAL = "special", _("Obligations particulières (132-45 CP)")
    JUDICIAL_CONTROL = "cj", _("Contrôle judiciaire (138 CPP)")


class ObligationGroup(models.TextChoices):
    CONTROL = "control", _("Contrôle")
    INSERTION = "insertion", _("Insertion")
    CARE = "care", _("Soins")
    PAYMENT = "payment", _("Paiements")
    PROHIBITION = "prohibition", _("Interdictions")
    DOMESTIC_VIOLENCE = "domestic_violence", _("Violences conjugales")
    SENTENCE = "sentence", _("Peines et stages")


class DeadlineTrigger(models.TextChoices):
    SENTENCE_FREE = "sentence_free", _("Condamnation, personne libre (fin d'audience)")
    RELEASE = "release", _("Sortie de détention")
    MEASURE_START = "measure_start", _("Début de la mesure")
    MEASURE_END = "measure_end", _("Fin prévue de la mesure")
    BREACH = "breach", _("Manquement constaté")


class DeadlineTarget(models.TextChoices):
    SPIP_CONVOCATION = "spip_convocation", _("Convocation devant le SPIP")
    JAP_CONVOCATION = "jap_convocation", _("Convocation devant le JAP")
    EVALUATION_REPORT = "evaluation_report", _("Rapport d'évaluation")
    END_REPORT = "end_report", _("Rapport de fin de mesure")
    YEARLY_REPORT = "yearly_report", _("Rapport annuel")
    INCIDENT_REPORT = "incident_report", _("Rapport d'incident")


class PeriodUnit(models.TextChoices):
    DAYS = "days", _("jours")
    MONTHS = "months", _("mois")
