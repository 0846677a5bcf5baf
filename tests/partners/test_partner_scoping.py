"""Need to know for partners' TIG and pre-sentencing objects, in the pages and the API:
the host sees its own posts, the people placed on them and their sessions, nothing else
of the file; another body or another service gets 404 whatever id it guesses."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from measures.models import MeasureType
from partners import presentencing, tig
from partners.models import Convention, PartnerBody, TigPost, TigSession
from spip.choices import Role
from tests.factories import AgentFactory, MeasureFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    relais = PartnerBody.objects.get(name="Association Le Relais")
    relais.services.add(world.service)
    other_body = PartnerBody.objects.create(name="Régie de quartier", kind="tig_host")
    other_body.services.add(world.service)
    other_staff = AgentFactory(
        user=UserFactory(username="other_partner"), role=Role.PARTNER, partner=other_body
    )
    post = TigPost.objects.create(
        partner=relais, title="Espaces verts", place="Gerland", places=3, tutor_name="M. Perrin"
    )
    other_post = TigPost.objects.create(
        partner=other_body, title="Peinture", place="Vénissieux", tutor_name="Mme Roux"
    )
    today = timezone.localdate()
    measure = MeasureFactory(
        case=world.cases["mine"],
        court=world.court,
        measure_type=MeasureType.objects.get(code="TIG"),
        judgment_date=today - timedelta(days=60),
        tig_hours=40,
        tig_deadline=today + timedelta(days=300),
    )
    placement = tig.tig_place(
        actor=world.users["cpip"], measure=measure, post=post, starts_on=today - timedelta(days=30)
    )
    tig.tig_sessions_record(
        actor=world.users["partner"],
        on=today - timedelta(days=7),
        starts_at=time(9, 0),
        ends_at=time(12, 0),
        rows=[tig.SessionInput(placement=placement, outcome="done")],
    )
    Convention.objects.create(
        partner=relais,
        kind="mandate",
        mandate="cjse",
        court=world.court,
        starts_on=date(2024, 1, 1),
        places=10,
    )
    record = presentencing.presentencing_record(
        actor=world.users["partner"],
        mandate="cjse",
        birth_name=world.cases["mine"].person.birth_name,
        first_names=world.cases["mine"].person.first_names,
        birth_date=world.cases["mine"].person.birth_date,
        starts_on=today - timedelta(days=100),
        summary="Synthèse",
    )
    return {
        "post": post,
        "other_post": other_post,
        "placement": placement,
        "session": TigSession.objects.get(),
        "record": record,
        "other_staff": other_staff.user,
    }


def test_the_host_sees_its_posts_and_people_and_nothing_else_of_the_file(world, setup, client_for):
    placement = setup["placement"]
    client = client_for(world.users["partner"])
    posts = client.get("/orientations/tig/").content.decode()
    assert "Espaces verts" in posts and "Peinture" not in posts
    page = client.get(f"/orientations/tig/placements/{placement.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert str(world.cases["mine"].person) in html
    assert "3 h" in html  # done
    assert world.cases["mine"].get_risk_level_display() not in html
    assert client.get(f"/dossiers/{world.cases['mine'].pk}/").status_code == 403


@pytest.mark.parametrize("key", ["other_partner", "cpip_other", "dspip_other"])
def test_another_body_or_service_gets_404_on_a_placement_and_a_post(world, setup, client_for, key):
    user = setup["other_staff"] if key == "other_partner" else world.users[key]
    client = client_for(user)
    placement, post = setup["placement"], setup["post"]
    assert client.get(f"/orientations/tig/placements/{placement.pk}/").status_code == 404
    assert client.get(f"/orientations/tig/placements/{placement.pk + 1000}/").status_code == 404
    answer = client.post(
        f"/orientations/tig/placements/{placement.pk}/",
        {"on": timezone.localdate().isoformat(), "starts_at": "09:00", "ends_at": "10:00",
         "outcome": "done"},
    )  # fmt: skip
    assert answer.status_code == 404
    if key == "other_partner":
        assert client.get(f"/orientations/tig/postes/{post.pk}/seance/").status_code == 404
    assert TigSession.objects.count() == 1


def test_the_court_sees_no_tig_page(world, setup, client_for):
    client = client_for(world.users["bex"])
    assert client.get("/orientations/tig/").status_code == 403
    assert client.get(f"/orientations/tig/placements/{setup['placement'].pk}/").status_code == 403


@pytest.mark.parametrize(
    ("key", "posts", "placements", "sessions", "records", "conventions"),
    [
        # written by hand from the fixture: one post each body, one placement, one
        # session, one pre-sentencing record (not yet handed over), one convention.
        ("partner", 1, 1, 1, 1, 1),
        ("other_partner", 1, 0, 0, 0, 0),
        ("cpip", 2, 1, 1, 0, 1),
        ("cpip_other", 2, 0, 0, 0, 1),
        ("bex", 2, 0, 0, 0, 1),
    ],
)
def test_the_api_lists_what_each_role_may_see(
    world, setup, api_for, key, posts, placements, sessions, records, conventions
):
    api = api_for(setup["other_staff"] if key == "other_partner" else world.users[key])

    def count(url):
        answer = api.get(url)
        assert answer.status_code == 200, answer.content
        return answer.json()["count"]

    assert count("/api/v1/tig-posts/") == posts
    assert count("/api/v1/tig-placements/") == placements
    assert count("/api/v1/tig-sessions/") == sessions
    assert count("/api/v1/presentencing/") == records
    assert count("/api/v1/conventions/") == conventions


def test_the_api_answers_404_to_guessed_ids_and_400_with_field_errors(world, setup, api_for):
    placement, session = setup["placement"], setup["session"]
    stranger = api_for(setup["other_staff"])
    assert stranger.get(f"/api/v1/tig-placements/{placement.pk}/").status_code == 404
    assert stranger.get(f"/api/v1/tig-sessions/{session.pk}/").status_code == 404
    assert stranger.get(f"/api/v1/presentencing/{setup['record'].pk}/").status_code == 404
    body = {
        "on": timezone.localdate().isoformat(),
        "starts_at": "09:00",
        "ends_at": "10:00",
        "rows": [{"placement": placement.pk, "outcome": "done"}],
    }
    assert stranger.post("/api/v1/tig-sessions/", body, format="json").status_code == 404
    host = api_for(world.users["partner"])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    answer = host.post("/api/v1/tig-sessions/", {**body, "on": tomorrow}, format="json")
    assert answer.status_code == 400
    assert "on" in answer.json()
    first = host.post("/api/v1/tig-sessions/", body, format="json")
    again = host.post("/api/v1/tig-sessions/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["id"] == again.json()[0]["id"]
    assert first.json()[0]["minutes"] == 60
    ledger = host.get(f"/api/v1/tig-placements/{placement.pk}/").json()
    assert (ledger["minutes_done"], ledger["minutes_remaining"]) == (240, 2160)


def test_the_cpip_confirms_a_handover_through_the_api(world, setup, api_for):
    record = setup["record"]
    cpip, colleague_elsewhere = api_for(world.users["cpip"]), api_for(world.users["cpip_other"])
    url = f"/api/v1/presentencing/{record.pk}/handover/"
    assert colleague_elsewhere.post(url, {"case": world.cases["mine"].pk}).status_code == 404
    assert cpip.post(url, {"case": world.cases["colleague"].pk}).status_code == 404
    answer = cpip.post(url, {"case": world.cases["mine"].pk})
    assert answer.status_code == 200, answer.content
    assert answer.json()["case"] == world.cases["mine"].pk
    assert api_for(world.users["cpip"]).get("/api/v1/presentencing/").json()["count"] == 1


def test_the_api_takes_any_filter_value_without_a_server_error(world, setup, api_for):
    api = api_for(world.users["cpip"])
    huge = "-1519201474540204671893504"
    for url in (
        f"/api/v1/partners/?service={huge}",
        f"/api/v1/partners/?service=abc&kind={huge}",
        f"/api/v1/tig-placements/?post={huge}&measure={huge}",
        f"/api/v1/tig-sessions/?placement={huge}&on=zzz",
        f"/api/v1/conventions/?partner={huge}",
        f"/api/v1/presentencing/?case={huge}",
    ):
        assert api.get(url).status_code in (200, 400), url


def test_session_times_read_and_write_as_hours_and_minutes(world, setup, api_for):
    session = api_for(world.users["partner"]).get(f"/api/v1/tig-sessions/{setup['session'].pk}/")
    assert (session.json()["starts_at"], session.json()["ends_at"]) == ("09:00", "12:00")


def test_a_huge_id_in_a_body_is_a_400_not_a_server_error(world, setup, api_for):
    huge = 10**30
    host = api_for(world.users["partner"])
    body = {
        "on": timezone.localdate().isoformat(),
        "starts_at": "09:00",
        "ends_at": "10:00",
        "rows": [{"placement": huge, "outcome": "done"}],
    }
    assert host.post("/api/v1/tig-sessions/", body, format="json").status_code == 400
    director = api_for(world.users["dspip"])
    for url, data in (
        ("/api/v1/duplicates/", {"kept": huge, "merged": 1, "reason": "x"}),
        ("/api/v1/transfers/", {"case": 1, "to_service": huge, "reason": "x"}),
        ("/api/v1/tig-placements/", {"measure": huge, "post": 1, "starts_on": "2026-01-01"}),
    ):
        assert director.post(url, data, format="json").status_code == 400, url
