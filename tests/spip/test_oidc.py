"""Signing in through ProConnect, against a real OpenID provider started for the tests
(tests/oidc_provider: django-oauth-toolkit, PKCE required, RS256, userinfo as a signed JWT)."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from spip.choices import AuditAction
from spip.models import AuditEntry
from spip.oidc import ProConnectBackend
from tests.factories import UserFactory
from tests.oidc_provider.fixtures import (
    AGENT,
    DISABLED,
    JSON_CLIENT_ID,
    MIXED_CASE,
    STRANGER,
    ProviderUser,
    sign_in_at_provider,
)

pytestmark = pytest.mark.django_db

NO_ACCOUNT = (
    "Aucun compte actif ne correspond à cette adresse ProConnect. "
    "Demandez l&#x27;ouverture de votre compte à votre administrateur."
)
FAILED = "La connexion avec ProConnect a échoué. Veuillez réessayer."


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start(client) -> str:
    """The application's redirect to the provider's authorize endpoint."""
    response = client.get(reverse("oidc_authentication_init"))
    assert response.status_code == 302
    return response["Location"]


def sign_in(client, provider, user: ProviderUser, op=None):
    """The whole round trip; returns the application's answer to the callback."""
    callback = sign_in_at_provider(op or provider.browser(), start(client), user)
    assert callback.startswith("http://testserver/oidc/callback/?")
    return client.get(callback)


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


@pytest.fixture
def camille(world):
    """The CPIP of the world, known to ProConnect by her address."""
    user = world.users["cpip"]
    user.email = AGENT.email
    user.save()
    return user


@pytest.mark.parametrize("userinfo", ["jwt", "json"])
def test_a_proconnect_sign_in_with_pkce_lands_the_agent_home(
    proconnect, settings, camille, client, monkeypatch, userinfo
):
    if userinfo == "json":
        settings.OIDC_RP_CLIENT_ID = JSON_CLIENT_ID
    verified = []
    original = ProConnectBackend.verify_token

    def counting_verify_token(self, token, **kwargs):
        verified.append(token)
        return original(self, token, **kwargs)

    monkeypatch.setattr(ProConnectBackend, "verify_token", counting_verify_token)

    authorize = start(client)
    params = query(authorize)
    assert authorize.startswith(proconnect.endpoint("authorization_endpoint"))
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert params["scope"] == "openid email given_name usual_name uid"
    assert params["redirect_uri"] == "http://testserver/oidc/callback/"
    assert params["nonce"] and params["state"]
    stored = client.session["oidc_states"][params["state"]]
    assert len(stored["code_verifier"]) == 64

    callback = sign_in_at_provider(proconnect.browser(), authorize, AGENT)
    response = client.get(callback)

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(camille.pk)
    assert client.session["_auth_user_backend"] == "spip.oidc.ProConnectBackend"
    assert "Bonjour" in client.get(reverse("home")).content.decode()
    # The ID token, then (ProConnect's way) the userinfo as a signed JWT.
    assert len(verified) == (2 if userinfo == "jwt" else 1)


def test_a_proconnect_sign_in_writes_the_same_audit_row_as_the_local_form(
    proconnect, camille, client, world
):
    sign_in(client, proconnect, AGENT)
    row = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert (row.user, row.object_type, row.object_id, row.object_repr, row.service_id) == (
        camille,
        "auth.user",
        str(camille.pk),
        "cpip",
        world.agents["cpip"].service_id,
    )


def test_the_address_matches_whatever_its_case(proconnect, world, client):
    user = world.users["cpip2"]
    user.email = "agent.casse@justice.example"
    user.save()
    sign_in(client, proconnect, MIXED_CASE)
    assert signed_in_user_id(client) == str(user.pk)


def test_an_id_token_from_another_issuer_is_refused(proconnect, camille, client, settings):
    settings.PROCONNECT_ISSUER = "https://proconnect.example/api/v2"
    response = sign_in(client, proconnect, AGENT)
    assert signed_in_user_id(client) is None
    assert response["Location"] == reverse("login")
    settings.PROCONNECT_ISSUER = proconnect.configuration["issuer"]
    sign_in(client, proconnect, AGENT)
    assert signed_in_user_id(client) == str(camille.pk)


def test_the_provider_enforces_pkce(proconnect, camille, client):
    op = proconnect.browser()
    # Without a challenge the provider refuses to hand out a code.
    params = query(start(client))
    for name in ("code_challenge", "code_challenge_method"):
        params.pop(name)
    bare = f"{proconnect.endpoint('authorization_endpoint')}?{urlencode(params)}"
    answer = sign_in_at_provider(op, bare, AGENT)
    assert query(answer)["error"] == "invalid_request"
    assert "code" not in query(answer)

    # A code redeemed with another verifier than the one challenged is refused.
    authorize = start(client)
    session = client.session
    session["oidc_states"][query(authorize)["state"]]["code_verifier"] = "x" * 64
    session.save()
    response = client.get(sign_in_at_provider(op, authorize, AGENT), follow=True)
    assert signed_in_user_id(client) is None
    assert FAILED in response.content.decode()


def test_an_unknown_address_is_refused_in_french_without_a_session(proconnect, world, client):
    response = sign_in(client, proconnect, STRANGER)
    assert response.status_code == 302 and response["Location"] == reverse("login")
    page = client.get(reverse("login")).content.decode()
    assert NO_ACCOUNT in page
    assert signed_in_user_id(client) is None
    assert client.get(reverse("home")).status_code == 302
    row = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
    assert (row.user, row.username) == (None, STRANGER.email)
    # No account was created for the stranger.
    assert not world.users["cpip"].__class__.objects.filter(email__iexact=STRANGER.email).exists()


def test_a_disabled_account_is_refused(proconnect, reference, client):
    UserFactory(username="parti", email=DISABLED.email, is_active=False)
    response = sign_in(client, proconnect, DISABLED)
    assert response["Location"] == reverse("login")
    assert NO_ACCOUNT in client.get(reverse("login")).content.decode()
    assert signed_in_user_id(client) is None


def test_two_accounts_sharing_the_address_are_both_refused(proconnect, world, camille, client):
    twin = world.users["cpip2"]
    twin.email = AGENT.email.upper()
    twin.save()
    sign_in(client, proconnect, AGENT)
    assert signed_in_user_id(client) is None
    assert NO_ACCOUNT in client.get(reverse("login")).content.decode()


def test_a_tampered_state_is_refused(proconnect, camille, client):
    callback = sign_in_at_provider(proconnect.browser(), start(client), AGENT)
    params = query(callback)
    params["state"] = params["state"][:-1] + ("A" if params["state"][-1] != "A" else "B")
    response = client.get(f"{reverse('oidc_authentication_callback')}?{urlencode(params)}")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert signed_in_user_id(client) is None
    assert FAILED in client.get(reverse("login")).content.decode()


def test_logout_ends_the_local_and_the_provider_sessions(proconnect, camille, client):
    op = proconnect.browser()
    sign_in(client, proconnect, AGENT, op=op)
    id_token = client.session["oidc_id_token"]
    # Signed in at the provider: another authorization goes straight back, no password asked.
    assert sign_in_at_provider(op, start(client), STRANGER).startswith("http://testserver/")

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    end_session = response["Location"]
    assert end_session.startswith(proconnect.endpoint("end_session_endpoint"))
    params = query(end_session)
    assert params["id_token_hint"] == id_token
    assert params["post_logout_redirect_uri"] == "http://testserver/connexion/"
    assert params["state"]
    assert signed_in_user_id(client) is None
    assert client.get(reverse("home")).status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.LOGOUT, user=camille).count() == 1

    back = op.get(end_session, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    assert back.headers["Location"].startswith("http://testserver/connexion/")
    assert query(back.headers["Location"])["state"] == params["state"]
    # The provider's session is over: it asks for the password again.
    again = op.get(start(client), timeout=10)
    assert 'name="password"' in again.text


def test_a_local_sign_in_logs_out_locally_only(proconnect, camille, client):
    camille.set_password("bon-mot-de-passe")
    camille.save()
    client.post(reverse("login"), {"username": "cpip", "password": "bon-mot-de-passe"})
    assert signed_in_user_id(client) == str(camille.pk)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")


def test_the_login_page_offers_proconnect_and_the_local_form(proconnect, client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert 'class="fr-connect"' in html
    assert "S'identifier avec" in html and "ProConnect</span>" in html
    assert 'target="_blank"' in html and "Qu'est-ce que ProConnect ?" in html
    assert 'name="password"' in html
    assert proconnect.base_url in response["Content-Security-Policy"]


def test_the_local_form_is_hidden_and_refused_when_disabled(proconnect, settings, camille, client):
    settings.LOCAL_LOGIN_ENABLED = False
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "spip.oidc.ProConnectBackend",
    ]
    camille.set_password("bon-mot-de-passe")
    camille.save()
    html = client.get(reverse("login")).content.decode()
    assert 'class="fr-connect"' in html
    assert 'name="password"' not in html
    response = client.post(reverse("login"), {"username": "cpip", "password": "bon-mot-de-passe"})
    assert response.status_code == 405
    assert signed_in_user_id(client) is None
    # ProConnect still lets the agent in.
    sign_in(client, proconnect, AGENT)
    assert signed_in_user_id(client) == str(camille.pk)


def test_no_button_and_no_route_when_proconnect_is_disabled(db, client):
    html = client.get(reverse("login")).content.decode()
    assert "fr-connect" not in html and "ProConnect" not in html
    assert 'name="password"' in html
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert (
        client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("environment", "refusal"),
    [
        ({"PROCONNECT_ENABLED": "true"}, "PROCONNECT_ENABLED needs PROCONNECT_CLIENT_ID"),
        ({"LOCAL_LOGIN_ENABLED": "false"}, "PROCONNECT_ENABLED or LOCAL_LOGIN_ENABLED"),
    ],
)
def test_the_settings_refuse_an_incomplete_sign_in_configuration(environment, refusal):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import spip.settings"],
        env={**os.environ, "DJANGO_ENV": "test", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert refusal in result.stderr
