"""The directors' list of cases: what they choose a reassignment with (measure, intensity,
last contact, next appointment, open alerts), sortable, in a fixed number of queries."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import Attendance, Intensity
from cases.models import Alert, Convocation, Interview
from tests.factories import CaseFactory, MeasureFactory

pytestmark = pytest.mark.django_db


def _contact(case, agent, days_ago: int):
    Interview.objects.create(
        case=case,
        agent=agent,
        held_at=timezone.now() - timedelta(days=days_ago),
        kind="follow_up",
        duration_minutes=30,
        attendance=Attendance.PRESENT,
    )


def _rows(html: str) -> list[str]:
    """The persons' names in the order of the table's rows."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'href="/dossiers/\d+/">([^<]+)</a>', body)


@pytest.fixture
def listed(world):
    mine, colleague = world.cases["mine"], world.cases["colleague"]
    _contact(mine, world.agents["cpip"], days_ago=3)
    _contact(colleague, world.agents["cpip2"], days_ago=40)
    colleague.intensity = Intensity.REINFORCED
    colleague.save(update_fields=["intensity"])
    Convocation.objects.create(
        case=mine,
        kind="follow_up",
        starts_at=timezone.make_aware(datetime(2031, 5, 6, 14, 30)),
        issued_from="spip",
    )
    Alert.objects.create(
        alert_type="contact_overdue",
        severity="warning",
        case=colleague,
        agent=world.agents["cpip2"],
        rule="test",
        dedup_key="t1",
        opened_at=timezone.now(),
    )
    return mine, colleague


def test_a_head_of_antenna_sees_what_they_reassign_with(world, listed, client_for):
    mine, colleague = listed
    html = client_for(world.users["dpip"]).get(reverse("cases:list")).content.decode()
    row = html.split(str(colleague.person), 1)[1].split("</tr>", 1)[0]
    assert ">SP</abbr>" in row
    assert "Renforcé" in row
    assert (timezone.localdate() - timedelta(days=40)).strftime("%d/%m/%Y") in row
    assert "aucun" in row  # no next appointment
    assert 'fr-badge--warning">1<' in row
    mine_row = html.split(str(mine.person), 1)[1].split("</tr>", 1)[0]
    assert "06/05/2031 14:30" in mine_row
    assert "—</td>" in mine_row  # no open alert


def test_columns_sort_both_ways_with_the_empty_last(world, listed, client_for):
    mine, colleague = listed
    arrival = world.cases["arrival"]  # never met: no last contact
    client = client_for(world.users["dpip"])
    url = reverse("cases:list")
    names = [str(c.person) for c in (mine, colleague, arrival)]

    # Oldest contact first, and before it whoever was never met (the most urgent).
    oldest_first = _rows(client.get(url, {"tri": "dernier_contact"}).content.decode())
    assert oldest_first == [names[2], names[1], names[0]]
    newest_first = _rows(client.get(url, {"tri": "-dernier_contact"}).content.decode())
    assert newest_first == [names[0], names[1], names[2]]
    most_alerts = _rows(client.get(url, {"tri": "-alertes"}).content.decode())
    assert most_alerts[0] == names[1]
    page = client.get(url, {"tri": "-dernier_contact"}).content.decode()
    assert 'aria-sort="descending"' in page


def test_an_unknown_sort_falls_back_to_the_names(world, listed, client_for):
    response = client_for(world.users["dpip"]).get(reverse("cases:list"), {"tri": "id;drop"})
    assert response.status_code == 200
    assert 'aria-sort="' not in response.content.decode()


def test_the_list_costs_the_same_for_more_cases(
    world, listed, client_for, django_assert_num_queries
):
    client = client_for(world.users["dspip"])
    url = reverse("cases:list")
    client.get(url)  # warm the session and the scope
    with django_assert_num_queries(7) as few:
        client.get(url, {"tri": "prochain_rdv"})
    for _ in range(6):
        MeasureFactory(case=CaseFactory(antenna=world.antenna, referent=world.agents["cpip"]))
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url, {"tri": "prochain_rdv"})


def test_the_allocation_page_shows_the_arrivals_measure_and_obligations(world, client_for):
    from measures.models import ImposedObligation, ObligationType

    arrival = world.cases["arrival"]
    measure = arrival.measures.get()
    for code in ("S-SOINS", "G-CONVOC"):
        ImposedObligation.objects.create(
            measure=measure, obligation_type=ObligationType.objects.get(code=code)
        )
    html = (
        client_for(world.users["dpip"])
        .get(reverse("workload:allocate", args=[arrival.pk]))
        .content.decode()
    )
    section = html.split('id="measures-title"', 1)[1].split("</section>", 1)[0]
    assert "Sursis probatoire" in section
    # The general obligation (132-44) comes before the particular one (132-45).
    assert section.index("Répondre aux convocations") < section.index("soins")
    assert "132-44" in section and "132-45" in section


def test_a_director_is_offered_to_allocate_an_arrival_not_to_record_its_interview(
    world, client_for
):
    arrival = world.cases["arrival"]
    Alert.objects.create(
        alert_type="late_start",
        severity="critical",
        case=arrival,
        rule="Prise en charge tardive",
        dedup_key="late-arrival",
        opened_at=timezone.now(),
    )
    html = client_for(world.users["dpip"]).get("/").content.decode()
    groups = html.split('data-testid="alert-groups"', 1)[1]
    assert reverse("workload:allocate", args=[arrival.pk]) in groups
    assert "Saisir l&#x27;entretien" not in groups and "Saisir l'entretien" not in groups
