"""Writing the audit trail. Service functions call ``audit_write``; nothing else writes it."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import models
from django.http import Http404

from spip.access import COURT_ROLES, scope_for
from spip.choices import AuditAction
from spip.models import AuditEntry, Service

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

    if isinstance(obj, Service):
        return obj.pk
    if hasattr(obj, "service_id"):
        return obj.service_id
    case = getattr(obj, "case", None)
    return getattr(case, "service_id", None)


# Paths from an object to the service that holds it, tried in order (first that exists).
_SERVICE_PATHS = (
    "service_id",
    "case__service_id",
    "measure__case__service_id",
    "cases__service_id",
    "antenna__service_id",
    "agenda__antenna__service_id",
)


def target_service_id(model: type[models.Model], object_id: Any) -> int | None:
    """The service holding object ``object_id`` of ``model``, whoever asks (unscoped:
    only for the audit row of a refused access, never shown to the requester)."""

    if not str(object_id).isdigit() or int(object_id) > 2**63 - 1:
        return None
    if model is Service:
        return int(object_id)
    rows = model._base_manager.filter(pk=int(object_id))
    for path in _SERVICE_PATHS:
        try:
            return rows.values_list(path, flat=True).first()
        except FieldError:
            continue
    return None


def _clean(value: Any, limit: int = 200) -> Any:
    """Request values as the journal keeps them: short, and without NUL characters
    (which PostgreSQL refuses in text)."""
    if isinstance(value, list):
        return [_clean(v, limit) for v in value[:20]]
    return str(value).replace("\x00", "")[:limit]


def _entry(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    changes: dict[str, Any] | None = None,
    service_id: int | None = None,
    username: str | None = None,
):

    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    role = ""
    if is_user:
        scope = scope_for(actor)
        role = scope.role or ("admin" if scope.is_admin else "")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_repr = object_repr if object_repr is not None else str(obj)[:255]
    return AuditEntry(
        user=actor if is_user else None,
        username=username or (actor.get_username() if is_user else "système"),
        role=role,
        ip=current_ip.get(),
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else _clean(object_id, 64),
        object_repr=_clean(object_repr or "", 255),
        service_id=service_id if service_id is not None else _service_id_of(obj),
        changes={k: _plain(v) for k, v in (changes or {}).items()},
    )


def audit_write(**fields):
    """Append one audit row; the keywords are ``_entry``'s. ``actor`` is a user, or None for
    the system (jobs, seeding); ``username`` names an anonymous actor (a failed login)."""
    entry = _entry(**fields)
    entry.save()
    return entry


def audit_view(*, actor, obj: models.Model) -> None:
    audit_write(actor=actor, action=AuditAction.VIEW, obj=obj)


def audit_denied(
    *, actor, object_type: str, object_id: Any, what: str = "", service_id: int | None = None
) -> None:
    """A refused access to an object: recorded against the service that holds the object,
    so that its director sees the attempt."""
    if service_id is None:
        try:
            model = apps.get_model(object_type)
        except (LookupError, ValueError):
            model = None
        if model is not None:
            service_id = target_service_id(model, object_id)
    audit_write(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=object_type,
        object_id=object_id,
        object_repr=what,
        service_id=service_id,
    )


# A list names at most this many ids in its row; beyond, the range (first, last) is kept.
LIST_IDS_KEPT = 500


def _actor_services(actor) -> tuple[int | None, ...]:
    """The services whose directors must see a bulk read by ``actor``: their own service,
    or for a court clerk each service the court sends to."""

    scope = scope_for(actor)
    if scope.role in COURT_ROLES and scope.court_service_ids:
        return scope.court_service_ids
    return (scope.service_id,)


def audit_list(
    *,
    actor,
    object_type: str,
    ids: Iterable[Any],
    filters: Mapping[str, Any] | None = None,
    action: str = AuditAction.LIST,
    what: str = "",
) -> None:
    """One row per request that returns personal data in bulk (a list, a search, an
    export): who, the filters, how many rows and which. One INSERT whatever the size
    (one row per service concerned: a court clerk's search is seen by each service the
    court sends to)."""

    kept = sorted({int(i) if str(i).isdigit() else str(i) for i in ids}, key=str)
    if all(isinstance(i, int) for i in kept):
        kept = sorted(kept)
    changes: dict[str, Any] = {
        "filtres": {
            _clean(k, 40): _clean(v) for k, v in (filters or {}).items() if v not in ("", None, [])
        },
        "lignes": len(kept),
    }
    if len(kept) <= LIST_IDS_KEPT:
        changes["ids"] = kept
    else:
        changes["plage"] = [kept[0], kept[-1]]
    entries = [
        _entry(
            actor=actor,
            action=action,
            object_type=object_type,
            object_repr=what or f"{len(kept)}",
            changes=changes,
            service_id=service_id,
        )
        for service_id in _actor_services(actor)
    ]
    AuditEntry.objects.bulk_create(entries)


def query_filters(request) -> dict[str, Any]:
    """A request's query string as the journal keeps it (lists of values folded)."""
    return {
        key: values[0] if len(values) == 1 else values
        for key, values in request.GET.lists()
        if key not in ("page", "format")
    }


def get_visible_or_404(user, queryset: Any, *, what: str = "", **lookup):
    """The object ``lookup`` finds among what ``user`` may see (``queryset``: a model's
    manager or queryset with ``visible_to``), or 404. A miss on an object that exists is a
    refused access: audited against its service."""
    obj = queryset.visible_to(user).filter(**lookup).first()
    if obj is not None:
        return obj
    model = queryset.model
    pk = lookup.get("pk", lookup.get("id"))
    if pk is not None and str(pk).isdigit() and model._base_manager.filter(pk=pk).exists():
        audit_denied(actor=user, object_type=model._meta.label_lower, object_id=pk, what=what)
    raise Http404


def audit_page(request, object_type: str, objects: Iterable[Any], what: str = "") -> None:
    """``audit_list`` for a page or an export: the ids of ``objects`` (instances, ids or
    rows with an ``id`` key) and the request's filters; nothing when nothing was shown."""
    ids = [
        o.pk if isinstance(o, models.Model) else o.get("id") if isinstance(o, dict) else o
        for o in objects
    ]
    ids = [i for i in ids if i is not None]
    if ids:
        audit_list(
            actor=request.user,
            object_type=object_type,
            ids=ids,
            filters=query_filters(request),
            what=what,
        )


def audit_many(rows: Iterable[dict[str, Any]]) -> None:
    """Many audit rows in one insert; each row's keywords are ``_entry``'s."""
    AuditEntry.objects.bulk_create(_entry(**fields) for fields in rows)


def audit_created(*, actor, objects, service_id: int | None, changes=None) -> None:
    """One creation row per object, in one insert: for services that create many rows at
    once (an imported history). ``changes(obj)`` gives each row's changes."""
    audit_many(
        {
            "actor": actor,
            "action": AuditAction.CREATE,
            "obj": obj,
            "service_id": service_id,
            "changes": changes(obj) if changes else None,
        }
        for obj in objects
    )
