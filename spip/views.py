"""Health check and audit journal."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from spip.access import scope_for
from spip.celery import app
from spip.choices import Role
from spip.models import AuditEntry


@never_cache
@require_GET
def healthz(request):
    """Database and broker status, for the load balancer and monitoring."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


@login_required
def audit_list(request):
    """The DSPIP's view of the audit rows of their service (administrators: all)."""
    if not scope_for(request.user).sees_audit:
        raise PermissionDenied
    entries = AuditEntry.objects.visible_to(request.user).order_by("-at", "-id")
    username = request.GET.get("utilisateur", "").strip()
    if username:
        entries = entries.filter(username=username)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.role_label = ROLE_LABELS.get(entry.role, entry.role or "—")
        entry.object_label = object_label(entry.object_type)
        entry.read_detail = _read_detail(entry.changes)
    return render(request, "spip/audit_list.html", {"page_obj": page, "username": username})


ROLE_LABELS = dict(Role.choices)


# Models that changed app keep their older journal rows readable under the same name.
MOVED_LABELS = {
    "reporting.jobrun": "spip.jobrun",
    "reporting.workloadpolicy": "cases.workloadpolicy",
    "reporting.referencenorm": "cases.referencenorm",
    "reporting.capacityreduction": "cases.capacityreduction",
    "reporting.alertsettings": "cases.alertsettings",
}


def _read_detail(changes: dict) -> str:
    """What a list or a search asked and returned, as the director reads it:
    « nom = MARTIN, naissance = 1990-05-06 → n° 12, 57 »."""
    if "lignes" not in changes:
        return ""
    asked = ", ".join(
        f"{key} = {value if not isinstance(value, list) else ' / '.join(value)}"
        for key, value in (changes.get("filtres") or {}).items()
    )
    ids = changes.get("ids")
    if ids is not None:
        shown = ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")
    else:
        first, last = changes.get("plage", ["?", "?"])
        shown = _("de %(first)s à %(last)s") % {"first": first, "last": last}
    parts = [asked] if asked else []
    if ids != []:
        parts.append(f"{_('n°')} {shown}")
    return " → ".join(parts)


def object_label(object_type: str) -> str:
    """``cases.case`` → "dossier": the model's French name, or the code when unknown."""
    try:
        return str(apps.get_model(MOVED_LABELS.get(object_type, object_type))._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type
