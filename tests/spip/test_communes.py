"""The commune → service table: routing by postal code and name, Corsica and overseas
included, and its CSV load (idempotent, refusing what it cannot place)."""

import pytest

from spip.communes import communes_load, competent_service, department_of_postal_code
from spip.models import Commune

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("postal_code", "department"),
    [
        ("69003", "69"),
        ("01000", "01"),
        ("20000", "2A"),  # Ajaccio
        ("20137", "2A"),  # Porto-Vecchio
        ("20200", "2B"),  # Bastia
        ("98800", "988"),  # Nouméa
        ("20600", "2B"),  # Furiani
        ("97110", "971"),  # Pointe-à-Pitre
        ("97400", "974"),  # Saint-Denis de La Réunion
        ("97600", "976"),  # Mamoudzou
        ("6900", None),
        ("ABCDE", None),
    ],
)
def test_the_department_read_from_a_postal_code(postal_code, department):
    assert department_of_postal_code(postal_code) == department


def test_the_table_routes_first_then_the_postal_code(reference):
    # Loaded with the reference data: Villeurbanne is in the table.
    service, antenna = competent_service("69100", "VILLEURBANNE")
    assert (service.code, antenna) == ("69", None)
    service, _antenna = competent_service("20200", "Bastia")
    assert service.code == "2B"
    service, _antenna = competent_service("97300", "Cayenne")
    assert service.code == "973"
    # Not in the table: the postal code's département.
    assert competent_service("20137", "Porto-Vecchio")[0].code == "2A"
    assert competent_service("33000", "Bordeaux")[0].code == "33"
    assert competent_service("", "")[0] is None


def test_loading_the_same_file_twice_changes_nothing_and_bad_rows_are_refused(world):
    lines = [
        "insee_code;name;postal_code;antenna",
        "69286;Rillieux-la-Pape;69140;Antenne de Lyon",
        "2A247;Porto-Vecchio;20137;",
        "99999;Nulle part;99999;",  # no such département
        "69290;Saint-Priest;69800;Antenne inconnue",
    ]
    counts = communes_load(lines)
    assert (counts["created"], counts["refused"]) == (2, 2)
    assert Commune.objects.get(insee_code="69286").antenna == world.antenna
    assert Commune.objects.get(insee_code="2A247").service.code == "2A"
    again = communes_load(lines)
    assert (again["created"], again["updated"]) == (0, 0)
