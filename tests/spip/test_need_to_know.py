"""Need-to-know: court clerks search and never browse, nothing above the service names an
agent or a person, every read of personal data is traced, and what leaves the application
(exports, headers) is safe.

The ``world`` fixture (tests/conftest.py): Lyon (antennas A1 and A2, courts of Lyon and
Villefranche) and Marseille. The BEX clerk of Lyon recorded the "arrival" file.
"""

import io
import re
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import UserRateThrottle

from cases.followup import services as followup_services
from cases.models import Convocation, Person
from reporting import exports, snapshots
from spip.models import AuditEntry
from tests.cases.test_booking import future_slot
from tests.factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _interview(world, minutes_ago=60):

    return followup_services.interview_record(
        actor=world.users["cpip"],
        case=world.cases["mine"],
        agent=world.agents["cpip"],
        held_at=timezone.now() - timedelta(minutes=minutes_ago),
        kind="office",
        duration_minutes=30,
        attendance="present",
        notes="Notes",
    )


IDENTITY = {"id", "birth_name", "usage_name", "first_names", "birth_date", "birth_place", "commune"}


def _search(api, **params):
    return api.get("/api/v1/persons/search/", params)


# --- 1. Court clerks search, they do not browse -----------------------------------------


@pytest.mark.parametrize("persona", ["bex", "sap"])
def test_a_clerk_lists_no_one_without_a_search(world, api_for, persona):
    body = api_for(world.users[persona]).get("/api/v1/persons/?page_size=500").json()
    assert (body["count"], body["results"]) == (0, [])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"surname": "L", "birth_date": "1980-01-01"}, "surname"),
        ({"surname": "  - ", "first_name": "Jean"}, "surname"),
        ({"surname": "Lefèvre"}, "birth_date"),
        ({"surname": "Lefèvre", "first_name": "Z"}, "birth_date"),
        ({"surname": "Lefèvre", "birth_date": "31/02/1980"}, "birth_date"),
    ],
)
def test_the_search_needs_a_surname_and_a_birth_date_or_first_name(world, api_for, params, field):
    response = _search(api_for(world.users["bex"]), **params)
    assert response.status_code == 400
    assert field in response.json()
    assert not AuditEntry.objects.filter(action="search").exists()


def test_the_search_finds_a_known_person_with_identity_only_and_is_audited(world, api_for):
    person = world.cases["a2"].person  # a Lyon file the clerk did not record
    api = api_for(world.users["bex"])
    response = _search(api, surname=person.birth_name, birth_date=person.birth_date.isoformat())
    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [person.pk]
    assert set(rows[0]) == IDENTITY  # never address, phone, email, national number
    entry = AuditEntry.objects.get(action="search")
    assert (entry.username, entry.object_type, entry.service_id) == (
        "bex",
        "cases.person",
        world.service.pk,
    )
    assert entry.changes["lignes"] == 1
    assert entry.changes["ids"] == [person.pk]
    assert entry.changes["filtres"]["nom"] == person.birth_name
    # The file itself stays closed.
    assert api.get(f"/api/v1/persons/{person.pk}/").status_code == 404


def test_the_search_folds_accents_and_case_and_matches_a_first_name(world, api_for):
    person = PersonFactory(birth_name="Lefèvre-Dupré", first_names="Zoé Marie")
    CaseFactory(person=person, antenna=world.antenna2)
    found = _search(api_for(world.users["bex"]), surname="lefevre dupre", first_name="zoe").json()
    assert [row["id"] for row in found] == [person.pk]


def test_the_search_never_reaches_another_courts_services(world, api_for):
    person = world.cases["other"].person  # Marseille
    found = _search(
        api_for(world.users["bex"]),
        surname=person.birth_name,
        birth_date=person.birth_date.isoformat(),
    ).json()
    assert found == []


def test_the_search_returns_at_most_ten_candidates(world, api_for):
    for _ in range(12):
        CaseFactory(
            person=PersonFactory(birth_name="Martin", birth_date=timezone.datetime(1990, 5, 6)),
            antenna=world.antenna,
        )
    found = _search(api_for(world.users["bex"]), surname="Martin", birth_date="1990-05-06").json()
    assert len(found) == 10
    assert AuditEntry.objects.get(action="search").changes["lignes"] == 10


def test_a_person_the_clerk_recorded_stays_fully_readable(world, api_for):
    person = world.cases["arrival"].person
    body = api_for(world.users["bex"]).get(f"/api/v1/persons/{person.pk}/").json()
    assert body["address"] == person.address
    assert "phone" in body and "national_number" in body


def test_the_desk_search_shows_names_and_birth_dates_only(world, client_for):
    person = world.cases["a2"].person
    Person.objects.filter(pk=person.pk).update(phone="0611223344", address="12 rue Secrète")
    page = client_for(world.users["bex"]).get(
        "/bex/", {"nom": person.birth_name, "naissance": person.birth_date.isoformat()}
    )
    html = page.content.decode()
    assert person.first_names in html
    assert person.birth_date.strftime("%d/%m/%Y") in html
    assert "0611223344" not in html and "rue Secrète" not in html
    # Choosing the candidate prefills the identity, never the contact details.
    chosen = client_for(world.users["bex"]).get("/bex/", {"personne": person.pk}).content.decode()
    assert "rue Secrète" not in chosen and "0611223344" not in chosen


def test_the_desk_cannot_choose_a_person_it_did_not_find(world, client_for):
    person = world.cases["a2"].person
    html = client_for(world.users["bex"]).get("/bex/", {"personne": person.pk}).content.decode()
    assert person.first_names not in html


# --- 2. Above the service, figures are anonymous ------------------------------------------


def _identifiers(world, persona) -> set[str]:
    """Every agent's and person's name but the reader's own."""
    others = [a for key, a in world.agents.items() if key != persona]
    names = {a.user.username for a in others} | {a.user.last_name for a in others}
    for case in world.cases.values():
        names |= {case.person.birth_name, case.person.first_names}
    return {n for n in names if len(n) >= 4}


@pytest.mark.parametrize("persona", ["disp", "dap"])
def test_every_api_path_is_anonymous_for_the_region_and_the_nation(world, api_for, persona):
    """Walks every GET path of the OpenAPI schema (ids of every object of the world in the
    detail paths) and fails on any agent's or person's name or agent row."""
    # Names no reference label contains (a Faker surname can be a town: "Ferrand").
    for key, agent in world.agents.items():
        type(agent.user).objects.filter(pk=agent.user_id).update(last_name=f"Agentqx{key}")
        agent.user.last_name = f"Agentqx{key}"
    for key, case in world.cases.items():
        Person.objects.filter(pk=case.person_id).update(
            birth_name=f"Personqx{key}", first_names=f"Prenomqx{key}"
        )
        case.person.refresh_from_db()
    snapshots.compute()
    schema = api_for(world.users["admin"]).get("/api/schema/?format=json").json()
    ids = {str(x.pk) for x in [*world.cases.values(), *world.agents.values()]}
    ids |= {str(c.person_id) for c in world.cases.values()}
    api = api_for(world.users[persona])
    walked = 0
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        targets = [path.replace("{id}", i) for i in sorted(ids)] if "{id}" in path else [path]
        for url in targets:
            response = api.get(url)
            assert response.status_code < 500, url
            body = response.content.decode()
            walked += 1
            for name in _identifiers(world, persona):
                assert name not in body, (persona, url, name)
            assert '"entity_type":"agent"' not in body.replace(" ", ""), url
    assert walked > 100


def test_the_workload_api_gives_the_nation_no_agent_row(world, api_for):
    snapshots.compute()
    director = api_for(world.users["dspip"]).get("/api/v1/workload/?page_size=500").json()
    assert "agent" in {row["entity_type"] for row in director["results"]}
    dap = api_for(world.users["dap"]).get("/api/v1/workload/?page_size=500").json()
    kinds = {row["entity_type"] for row in dap["results"]}
    assert "agent" not in kinds and {"service", "nation"} <= kinds
    for persona in ("dap", "disp"):
        agents = api_for(world.users[persona]).get("/api/v1/agents/").json()["results"]
        assert [row["username"] for row in agents] == [persona]  # themselves only


# --- 3. Every read of personal data is traced ------------------------------------------


def test_an_api_list_writes_one_row_with_the_ids_returned(world, api_for):
    for minutes in (60, 120, 180):
        _interview(world, minutes)
    before = AuditEntry.objects.count()
    body = api_for(world.users["cpip"]).get("/api/v1/interviews/?page_size=2").json()
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.object_type, entry.username) == ("list", "cases.interview", "cpip")
    assert entry.changes["ids"] == sorted(row["id"] for row in body["results"])
    assert entry.changes["lignes"] == 2
    assert entry.changes["filtres"] == {"page_size": "2"}
    assert entry.service_id == world.service.pk


@pytest.mark.parametrize(
    ("endpoint", "label"),
    [
        ("persons", "cases.person"),
        ("cases", "cases.case"),
        ("measures", "measures.measure"),
        ("interviews", "cases.interview"),
        ("convocations", "cases.convocation"),
        ("alerts", "cases.alert"),
    ],
)
def test_every_detail_read_writes_one_row(world, api_for, endpoint, label):
    api = api_for(world.users["dspip"])
    _interview(world)
    slot = future_slot(world.antenna)
    from cases.agenda import services as booking

    booking.convocation_book(actor=None, case=world.cases["mine"], slot=slot, kind="first")
    from cases.alerts.services import alerts_refresh

    alerts_refresh()
    rows = api.get(f"/api/v1/{endpoint}/").json()["results"]
    assert rows, endpoint
    pk = rows[0]["id"]
    before = AuditEntry.objects.filter(action="view").count()
    assert api.get(f"/api/v1/{endpoint}/{pk}/").status_code == 200
    views = AuditEntry.objects.filter(action="view")
    assert views.count() == before + 1
    assert (views.latest("id").object_type, views.latest("id").object_id) == (label, str(pk))


def test_the_caseload_page_writes_one_row_for_the_page(world, client_for):
    client_for(world.users["cpip"]).get(reverse("workspace:caseload"), {"tri": "nom"})
    entry = AuditEntry.objects.get(action="list")
    assert (entry.object_type, entry.username) == ("cases.case", "cpip")
    assert entry.changes["filtres"] == {"tri": "nom"}
    assert entry.changes["ids"] == [world.cases["mine"].pk]


def test_a_refused_read_is_recorded_against_the_target_service(world, api_for, client_for):
    target = world.cases["mine"]  # Lyon
    api_for(world.users["cpip_other"]).get(f"/api/v1/cases/{target.pk}/")
    client_for(world.users["cpip_other"]).get(reverse("cases:detail", args=[target.pk]))
    denied = AuditEntry.objects.filter(action="denied", username="cpip_other")
    assert denied.count() == 2
    assert set(denied.values_list("service_id", flat=True)) == {world.service.pk}
    journal = client_for(world.users["dspip"]).get(reverse("audit-list")).content.decode()
    assert "cpip_other" in journal and "Tentative refusée" in journal
    # Marseille's director does not see it: the file is not theirs.
    other = client_for(world.users["dspip_other"]).get(reverse("audit-list")).content.decode()
    assert "Tentative refusée" not in other


def test_the_journal_shows_the_clerks_searches_to_the_director(world, api_for, client_for):
    person = world.cases["a2"].person
    _search(api_for(world.users["bex"]), surname=person.birth_name, first_name="Zz")
    journal = client_for(world.users["dspip"]).get(reverse("audit-list")).content.decode()
    assert "Recherche de personne" in journal and "bex" in journal


def test_logins_logouts_failures_and_lockouts_are_recorded(world, client, settings):
    user = world.users["cpip"]
    user.set_password("un-mot-de-passe-solide-2026")
    user.save()
    assert (
        client.post(
            reverse("login"), {"username": "cpip", "password": "un-mot-de-passe-solide-2026"}
        ).status_code
        == 302
    )
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "cpip", "password": "faux"})
    actions = list(
        AuditEntry.objects.filter(object_type="auth.user")
        .order_by("id")
        .values_list("action", "username", "service_id")
    )
    assert actions[:2] == [
        ("login", "cpip", world.service.pk),
        ("logout", "cpip", world.service.pk),
    ]
    # Five failures, the fifth of which locks the account out.
    tail = [action for action, _, _ in actions[2:]]
    assert sorted(tail) == sorted(["login_failed"] * 5 + ["lockout"])


def test_a_failed_login_of_an_unknown_account_is_recorded_too(db, client):
    client.post(reverse("login"), {"username": "inconnu", "password": "x"})
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.username, entry.user_id, entry.service_id) == ("inconnu", None, None)


# --- 5. Idempotency keys are the caller's own --------------------------------------------


def test_a_request_token_replayed_by_its_owner_returns_the_same_convocation(world, api_for):
    api = api_for(world.users["dpip"])
    slot = future_slot(world.antenna, capacity=1)
    body = {"case": world.cases["arrival"].pk, "slot": slot.pk, "request_token": "tok-1"}
    first = api.post("/api/v1/convocations/", body, format="json")
    again = api.post("/api/v1/convocations/", body, format="json")
    assert first.status_code == again.status_code == 201  # never "slot taken"
    assert first.json()["id"] == again.json()["id"]
    assert Convocation.objects.filter(request_token="tok-1").count() == 1


def test_another_users_token_is_a_new_request(world, api_for):
    slot = future_slot(world.antenna, capacity=2)
    body = {"case": world.cases["arrival"].pk, "slot": slot.pk, "request_token": "tok-2"}
    mine = api_for(world.users["dpip"]).post("/api/v1/convocations/", body, format="json")
    other_case = CaseFactory(antenna=world.antenna, referent=None)
    theirs = api_for(world.users["dspip"]).post(
        "/api/v1/convocations/", {**body, "case": other_case.pk}, format="json"
    )
    assert mine.status_code == theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["case"] == other_case.pk
    assert Convocation.objects.filter(request_token="tok-2").count() == 2


# --- 6. Exports cannot carry formulas ------------------------------------------------------

FORMULA = '=HYPERLINK("http://exemple.invalid","Cliquez")'


@pytest.mark.parametrize("text", [FORMULA, "+33 6", "-1+1", "@SUM(A1)", "\tTAB", "\rCR"])
def test_csv_cells_that_start_like_a_formula_are_text(text):
    line = list(exports.csv_lines(["Nom"], [[text]]))[1]
    assert line.startswith("'") or line.startswith("\"'")


def _late_export(world, client_for, fmt):
    from measures.models import Measure

    Person.objects.filter(pk=world.cases["mine"].person_id).update(birth_name=FORMULA)
    Measure.objects.filter(case=world.cases["mine"]).update(
        judgment_date=timezone.localdate() - timedelta(days=90)
    )
    response = client_for(world.users["dspip"]).get(f"/tableaux/delais/hors-delai/?format={fmt}")
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return b"".join(response)


def test_a_formula_typed_as_a_name_stays_text_in_the_csv_export(world, client_for):
    body = _late_export(world, client_for, "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in body
    assert ";=HYPERLINK" not in body and ';"=HYPERLINK' not in body


def test_a_formula_typed_as_a_name_stays_text_in_the_xlsx_export(world, client_for):
    book = zipfile.ZipFile(io.BytesIO(_late_export(world, client_for, "xlsx")))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cell anywhere
    strings = (
        sheet + book.read("xl/sharedStrings.xml").decode()
        if ("xl/sharedStrings.xml" in book.namelist())
        else sheet
    )
    assert "HYPERLINK" in strings


# --- 7. HTTP hardening ---------------------------------------------------------------------


def _assert_private(response):
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_a_personal_page_an_api_answer_and_a_pdf_are_never_cached(world, client_for, api_for):
    client = client_for(world.users["cpip"])
    _assert_private(client.get(reverse("cases:detail", args=[world.cases["mine"].pk])))
    _assert_private(api_for(world.users["cpip"]).get("/api/v1/cases/"))
    slot = future_slot(world.antenna)
    from cases.agenda import services as booking

    conv = booking.convocation_book(
        actor=None, case=world.cases["mine"], slot=slot, kind="first", notify=False
    )
    pdf = client.get(f"/api/v1/convocations/{conv.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    _assert_private(pdf)


def test_pages_carry_no_inline_script(world, client_for):
    html = client_for(world.users["dspip"]).get("/tableaux/equipe/").content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag
    assert "onclick=" not in html


def test_the_api_rate_limit_is_active(world, api_for, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    api = api_for(world.users["cpip"])
    codes = [api.get("/api/v1/services/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "azertyuiop12", "motdepasse123"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_unpredictable_passphrase_is_accepted():
    validate_password("cheval-agrafe-batterie-correcte-69")


def test_the_schema_and_its_viewer_need_a_login(db, client, world, client_for):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)
    assert client_for(world.users["cpip"]).get("/api/schema/").status_code == 200


def test_production_settings_pass_the_deployment_checklist():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "production",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "spip.justice.example",
        "DJANGO_SECRET_KEY": "k" * 10 + "Zx9-random-enough-for-the-check-0123456789abcdef",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- 8. No input reaches a server error ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/convocations/abc/pdf/", 404),
        ("/api/v1/cases/abc/allocation-options/", 404),
        ("/api/v1/slots/?date_to=9999-12-31", 200),
        ("/api/v1/slots/?date_from=0001-01-01", 200),
        ("/portefeuille/?mesure=%00", 400),
        ("/journal/?utilisateur=%00", 400),
        ("/api/v1/cases/?q=%00", 400),
    ],
)
def test_hostile_inputs_get_an_answer_not_a_server_error(world, client_for, url, status):
    persona = "dspip" if url.startswith("/journal") else "cpip"
    response = client_for(world.users[persona]).get(url)
    assert response.status_code == status
    if status == 400 and not url.startswith("/api/"):
        assert "caractère invalide" in response.content.decode()


def test_settings_fail_closed_without_a_mode_or_a_secret():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        # No mode (empty, which also wins over a checkout's .env): production, no secret key.
        env={"PATH": "/usr/bin:/bin", "DJANGO_ENV": ""},
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/accessibilite/", "partiellement conforme"),
        ("/mentions-legales/", "Éditeur"),
        ("/donnees-personnelles/", "Droits des personnes suivies"),
    ],
)
def test_the_footer_links_to_the_mandatory_pages_readable_without_login(db, client, url, title):
    footer = client.get("/connexion/").content.decode()
    assert f'href="{url}"' in footer
    assert title in client.get(url).content.decode()


def test_an_account_is_locked_out_whatever_address_the_failures_come_from(world, client):
    for n in range(5):
        client.post(
            reverse("login"), {"username": "cpip", "password": "faux"}, REMOTE_ADDR=f"10.0.0.{n}"
        )
    assert AuditEntry.objects.filter(action="lockout", username="cpip").exists()
    # A colleague behind the same address as the last attempt still signs in.
    world.users["cpip2"].set_password("un-mot-de-passe-solide-2026")
    world.users["cpip2"].save()
    response = client.post(
        reverse("login"),
        {"username": "cpip2", "password": "un-mot-de-passe-solide-2026"},
        REMOTE_ADDR="10.0.0.4",
    )
    assert response.status_code == 302


def test_a_token_replayed_with_another_file_is_refused(world, api_for):
    api = api_for(world.users["dpip"])
    slot = future_slot(world.antenna, capacity=2)
    body = {"case": world.cases["arrival"].pk, "slot": slot.pk, "request_token": "tok-3"}
    assert api.post("/api/v1/convocations/", body, format="json").status_code == 201
    other = {**body, "case": world.cases["mine"].pk}
    response = api.post("/api/v1/convocations/", other, format="json")
    assert response.status_code == 400
    assert "request_token" in response.json()
    assert Convocation.objects.filter(case=world.cases["mine"]).count() == 0


@pytest.mark.parametrize(
    "url", ["/api/v1/cases/999999/", "/api/v1/convocations/abc/pdf/", "/api/v1/nothing/"]
)
def test_api_404s_answer_json_in_french(world, api_for, url):
    response = api_for(world.users["cpip"]).get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Introuvable, ou hors de votre périmètre."}


def test_a_home_that_lists_persons_leaves_a_trace(world, client_for):
    from cases.alerts.services import alerts_refresh

    alerts_refresh()  # "mine" has no assessment and no convocation: alerts for cpip
    client_for(world.users["cpip"]).get(reverse("home"))
    entry = AuditEntry.objects.get(action="list", object_type="cases.alert", username="cpip")
    assert entry.changes["lignes"] >= 1
