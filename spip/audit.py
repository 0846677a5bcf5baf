"""Writing the audit trail. Service functions call ``audit_write``; nothing else writes it."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import models

from spip.choices import AuditAction

# Set by spip.middleware.RequestContextMiddleware for the duration of a request.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | dict):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``obj`` (foreign keys as ids), for diffing."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {name: _plain(getattr(obj, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields that changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def _service_id_of(obj: models.Model | None) -> int | None:
    """The service an audited object belongs to, so that its DSPIP can list the row."""
    if obj is None:
        return None
    from spip.models import Service

    if isinstance(obj, Service):
        return obj.pk
    if hasattr(obj, "service_id"):
        return obj.service_id
    case = getattr(obj, "case", None)
    return getattr(case, "service_id", None)


def audit_write(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    changes: dict[str, Any] | None = None,
    service_id: int | None = None,
):
    """Append one audit row. ``actor`` is a user, or None for the system (jobs, seeding)."""
    from spip.access import scope_for
    from spip.models import AuditEntry

    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    role = ""
    if is_user:
        scope = scope_for(actor)
        role = scope.role or ("admin" if scope.is_admin else "")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_repr = object_repr if object_repr is not None else str(obj)[:255]
    return AuditEntry.objects.create(
        user=actor if is_user else None,
        username=actor.get_username() if is_user else "système",
        role=role,
        ip=current_ip.get(),
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:255],
        service_id=service_id if service_id is not None else _service_id_of(obj),
        changes={k: _plain(v) for k, v in (changes or {}).items()},
    )


def audit_view(*, actor, obj: models.Model) -> None:
    audit_write(actor=actor, action=AuditAction.VIEW, obj=obj)


def audit_denied(*, actor, object_type: str, object_id: Any, what: str = "") -> None:
    audit_write(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=object_type,
        object_id=object_id,
        object_repr=what,
    )
