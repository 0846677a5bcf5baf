"""Workload pages: arrivals and their allocation, an agent's breakdown, on-demand recompute."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.choices import CaseStatus
from cases.forms import AllocationForm
from cases.models import Alert, Case
from cases.services import case_allocate
from reporting.jobs import job_start
from reporting.models import JobRun
from reporting.selectors import agent_breakdown, allocation_options
from spip.access import scope_for
from spip.models import Agent


def _require_allocator(user):
    if not scope_for(user).allocates:
        raise PermissionDenied


@login_required
def arrivals(request):
    """Cases awaiting allocation in the user's scope, oldest first, with their convocation."""
    _require_allocator(request.user)
    cases = (
        Case.objects.visible_to(request.user)
        .filter(status=CaseStatus.AWAITING_ALLOCATION)
        .select_related("person", "antenna")
        .prefetch_related("convocations", "measures__measure_type")
        .order_by("opened_on", "id")
    )
    return render(request, "reporting/arrivals.html", {"cases": cases})


@login_required
def allocate(request, pk: int):
    _require_allocator(request.user)
    case = get_object_or_404(
        Case.objects.visible_to(request.user).select_related("person", "antenna"),
        pk=pk,
        status=CaseStatus.AWAITING_ALLOCATION,
    )
    day = timezone.localdate()
    options = allocation_options(case, day)
    form = AllocationForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        referent = next(
            o["agent"] for o in options if o["agent"].pk == form.cleaned_data["referent"]
        )
        try:
            case_allocate(
                actor=request.user,
                case=case,
                referent=referent,
                reason=form.cleaned_data["reason"],
                on=day,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Dossier attribué à %(name)s.") % {"name": referent})
            return redirect("reporting:arrivals")
    return render(
        request, "reporting/allocate.html", {"case": case, "options": options, "form": form}
    )


@login_required
@require_POST
def allocate_bulk(request):
    """Allocate the ticked arrivals one after the other, each to the CPIP then on top."""
    _require_allocator(request.user)
    ids = [int(i) for i in request.POST.getlist("cases") if i.isdigit()]
    cases = list(
        Case.objects.visible_to(request.user)
        .filter(pk__in=ids, status=CaseStatus.AWAITING_ALLOCATION)
        .order_by("opened_on", "id")
    )
    day = timezone.localdate()
    done = []
    with transaction.atomic():
        for case in cases:
            options = [o for o in allocation_options(case, day) if not o["absent"]]
            if not options:
                continue
            top = options[0]["agent"]
            case_allocate(actor=request.user, case=case, referent=top, on=day)
            done.append(f"{case.person} → {top}")
    if done:
        messages.success(request, _("Attribués : %(list)s") % {"list": " ; ".join(done)})
    else:
        messages.warning(request, _("Aucun dossier attribué."))
    return redirect("reporting:arrivals")


@login_required
def agent_load(request, pk: int):
    """How an agent's load % adds up."""
    agent = get_object_or_404(
        Agent.objects.visible_to(request.user).select_related("user", "antenna", "service"), pk=pk
    )
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.agent_id == agent.pk or scope.allocates):
        raise PermissionDenied
    breakdown = agent_breakdown(agent, timezone.localdate())
    return render(request, "reporting/agent_load.html", {"agent": agent, "b": breakdown})


@login_required
@require_POST
def recompute(request):
    """A DSPIP's button: recompute the service's snapshots now, in the background."""
    from reporting.tasks import workload_snapshot_compute

    scope = scope_for(request.user)
    if not (scope.allocates and scope.service_id):
        raise PermissionDenied
    run = job_start("workload_snapshot_compute", service_id=scope.service_id)
    transaction.on_commit(
        lambda: workload_snapshot_compute.delay(service_id=scope.service_id, run_id=run.pk)
    )
    return redirect(reverse("reporting:job", args=[run.pk]))


@login_required
def job(request, pk: int):
    """The progress of a run; the page polls itself (htmx) until the run ends."""
    run = get_object_or_404(JobRun.objects.visible_to(request.user), pk=pk)
    template = "reporting/_job.html" if request.htmx else "reporting/job.html"
    return render(request, template, {"run": run})


@login_required
@require_POST
def alert_snooze(request, pk: int):
    from cases.forms import SnoozeForm
    from cases.services import alert_snooze as snooze

    alert = get_object_or_404(Alert.objects.visible_to(request.user).select_related("case"), pk=pk)
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
