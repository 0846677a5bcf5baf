"""Health check, metrics and audit journal."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from spip.access import scope_for
from spip.celery import app
from spip.choices import Role
from spip.models import AuditEntry
from spip.observability import SpipCollector, job_freshness, metrics_allowed


@never_cache
@require_GET
def healthz(request):
    """Database and broker status, for the load balancer (the status code says only these:
    a late job does not take a web replica out of service), and each scheduled job's last
    success against the age it may have, for monitoring."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    jobs = _check_jobs() if checks["database"] == "ok" else {}
    late = sorted(name for name, job in jobs.items() if not job["fresh"])
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            **checks,
            "jobs_status": "late" if late else "ok",
            "late_jobs": late,
            "jobs": jobs,
        },
        status=200 if healthy else 503,
    )


def _check_jobs() -> dict:
    return {
        row["job"]: {
            "last_success": row["last_success"].isoformat() if row["last_success"] else None,
            "age_seconds": round(row["age_seconds"]) if row["age_seconds"] is not None else None,
            "max_age_seconds": round(row["max_age_seconds"]),
            "fresh": row["fresh"],
        }
        for row in job_freshness()
    }


@never_cache
@require_GET
def metrics(request):
    """Prometheus metrics: django-prometheus's (requests, latencies, database; every
    gunicorn worker's, through PROMETHEUS_MULTIPROC_DIR) and the jobs' and queues'."""
    import os

    import prometheus_client
    from prometheus_client import multiprocess

    if not metrics_allowed(request):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(SpipCollector())
    return HttpResponse(
        prometheus_client.generate_latest(registry),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )


class _ProcessRegistry:
    """This process's own metrics (one process: development, tests)."""

    def collect(self):
        import prometheus_client

        return prometheus_client.REGISTRY.collect()


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
