"""Every URL of the application, and ``/bench/floor/``: an authenticated page that reads
the session and runs one query — what any page costs before its own work."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as application
from spip.models import Agent


@login_required
def floor(request):
    agent = Agent.objects.filter(user_id=request.user.pk).values_list("pk", flat=True).first()
    return HttpResponse(f"agent {agent}", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor), *application]
