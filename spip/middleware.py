from zoneinfo import ZoneInfo

from django.utils import timezone

from spip.access import scope_for
from spip.audit import current_ip


class RequestContextMiddleware:
    """Makes the client address available to the audit trail during the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
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
