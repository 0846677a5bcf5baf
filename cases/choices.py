from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "F", _("Femme")
    MALE = "M", _("Homme")


class CaseStatus(models.TextChoices):
    AWAITING_ALLOCATION = "awaiting", _("En attente d'attribution")
    ACTIVE = "active", _("En cours")
    SUSPENDED = "suspended", _("Suspendu")
    CLOSED = "closed", _("Clos")
    ARCHIVED = "archived", _("Archivé")


OPEN_STATUSES = (CaseStatus.AWAITING_ALLOCATION, CaseStatus.ACTIVE, CaseStatus.SUSPENDED)


class CaseSetting(models.TextChoices):
    OPEN = "mo", _("Milieu ouvert")
    CLOSED = "mf", _("Milieu fermé")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("Élevé")
    MODERATE = "moderate", _("Modéré à élevé")
    LOW = "low", _("Faible")
    NOT_ASSESSED = "not_assessed", _("Non évalué")


class Intensity(models.TextChoices):
    REINFORCED = "renforce", _("Renforcé")
    STANDARD = "standard", _("Standard")
    LIGHT = "allege", _("Allégé")


class AgendaKind(models.TextChoices):
    SPIP = "spip", _("SPIP")
    SAP = "sap", _("SAP (juge de l'application des peines)")


class ConvocationType(models.TextChoices):
    END_OF_HEARING = "end_of_hearing", _("Convocation fin d'audience (SPIP)")
    JAP = "jap", _("Convocation devant le JAP")
    FIRST_FOLLOW_UP = "first", _("Premier entretien de suivi")
    FOLLOW_UP = "follow_up", _("Entretien de suivi")
    RELEASE_741_1 = "release", _("Sortie de détention (741-1)")
    TIG_PLACEMENT = "tig", _("Placement TIG")
    HOME_VISIT = "home_visit", _("Visite à domicile")
    PHONE = "phone", _("Entretien téléphonique")


class ConvocationStatus(models.TextChoices):
    BOOKED = "booked", _("Programmée")
    HONOURED = "honoured", _("Honorée")
    MISSED = "missed", _("Non honorée")
    EXCUSED = "excused", _("Excusée")
    CANCELLED = "cancelled", _("Annulée")


class IssuedFrom(models.TextChoices):
    BEX = "bex", _("BEX")
    SPIP = "spip", _("SPIP")
    SAP = "sap", _("SAP")


class InterviewKind(models.TextChoices):
    OFFICE = "office", _("Au service")
    PHONE = "phone", _("Téléphonique")
    HOME_VISIT = "home_visit", _("Visite à domicile")
    VIDEO = "video", _("Visioconférence")
    IN_PRISON = "in_prison", _("En détention")


class Attendance(models.TextChoices):
    PRESENT = "present", _("Présent")
    ABSENT = "absent", _("Absent")
    LATE = "late", _("En retard")


class IncidentStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Transmis au juge")


class AlertSeverity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Attention")
    CRITICAL = "critical", _("Critique")
