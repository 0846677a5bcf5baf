"""Alerts follow the case: whoever answers for it holds its open alerts, at once.

Hand-built: one antenna of the Rhône with two CPIPs (Anne, Bruno), its head (DPIP) and the
service's director (DSPIP); one person sentenced on 16 April 2026 (sursis probatoire, free)
whose file arrives unallocated. On Monday 15 June 2026 the file has, by the rules:
- late_start: 45 days from 16 April end on Sunday 31 May, run to Monday 1 June; no contact;
- no_convocation: none issued 10 days after the judgment;
- awaiting_allocation: arrived 60 days ago (setting: 8), not allocated.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from cases.alerts.services import alerts_refresh
from cases.files import services as case_services
from cases.followup import services as followup_services
from cases.models import Alert, Case
from cases.workload import services as workload_services
from portal.selectors import open_alerts
from reporting import snapshots
from reporting.models import WorkloadSnapshot
from spip.choices import Role
from spip.models import Service
from tests.factories import AgentFactory, AntennaFactory, CaseFactory, MeasureFactory, UserFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 6, 15, 12, tzinfo=PARIS)
TODAY = date(2026, 6, 15)
JUDGED = date(2026, 4, 16)


@pytest.fixture
def team(reference):
    lyon = Service.objects.get(code="69")
    antenna = AntennaFactory(service=lyon, name="Antenne de Vénissieux")

    def agent(name, role, **kw):
        return AgentFactory(user=UserFactory(username=name), role=role, **kw)

    people = {
        "anne": agent("anne", Role.CPIP, antenna=antenna),
        "bruno": agent("bruno", Role.CPIP, antenna=antenna),
        "head": agent("chef", Role.DPIP, antenna=antenna),
        "director": agent("directrice", Role.DSPIP, service=lyon),
    }
    with time_machine.travel(MONDAY, tick=False):
        case = CaseFactory(antenna=antenna, referent=None, opened_on=JUDGED, risk_level="high")
        MeasureFactory(case=case, judgment_date=JUDGED, start_date=JUDGED)
    return antenna, people, case


def holders(case) -> dict[str, int | None]:
    return dict(
        Alert.objects.filter(case=case, closed_at__isnull=True).values_list(
            "alert_type", "agent_id"
        )
    )


def test_alerts_follow_allocation_reassignment_cover_its_end_and_departure(team, client_for):
    antenna, people, case = team
    anne, bruno, head, director = (people[k] for k in ("anne", "bruno", "head", "director"))
    with time_machine.travel(MONDAY, tick=False):
        alerts_refresh()
        # An arrival: nobody holds its alerts yet.
        assert holders(case) == {
            "late_start": None,
            "no_convocation": None,
            "awaiting_allocation": None,
        }

        # Allocation: the three open alerts go to Anne in the same transaction.
        case = workload_services.case_allocate(
            actor=head.user, case=case, referent=anne, reason="Secteur géographique"
        )
        assert set(holders(case).values()) == {anne.pk}
        # The next run closes "not allocated" and opens "no next appointment", for Anne.
        alerts_refresh()
        assert holders(case) == {
            "late_start": anne.pk,
            "no_convocation": anne.pk,
            "no_next_appointment": anne.pk,
        }

        # Reassignment: Bruno holds them at once; they are on his home, no longer on Anne's.
        workload_services.case_reassign(
            actor=director.user, case=case, referent=bruno, reason="Équilibrage"
        )
        assert set(holders(case).values()) == {bruno.pk}
        assert open_alerts(bruno.user).filter(agent=bruno, case=case).count() == 3
        assert open_alerts(anne.user).filter(agent=anne).count() == 0

        # Snapshots count alerts by who holds them: Bruno 3, Anne 0, the antenna 3.
        snapshots.compute(day=TODAY)
        rows = dict(
            WorkloadSnapshot.objects.filter(day=TODAY, entity_type="agent").values_list(
                "agent_id", "open_alerts"
            )
        )
        assert (rows[bruno.pk], rows[anne.pk]) == (3, 0)
        assert (
            WorkloadSnapshot.objects.get(
                day=TODAY, entity_type="antenna", entity_id=antenna.pk
            ).open_alerts
            == 3
        )

        # Bruno is away since Saturday: Anne covers him, and holds his case's alerts.
        cover = followup_services.cover_create(
            actor=head.user,
            absent=bruno,
            covering=anne,
            starts_on=TODAY - timedelta(days=2),
            ends_on=TODAY + timedelta(days=5),
        )
        assert set(holders(case).values()) == {anne.pk}
        # He is back early: the cover ends yesterday, the alerts are his again.
        followup_services.cover_end(actor=head.user, cover=cover, on=TODAY)
        cover.refresh_from_db()
        assert cover.ends_on == TODAY - timedelta(days=1)
        assert set(holders(case).values()) == {bruno.pk}

        # A one-day cover today: Anne holds them today…
        followup_services.cover_create(
            actor=head.user, absent=bruno, covering=anne, starts_on=TODAY, ends_on=TODAY
        )
        assert set(holders(case).values()) == {anne.pk}
        # …and Bruno leaves the service tonight.
        bruno.active_to = TODAY
        bruno.save()

    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        # Tuesday: the cover has ended and Bruno has left. The job hands the three alerts
        # to the head of antenna, "sans référent", in one repair.
        counts = alerts_refresh()
        assert counts["moved"] == 3
        assert set(holders(case).values()) == {head.pk}
        assert set(
            Alert.objects.filter(case=case, closed_at__isnull=True).values_list(
                "without_referent", flat=True
            )
        ) == {True}
        assert alerts_refresh()["moved"] == 0  # a second run changes nothing
        # On the head of antenna's home, flagged, with the way out.
        html = client_for(head.user).get("/").content.decode()
        assert html.count('data-testid="without-referent"') == 3
        assert f"/tableaux/dossiers/{case.pk}/reaffecter/" in html

        # An antenna without a head: the service's director.
        head.active_to = TODAY
        head.save()
        alerts_refresh()
        assert set(holders(case).values()) == {director.pk}

        # The file is given to Anne again: the alerts are hers, no longer "sans référent".
        workload_services.case_reassign(
            actor=director.user, case=Case.objects.get(pk=case.pk), referent=anne, reason="Départ"
        )
        assert set(holders(case).values()) == {anne.pk}
        assert not Alert.objects.filter(
            case=case, closed_at__isnull=True, without_referent=True
        ).exists()


def test_a_new_alert_on_a_departed_agents_case_goes_to_the_head_of_antenna(team):
    antenna, people, case = team
    anne, head = people["anne"], people["head"]
    with time_machine.travel(MONDAY, tick=False):
        case_services.case_assign(actor=head.user, case=case, referent=anne, on=JUDGED)
        anne.active_to = TODAY - timedelta(days=1)
        anne.save()
        alerts_refresh()
        # Opened after her departure, never addressed to her: no contact since the
        # allocation on 16 April (standard follow-up, 30 days), no appointment to come; the
        # risk is assessed (high), so no "assessment due".
        assert holders(case) == {
            "late_start": head.pk,
            "no_convocation": head.pk,
            "no_next_appointment": head.pk,
            "contact_overdue": head.pk,
        }
        assert not Alert.objects.filter(agent=anne).exists()


def test_the_head_of_antenna_ends_a_cover_from_the_covers_page(team, client_for):
    antenna, people, case = team
    anne, bruno, head = people["anne"], people["bruno"], people["head"]
    with time_machine.travel(MONDAY, tick=False):
        case_services.case_assign(actor=head.user, case=case, referent=bruno, on=JUDGED)
        alerts_refresh()
        cover = followup_services.cover_create(
            actor=head.user,
            absent=bruno,
            covering=anne,
            starts_on=TODAY - timedelta(days=3),
            ends_on=TODAY + timedelta(days=10),
        )
        assert set(holders(case).values()) == {anne.pk}
        client = client_for(head.user)
        assert f"/interims/{cover.pk}/terminer/" in client.get("/interims/").content.decode()
        response = client.post(f"/interims/{cover.pk}/terminer/")
        assert response.status_code == 302
        cover.refresh_from_db()
        # Ended yesterday; Bruno holds his case's alerts again.
        assert cover.ends_on == TODAY - timedelta(days=1)
        assert set(holders(case).values()) == {bruno.pk}
        # A CPIP cannot end a cover; nobody signed out can.
        assert client_for(anne.user).post(f"/interims/{cover.pk}/terminer/").status_code == 403
        anonymous = Client().post(f"/interims/{cover.pk}/terminer/")
        assert (anonymous.status_code, anonymous["Location"][:11]) == (302, "/connexion/")
