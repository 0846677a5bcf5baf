from zoneinfo import ZoneInfo

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from spip.access import scope_for
from spip.audit import current_ip


class RequestContextMiddleware:
    """Makes the client address available to the audit trail during the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            return _bad_request(request, _("La requête contient un caractère invalide."))
        # Behind the reverse proxy, REMOTE_ADDR is set from X-Forwarded-For by the proxy
        # configuration (gunicorn --forwarded-allow-ips), never trusted from the client here.
        token = current_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
            timezone.deactivate()


class ServiceTimeZoneMiddleware:
    """Dates and times are shown and entered in the agent's service time zone
    (an agent in Nouméa sees Nouméa time). Lazy: requests that never render a
    datetime pay nothing more than the scope they already need."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            zone = scope_for(user).time_zone
            if zone:
                timezone.activate(ZoneInfo(zone))
        return self.get_response(request)


def _has_nul(request) -> bool:
    """A NUL character anywhere in the address: no text column accepts it (PostgreSQL
    refuses it outright), so such a request is answered 400 before any view reads it."""
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    )


def _bad_request(request, message: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


class NoStoreMiddleware:
    """Nothing the application answers is kept by a browser or a proxy cache: pages, API
    answers, PDFs and exports carry personal data (static files are served before this,
    by WhiteNoise, with their own long cache)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
        return response
