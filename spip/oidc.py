"""Signing in: through ProConnect (OpenID Connect, mozilla-django-oidc) and, where it is
enabled, with the local form.

ProConnect vouches for an address; the application decides who that is. An agent is the one
active account whose email matches (case aside): no account is ever created here, and the
roles stay those given in the application. Everything else is refused with a message on the
login page, and the audit trail gets the same rows as for the local form (spip/signals.py).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from spip.forms import LoginForm

logger = logging.getLogger(__name__)

# The address ProConnect vouched for when no account matched it: the login page explains,
# the audit row of the failure names it (spip/signals.py).
REFUSED_EMAIL_SESSION_KEY = "proconnect_refused_email"
NO_ACCOUNT_MESSAGE = _(
    "Aucun compte actif ne correspond à cette adresse ProConnect. "
    "Demandez l'ouverture de votre compte à votre administrateur."
)
FAILED_MESSAGE = _("La connexion avec ProConnect a échoué. Veuillez réessayer.")


class ProConnectBackend(OIDCAuthenticationBackend):
    """The one active account whose email is the address ProConnect vouches for."""

    def authenticate(self, request, **kwargs):
        if not settings.PROCONNECT_ENABLED:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as error:
            # The provider refused the code (wrong PKCE verifier, replayed code) or is down.
            logger.warning("ProConnect: the provider did not answer as expected: %s", error)
        except SuspiciousOperation as error:
            logger.warning("ProConnect: token refused: %s", error)
        return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        # The library does not check the audience. An ID token (the call that carries the
        # nonce) must name this client; a signed userinfo is checked when it names one.
        audience = payload.get("aud")
        if audience is not None or "nonce" in kwargs:
            audiences = [audience] if isinstance(audience, str) else list(audience or [])
            if self.OIDC_RP_CLIENT_ID not in audiences:
                raise SuspiciousOperation("Token issued for another client.")
        # Nor the issuer: an ID token must come from the provider configured, when it is.
        issuer = settings.PROCONNECT_ISSUER
        if issuer and "nonce" in kwargs and payload.get("iss") != issuer:
            raise SuspiciousOperation("Token issued by another provider.")
        return payload

    def verify_claims(self, claims) -> bool:
        return bool(str(claims.get("email") or "").strip())

    def filter_users_by_claims(self, claims):
        email = str(claims.get("email") or "").strip()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("ProConnect sent no email.")
        users = list(self.filter_users_by_claims(claims)[:2])
        if len(users) == 1:
            return users[0]
        # None, several (two accounts sharing an address) or only disabled ones: refused.
        logger.info("ProConnect: %d active accounts match the address", len(users))
        session = self.request.session
        session[REFUSED_EMAIL_SESSION_KEY] = str(claims["email"]).strip()[:150]
        session.pop("oidc_id_token", None)
        return None

    def create_user(self, claims):
        raise SuspiciousOperation("Accounts are never created from ProConnect.")


def _enabled_only(request: HttpRequest) -> None:
    if not settings.PROCONNECT_ENABLED:
        raise Http404


class AuthenticateView(OIDCAuthenticationRequestView):
    """Sends the agent to ProConnect (state, nonce, PKCE challenge kept in the session)."""

    def dispatch(self, request, *args, **kwargs):
        _enabled_only(request)
        return super().dispatch(request, *args, **kwargs)

    def get_extra_params(self, request) -> dict[str, str]:
        acr_values = settings.PROCONNECT_ACR_VALUES
        return {"acr_values": acr_values} if acr_values else {}


class CallbackView(OIDCAuthenticationCallbackView):
    """ProConnect's answer: signs the agent in, or back to the login page saying why not."""

    def dispatch(self, request, *args, **kwargs):
        _enabled_only(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        state = request.GET.get("state")
        if "code" in request.GET and state not in request.session.get("oidc_states", {}):
            # A state this browser was not given: a forged or replayed answer.
            logger.warning("ProConnect: callback with an unknown state")
            return self.login_failure()
        return super().get(request)

    def login_failure(self):
        refused = self.request.session.pop(REFUSED_EMAIL_SESSION_KEY, None)
        messages.error(self.request, NO_ACCOUNT_MESSAGE if refused else FAILED_MESSAGE)
        return redirect("login")


def provider_logout_url(request: HttpRequest) -> str | None:
    """ProConnect's end-of-session address for an agent who came through it, else None."""
    id_token = request.session.get("oidc_id_token")
    if not (settings.PROCONNECT_ENABLED and id_token):
        return None
    params = {
        "id_token_hint": id_token,
        # ProConnect requires a state; coming back lands on the login page, nothing to check.
        "state": get_random_string(32),
        "post_logout_redirect_uri": request.build_absolute_uri(
            resolve_url(settings.LOGOUT_REDIRECT_URL)
        ),
    }
    return f"{settings.PROCONNECT_END_SESSION_ENDPOINT}?{urlencode(params)}"


class LoginView(auth_views.LoginView):
    """The login page: the ProConnect button and the local form, each where enabled."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not settings.LOCAL_LOGIN_ENABLED:
            return HttpResponseNotAllowed(["GET"])
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs) -> dict[str, Any]:
        return super().get_context_data(
            proconnect_enabled=settings.PROCONNECT_ENABLED,
            local_login_enabled=settings.LOCAL_LOGIN_ENABLED,
            **kwargs,
        )


class LogoutView(auth_views.LogoutView):
    """Ends the local session, then ProConnect's when the agent came through it."""

    def post(self, request, *args, **kwargs):
        provider_url = provider_logout_url(request)  # read before the session is flushed
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(provider_url) if provider_url else response
