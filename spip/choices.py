from django.db import models
from django.utils.translation import gettext_lazy as _


class AntennaKind(models.TextChoices):
    MIXED = "mixed", _("Mixte (milieu ouvert et fermé)")
    OPEN = "mo", _("Milieu ouvert")
    CLOSED = "mf", _("Milieu fermé")


class PrisonKind(models.TextChoices):
    MAISON_ARRET = "ma", _("Maison d'arrêt")
    CENTRE_DETENTION = "cd", _("Centre de détention")
    CENTRE_PENITENTIAIRE = "cp", _("Centre pénitentiaire")
    MAISON_CENTRALE = "mc", _("Maison centrale")
    SEMI_LIBERTE = "csl", _("Centre de semi-liberté")


class Role(models.TextChoices):
    CPIP = "cpip", _("CPIP")
    DPIP = "dpip", _("DPIP (chef d'antenne)")
    DSPIP = "dspip", _("DSPIP (directeur de service)")
    SECRETARY = "secretary", _("Secrétariat")
    PSYCHOLOGIST = "psychologist", _("Psychologue")
    EM_OFFICER = "em_officer", _("Surveillant PSE/DDSE")
    BEX_CLERK = "bex", _("Greffe du BEX")
    SAP_CLERK = "sap", _("Greffe du SAP / JAP")
    DISP = "disp", _("Direction interrégionale (DISP)")
    DAP = "dap", _("Administration centrale (DAP)")
    PARTNER = "partner", _("Partenaire")
    ADMIN = "admin", _("Administrateur")


class Assignment(models.TextChoices):
    OPEN = "mo", _("Milieu ouvert")
    CLOSED = "mf", _("Milieu fermé")
    BOTH = "both", _("Mixte")


class AuditAction(models.TextChoices):
    VIEW = "view", _("Consultation")
    CREATE = "create", _("Création")
    UPDATE = "update", _("Modification")
    DELETE = "delete", _("Suppression")
    DENIED = "denied", _("Tentative refusée")
    LOGIN = "login", _("Connexion")
    LOGOUT = "logout", _("Déconnexion")
    LOGIN_FAILED = "login_failed", _("Échec de connexion")
    LOCKOUT = "lockout", _("Compte verrouillé")
    LIST = "list", _("Consultation d'une liste")
    SEARCH = "search", _("Recherche de personne")
    ACCESS_REQUEST = "access_request", _("Droit d'accès : communication à la personne")
    IMPORT = "import", _("Import d'un portefeuille")
