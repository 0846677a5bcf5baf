"""Sign-ins and sign-outs in the audit trail: who, from where, and the failures that
precede a lockout (DOMAIN.md §9: every access is traced)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from spip.audit import audit_write
from spip.choices import AuditAction
from spip.models import Agent
from spip.oidc import REFUSED_EMAIL_SESSION_KEY


def _service_of_username(username: str) -> int | None:

    return (
        Agent.objects.filter(user__username=username).values_list("service_id", flat=True).first()
    )


def _session(user, action: str) -> None:
    """A session opened or closed, against the user's service."""
    audit_write(
        actor=user,
        action=action,
        object_type="auth.user",
        object_id=user.pk,
        object_repr=user.get_username(),
        service_id=_service_of_username(user.get_username()),
    )


@receiver(user_logged_in, dispatch_uid="spip_audit_login")
def _logged_in(sender, request, user, **kwargs):
    _session(user, AuditAction.LOGIN)


@receiver(user_logged_out, dispatch_uid="spip_audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        _session(user, AuditAction.LOGOUT)


def _attempt(action: str, username: str) -> None:
    username = (username or "")[:150]
    known = get_user_model().objects.filter(username=username).values_list("pk", flat=True)
    audit_write(
        actor=None,
        action=action,
        object_type="auth.user",
        object_id=known.first() or "",
        object_repr=username,
        service_id=_service_of_username(username),
        username=username or "?",
    )


@receiver(user_login_failed, dispatch_uid="spip_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get("username") or ""
    if not username and request is not None and hasattr(request, "session"):
        # A ProConnect sign-in names no username: the address no account matched.
        username = request.session.get(REFUSED_EMAIL_SESSION_KEY, "")
    _attempt(AuditAction.LOGIN_FAILED, username)


@receiver(user_locked_out, dispatch_uid="spip_audit_lockout")
def _locked_out(sender, request, username, ip_address, **kwargs):
    _attempt(AuditAction.LOCKOUT, username)
