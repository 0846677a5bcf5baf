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
