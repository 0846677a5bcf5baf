"""The test provider as pytest fixtures: one process for the session, the application
configured against it per test (``proconnect``)."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "suivi-spip"
JSON_CLIENT_ID = "suivi-spip-json"
CLIENT_SECRET = "secret-du-client-de-test"
CALLBACK_PATH = "/oidc/callback/"
LOGIN_PATH = "/connexion/"
# The Django test client's host, and the live server's (any port: loopback).
RP_ORIGINS = ["http://testserver", "http://localhost", "http://127.0.0.1"]


@dataclass(frozen=True)
class ProviderUser:
    username: str
    password: str
    email: str
    first_name: str = ""
    last_name: str = ""


# Agents as ProConnect knows them; the application decides which of them it lets in.
AGENT = ProviderUser("camille", "op-pass-camille", "demo.cpip@justice.example", "Camille", "Martin")
MIXED_CASE = ProviderUser("agent.casse", "op-pass-casse", "Agent.Casse@Justice.example")
STRANGER = ProviderUser("inconnu", "op-pass-inconnu", "inconnu@interieur.example")
DISABLED = ProviderUser("parti", "op-pass-parti", "parti@justice.example")
USERS = [AGENT, MIXED_CASE, STRANGER, DISABLED]


@dataclass
class Provider:
    base_url: str
    configuration: dict = field(default_factory=dict)

    def endpoint(self, name: str) -> str:
        return self.configuration[name]

    def browser(self) -> requests.Session:
        """A fresh user agent for the provider's side (its own cookies)."""
        return requests.Session()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """A django-oauth-toolkit OpenID provider in its own process, for the whole session."""
    folder = tmp_path_factory.mktemp("oidc_provider")
    port = _free_port()
    config = {
        "port": port,
        "database": str(folder / "provider.sqlite3"),
        "users": [user.__dict__ for user in USERS],
        "clients": [
            {
                "client_id": client_id,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [origin + CALLBACK_PATH for origin in RP_ORIGINS],
                "post_logout_redirect_uris": [origin + LOGIN_PATH for origin in RP_ORIGINS],
            }
            for client_id in (CLIENT_ID, JSON_CLIENT_ID)
        ],
    }
    (folder / "config.json").write_text(json.dumps(config))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_"))
    }
    log = (folder / "provider.log").open("w")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.oidc_provider.serve", str(folder / "config.json")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    discovery = f"{base_url}/o/.well-known/openid-configuration"
    deadline = time.monotonic() + 60
    configuration = None
    while configuration is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(
                f"The test provider did not start:\n{(folder / 'provider.log').read_text()}"
            )
        try:
            configuration = requests.get(discovery, timeout=2).json()
        except requests.RequestException:
            time.sleep(0.2)  # a process starting, not the clock under test
    yield Provider(base_url=base_url, configuration=configuration)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def proconnect(settings, oidc_provider):
    """The application configured against the test provider, as the environment would."""
    settings.PROCONNECT_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = oidc_provider.endpoint("authorization_endpoint")
    settings.OIDC_OP_TOKEN_ENDPOINT = oidc_provider.endpoint("token_endpoint")
    settings.OIDC_OP_USER_ENDPOINT = oidc_provider.endpoint("userinfo_endpoint")
    settings.OIDC_OP_JWKS_ENDPOINT = oidc_provider.endpoint("jwks_uri")
    settings.PROCONNECT_END_SESSION_ENDPOINT = oidc_provider.endpoint("end_session_endpoint")
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        "spip.oidc.ProConnectBackend",
    ]
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(oidc_provider.base_url)
    settings.CONTENT_SECURITY_POLICY = policy
    return oidc_provider


def sign_in_at_provider(op: requests.Session, authorize_url: str, user: ProviderUser) -> str:
    """Follows the provider's pages as a browser would, signing in when asked, and returns
    the URL it sends the user back to (the application's callback, with code and state)."""
    provider = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    url = authorize_url
    for _ in range(10):
        response = op.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and 'name="password"' in response.text:
            response = op.post(
                response.url,
                data={
                    "username": user.username,
                    "password": user.password,
                    "csrfmiddlewaretoken": op.cookies["op_csrftoken"],
                    "next": parse_qs(urlsplit(response.url).query)["next"][0],
                },
                headers={"Referer": response.url},
                allow_redirects=False,
                timeout=10,
            )
        assert response.status_code == 302, response.text[:500]
        url = urljoin(response.url, response.headers["Location"])
        if not url.startswith(provider):
            return url
    raise AssertionError("The provider never sent the user back")
