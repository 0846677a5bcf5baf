"""Alert pages: snoozing an alert, with a date and a reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.alerts.forms import SnoozeForm
from cases.alerts.services import alert_snooze as snooze
from cases.models import Alert
from spip.audit import get_visible_or_404


@login_required
@require_POST
def alert_snooze(request, pk: int):

    alert = get_visible_or_404(request.user, Alert.objects.select_related("case"), pk=pk)
    form = SnoozeForm(request.POST)
    if form.is_valid():
        try:
            snooze(
                actor=request.user,
                alert=alert,
                until=form.cleaned_data["snoozed_until"],
                reason=form.cleaned_data["snooze_reason"],
            )
            messages.success(request, _("Alerte reportée."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Report impossible : indiquez une date et un motif."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("cases:detail", args=[alert.case_id])
    return redirect(target)
