"""Each role's home page: what the role needs first, from the apps below."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal import selectors
from spip.access import ANTENNA_ROLES, SERVICE_ROLES, scope_for
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
    return render(request, template, {"scope": scope, **build(request.user, scope)})


def not_found(request, exception=None):
    """404: JSON for the API, the French page otherwise."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Introuvable, ou hors de votre périmètre.")}, status=404)
    return render(request, "404.html", status=404)
