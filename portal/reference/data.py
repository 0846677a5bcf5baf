"""Reference data: the organisation and the default policy. The catalogues (services,
measure and obligation types, deadline rules) are the CSV files beside this module, one row
a line, columns named after the model's fields.

Loaded by ``manage.py load_reference`` (idempotent). Where DOMAIN.md marks a legal fact
[check], the row carries ``needs_legal_check`` so that it shows as to be verified.
"""

from datetime import date
from decimal import Decimal
from typing import Any

INTERREGIONAL_UNITS = [
    ("BORDEAUX", "DISP de Bordeaux"),
    ("DIJON", "DISP de Dijon"),
    ("LILLE", "DISP de Lille"),
    ("LYON", "DISP de Lyon"),
    ("MARSEILLE", "DISP de Marseille"),
    ("PARIS", "DISP de Paris"),
    ("RENNES", "DISP de Rennes"),
    ("STRASBOURG", "DISP de Strasbourg"),
    ("TOULOUSE", "DISP de Toulouse"),
    ("MOM", "Mission des services pénitentiaires de l'outre-mer"),
]

# Services outside Europe/Paris, with their IANA zone.
TIME_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}

# Subdivisions of the `holidays` package's France calendar (Alsace-Moselle, overseas).
HOLIDAY_SUBDIVISIONS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
    "987": "PF",
    "988": "NC",
}

WORKLOAD_POLICY: dict[str, Any] = {
    "name": "Normes APPA (par défaut)",
    "valid_from": date(2020, 1, 1),
    "weight_high": Decimal("0.05000"),  # 1/20
    "weight_moderate": Decimal("0.02000"),  # 1/50
    "weight_low": Decimal("0.00500"),  # 1/200
    "weight_not_assessed": Decimal("0.02000"),  # declared default: as moderate until assessed
    "interval_reinforced_days": 14,
    "interval_standard_days": 30,
    "interval_light_days": 90,
    "threshold_amber": 90,
    "threshold_red": 110,
}

REFERENCE_NORMS = [
    ("SWEDEN", "Suède", 25, "Comparaison internationale citée par la fiche 8"),
    ("EUROPE", "Norme européenne", 60, "Conseil de l'Europe ; objectif du Sénat (2023)"),
    (
        "FRANCE_2011",
        "Moyenne nationale 2011",
        82,
        "Inspection 2011 : 86 en milieu ouvert, 73 en milieu fermé",
    ),
]
