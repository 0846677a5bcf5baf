from spip.access import scope_for


def agent(request):
    """The current user's role, for the navigation. Lazy: pages that never ask pay nothing."""
    user = getattr(request, "user", None)

    def _scope():
        return scope_for(user)

    return {"spip_scope": _scope}
