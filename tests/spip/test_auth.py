"""Login, logout, lockout and the health check."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_is_french_and_dsfr(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="fr"' in html
    assert "Connexion à Suivi SPIP" in html
    assert "/static/dsfr/dist/dsfr.min.css" in html or "dsfr/dist/dsfr" in html


def test_a_demo_account_logs_in_and_lands_home(world, client):
    world.users["cpip"].set_password("bon-mot-de-passe")
    world.users["cpip"].save()
    response = client.post(
        reverse("login"), {"username": "cpip", "password": "bon-mot-de-passe"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Bonjour" in response.content.decode()


def test_a_wrong_password_gets_a_french_message(world, client):
    response = client.post(reverse("login"), {"username": "cpip", "password": "faux"})
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in response.content.decode()


def test_five_failures_lock_the_account_from_that_address(world, client):
    world.users["cpip"].set_password("bon-mot-de-passe")
    world.users["cpip"].save()
    for _ in range(5):
        client.post(reverse("login"), {"username": "cpip", "password": "faux"})
    response = client.post(reverse("login"), {"username": "cpip", "password": "bon-mot-de-passe"})
    assert response.status_code == 429
    assert "temporairement bloqué" in response.content.decode()


def test_logout_is_a_post(world, client):
    client.force_login(world.users["cpip"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_healthz_reports_database_and_broker(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["broker"]) == ("ok", "ok", "ok")
    # No job has run in a fresh database: all late, which the status code does not say.
    assert body["jobs_status"] == "late" and len(body["late_jobs"]) == 11


def test_healthz_reports_a_broken_broker_as_503(db, client, settings, monkeypatch):
    from spip import views

    monkeypatch.setattr(views, "_check_broker", lambda: "error: OperationalError")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "error: OperationalError"
