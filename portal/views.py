"""Each role's home page: what the role needs first, from the apps below."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from partners import conventions as partner_conventions
from portal import selectors
from spip.access import ANTENNA_ROLES, SERVICE_ROLES, scope_for
from spip.audit import audit_page
from spip.choices import Role

HOME_BUILDERS = {
    Role.CPIP: ("portal/home_cpip.html", selectors.cpip_home),
    Role.DPIP: ("portal/home_team.html", selectors.team_home),
    Role.DSPIP: ("portal/home_team.html", selectors.team_home),
    Role.BEX_CLERK: ("portal/home_court.html", selectors.court_home),
    Role.SAP_CLERK: ("portal/home_court.html", selectors.court_home),
    Role.DISP: ("portal/home_region.html", selectors.region_home),
    Role.DAP: ("portal/home_national.html", selectors.national_home),
    Role.PARTNER: ("portal/home_partner.html", selectors.partner_home),
}
for _role in (ANTENNA_ROLES | SERVICE_ROLES) - {Role.DPIP, Role.DSPIP}:
    HOME_BUILDERS[_role] = ("portal/home_team.html", selectors.team_home)


@login_required
def home(request):
    scope = scope_for(request.user)
    if scope.role in HOME_BUILDERS and not (scope.is_admin and scope.role == Role.ADMIN):
        template, build = HOME_BUILDERS[scope.role]
    elif scope.is_admin:
        template, build = "portal/home_admin.html", selectors.admin_home
    else:
        return render(request, "portal/home_no_profile.html", status=403)
    context = {"scope": scope, **build(request.user, scope)}
    # The lists of a home that name persons are reads like any list: one audit row.
    shown = []
    for key, object_type in NAMED_LISTS.items():
        if isinstance(context.get(key), QuerySet | list):
            context[key] = list(context[key])
            shown += [(object_type, obj) for obj in context[key]]
    for object_type in {t for t, _obj in shown}:
        audit_page(
            request, object_type, [o for t, o in shown if t == object_type], _("Page d'accueil")
        )
    if "alerts" in context:
        context["alert_groups"] = alert_groups(context["alerts"])
    return render(request, template, context)


SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def alert_groups(alerts) -> list[dict]:
    """Alerts by type, the most severe type first, each with its count: a screen of
    headings to open rather than a table of every alert."""
    groups: dict[str, dict] = {}
    for alert in alerts:
        group = groups.setdefault(
            alert.alert_type,
            {"label": alert.get_alert_type_display(), "severity": alert.severity, "alerts": []},
        )
        group["alerts"].append(alert)
        if SEVERITY_RANK.get(alert.severity, 9) < SEVERITY_RANK.get(group["severity"], 9):
            group["severity"] = alert.severity
    return sorted(
        groups.values(), key=lambda g: (SEVERITY_RANK.get(g["severity"], 9), -len(g["alerts"]))
    )


# Lists of the homes that name persons, and what they are.
NAMED_LISTS = {
    "alerts": "cases.alert",
    "today_convocations": "cases.convocation",
    "outcomes_to_record": "cases.convocation",
    "latest": "cases.convocation",
}


def not_found(request, exception=None):
    """404: JSON for the API, the French page otherwise."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Introuvable, ou hors de votre périmètre.")}, status=404)
    return render(request, "404.html", status=404)


@login_required
def conventions(request):
    """The director's conventions: in force, ending soon, expired; each partner's places
    and how many people it follows now."""
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.role in (Role.DSPIP, Role.DPIP)):
        raise PermissionDenied
    today = timezone.localdate()
    days = selectors.convention_warning_days(today)
    rows = list(
        selectors.service_conventions(request.user, scope)
        .select_related("partner", "court", "service")
        .order_by("partner__name", "-starts_on")
    )
    held = partner_conventions.capacities({c.partner_id for c in rows}, today)
    for c in rows:
        c.state = partner_conventions.status(c, today, days)
        c.held = held.get(c.partner_id)
    return render(request, "portal/conventions.html", {"conventions": rows, "days": days})
