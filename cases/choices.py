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


class TransferStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposé par le service d'origine")
    REQUESTED = "requested", _("Demandé par le service d'accueil")
    ACCEPTED = "accepted", _("Accepté")
    REFUSED = "refused", _("Refusé")
    CANCELLED = "cancelled", _("Annulé")


OPEN_TRANSFER_STATUSES = (TransferStatus.PROPOSED, TransferStatus.REQUESTED)


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


# An interview that counts as a contact held: the person came, on time or late. The one
# definition for first and last contact, the alerts, the delays and the reports.
CONTACT = (Attendance.PRESENT, Attendance.LATE)


class IncidentStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Transmis au juge")


class AlertSeverity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Attention")
    CRITICAL = "critical", _("Critique")


class MissedReaction(models.TextChoices):
    NEW_CONVOCATION = "new_convocation", _("Nouvelle convocation")
    PHONE_CALL = "phone_call", _("Appel téléphonique")
    LETTER = "letter", _("Courrier")
    INCIDENT_REPORT = "incident_report", _("Rapport d'incident")


class ReportKind(models.TextChoices):
    EVALUATION = "evaluation", _("Rapport d'évaluation")
    END_OF_MEASURE = "end", _("Rapport de fin de mesure")
    YEARLY = "yearly", _("Rapport annuel")
    INCIDENT = "incident", _("Rapport d'incident")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Transmis")


class AlertType(models.TextChoices):
    LATE_START = "late_start", _("Prise en charge tardive")
    NO_CONVOCATION = "no_convocation", _("Aucune convocation émise")
    AWAITING_ALLOCATION = "awaiting_allocation", _("Dossier non attribué")
    MISSED_NO_REACTION = "missed_no_reaction", _("Absence sans réaction")
    OUTCOME_MISSING = "outcome_missing", _("Issue de convocation non saisie")
    CONTACT_OVERDUE = "contact_overdue", _("Contact en retard")
    NO_NEXT_APPOINTMENT = "no_next_appointment", _("Aucun prochain rendez-vous")
    REPEATED_BREACHES = "repeated_breaches", _("Absences répétées non signalées")
    REPORT_DUE = "report_due", _("Rapport à rendre")
    TIG_AT_RISK = "tig_at_risk", _("TIG en retard")
    TIG_ABSENCE = "tig_absence", _("Absence non excusée au TIG")
    RELEASE_NO_APPOINTMENT = "release_no_appointment", _("Sortie proche sans rendez-vous")
    RELEASE_NO_CONTACT = "release_no_contact", _("Sortie sans premier contact dans le délai")
    ASSESSMENT_DUE = "assessment_due", _("Évaluation du risque à faire")
    MEASURE_EXPIRED = "measure_expired", _("Mesure échue : clôturer ou prolonger")
    REFERRAL_UNANSWERED = "referral_unanswered", _("Orientation sans réponse du partenaire")
