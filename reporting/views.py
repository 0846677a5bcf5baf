"""Workload pages: arrivals and their allocation, an agent's breakdown, on-demand recompute."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.choices import CaseStatus
from cases.forms import AllocationForm
from cases.models import Alert, Case
from cases.services import case_allocate
from cases.workload.selectors import agent_breakdown, allocation_options, load_percent
from reporting import exports, indicators
from reporting.stats import last_twelve_months
from spip.access import scope_for
from spip.audit import audit_page, get_visible_or_404
from spip.jobs import job_start
from spip.models import Agent, JobRun


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
    audit_page(request, "cases.case", cases, _("Arrivées à attribuer"))
    return render(request, "reporting/arrivals.html", {"cases": cases})


@login_required
def allocate(request, pk: int):
    _require_allocator(request.user)
    case = get_visible_or_404(
        request.user,
        Case.objects.select_related("person", "antenna"),
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
    agent = get_visible_or_404(
        request.user, Agent.objects.select_related("user", "antenna", "service"), pk=pk
    )
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.agent_id == agent.pk or scope.allocates):
        raise PermissionDenied
    breakdown = agent_breakdown(agent, timezone.localdate())
    cases = None
    if scope.allocates:
        cases = (
            Case.objects.visible_to(request.user)
            .filter(referent=agent, status__in=[CaseStatus.ACTIVE, CaseStatus.SUSPENDED])
            .select_related("person", "antenna")
            .order_by("person__birth_name", "id")
        )
        audit_page(request, "cases.case", cases, _("Dossiers d'un CPIP"))
    return render(
        request, "reporting/agent_load.html", {"agent": agent, "b": breakdown, "cases": cases}
    )


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
    run = get_visible_or_404(request.user, JobRun.objects, pk=pk)
    template = "reporting/_job.html" if request.htmx else "reporting/job.html"
    return render(request, template, {"run": run})


@login_required
@require_POST
def alert_snooze(request, pk: int):
    from cases.forms import SnoozeForm
    from cases.services import alert_snooze as snooze

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


# --- Dashboards -------------------------------------------------------------------------


def _require_reports(user):
    if not scope_for(user).reads_reports:
        raise PermissionDenied


def _filters(request):
    """The shared filters; invalid input keeps the default period and shows the errors."""
    from reporting.forms import ReportParams, report_params

    form, params = report_params(request.GET, request.user)
    if params is None:
        today = timezone.localdate()
        params = ReportParams(*last_twelve_months(today))
    return form, params


def _export_or_render(request, table, data, template, context):

    fmt = request.GET.get("format", "")
    if fmt in exports.FORMATS:
        return exports.respond(fmt, table.name, table.headers, table.rows(data))
    return render(request, template, context)


@login_required
def team(request):
    """The team dashboard: who is overloaded, why, since when, and the arrivals."""

    scope = scope_for(request.user)
    if not scope.sees_agents_by_name:
        if scope.reads_reports:
            return redirect("reporting:network")
        raise PermissionDenied
    form, params = _filters(request)
    data = indicators.team_dashboard(request.user, params)
    _present_team(data["rows"])
    return _export_or_render(
        request, exports.TEAM, data, "reporting/team.html", {"form": form, **data}
    )


def _present_team(rows) -> None:
    """Each line's breakdown as text, formatted once here rather than node by node in the
    template (a service has up to a few hundred CPIPs)."""
    from django.utils.formats import number_format

    for r in rows:
        r.load_url = reverse("reporting:agent-load", args=[r.agent_id])
        items = [
            f"{line['cases']} × {line['weight_label']} = {number_format(line['load'], 3)}"
            for line in r.lines
        ]
        division = _("%(weighted)s ÷ %(capacity)s ETP") % {
            "weighted": number_format(r.weighted_load, 3),
            "capacity": number_format(r.capacity, 3),
        }
        if r.reduction_percent:
            division += " " + _("(réduction %(p)s %%)") % {"p": r.reduction_percent}
        r.breakdown_items = [*items, division]


def _indicator_page(request, indicator, table, template: str):
    """A page of one indicator: its selector, its template, its export."""
    _require_reports(request.user)
    form, params = _filters(request)
    data = indicator(request.user, params)
    return _export_or_render(request, table, data, template, {"form": form, **data})


@login_required
def delays(request):
    return _indicator_page(request, indicators.delays, exports.DELAYS, "reporting/delays.html")


@login_required
def late(request):
    """The measures outside the deadline (SPIP directors: they name persons)."""

    scope = scope_for(request.user)
    if not (scope.reads_reports and scope.sees_personal_data):
        raise PermissionDenied
    form, params = _filters(request)
    facts = indicators.late_cases(request.user, params, today=timezone.localdate(), limit=None)
    fmt = request.GET.get("format", "")
    if fmt in exports.FORMATS:
        audit_page(
            request, "measures.measure", facts.values_list("id", flat=True), _("Export hors délai")
        )
        return exports.respond(fmt, "hors-delai", exports.LATE_HEADERS, exports.late_rows(facts))
    late = list(facts[: indicators.LATE_PAGE])
    audit_page(request, "measures.measure", late, _("Mesures hors délai"))
    return render(
        request,
        "reporting/late.html",
        {"form": form, "late": late, "limit": indicators.LATE_PAGE},
    )


@login_required
def missed(request):
    return _indicator_page(request, indicators.missed, exports.MISSED, "reporting/missed.html")


@login_required
def outcomes(request):
    return _indicator_page(
        request, indicators.outcomes, exports.OUTCOMES, "reporting/outcomes.html"
    )


@login_required
def network(request):
    """Services side by side (DISP: the region; DAP: the nation). No personal data."""

    _require_reports(request.user)
    form, params = _filters(request)
    data = indicators.network(request.user, params, sort=request.GET.get("sort", "code"))
    sort_choices = [
        ("code", _("code")),
        ("persons_per_fte", _("personnes par ETP")),
        ("load_percent", _("charge")),
        ("gap_fte", _("écart en ETP")),
        ("delay", _("délai")),
        ("alerts", _("alertes")),
    ]
    return _export_or_render(
        request,
        exports.NETWORK,
        data,
        "reporting/network.html",
        {"form": form, "sort_choices": sort_choices, **data},
    )


@login_required
def staffing(request):
    """Staffing needs per service, with a what-if computed on the fly (nothing saved)."""
    from reporting.forms import WhatIfForm

    _require_reports(request.user)
    form, params = _filters(request)
    what_if = WhatIfForm(request.GET if "simulate" in request.GET else None, user=request.user)
    scenario = what_if.cleaned_data if what_if.is_bound and what_if.is_valid() else None
    try:
        data = indicators.staffing(request.user, params, scenario)
    except ValidationError as exc:
        what_if.add_error(None, exc)
        data = indicators.staffing(request.user, params)
    return _export_or_render(
        request,
        exports.STAFFING,
        data,
        "reporting/staffing.html",
        {"form": form, "what_if_form": what_if, **data},
    )


@login_required
def reassign(request, pk: int):
    """Move a followed case to another CPIP of the antenna, impact shown, reason asked."""
    from cases.forms import ReassignForm
    from cases.services import case_reassign

    _require_allocator(request.user)
    case = get_visible_or_404(
        request.user,
        Case.objects.filter(
            status__in=[CaseStatus.ACTIVE, CaseStatus.SUSPENDED], referent__isnull=False
        ).select_related("person", "antenna", "referent__user"),
        pk=pk,
    )
    day = timezone.localdate()
    options = [o for o in allocation_options(case, day) if o["agent"].pk != case.referent_id]
    current = agent_breakdown(case.referent, day)
    current_after = load_percent(
        current["weighted"] - current["policy"].weight(case.risk_level), current["capacity"]
    )
    form = ReassignForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        referent = next(
            o["agent"] for o in options if o["agent"].pk == form.cleaned_data["referent"]
        )
        try:
            impact = case_reassign(
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
            messages.success(
                request,
                _(
                    "Dossier réaffecté à %(to)s : sa charge passe de %(to_before)s %% à "
                    "%(to_after)s %% ; celle de %(from)s de %(from_before)s %% à %(from_after)s %%."
                )
                % {
                    "to": referent,
                    "to_before": impact["to"]["before"],
                    "to_after": impact["to"]["after"],
                    "from": case.referent,
                    "from_before": impact["from"]["before"],
                    "from_after": impact["from"]["after"],
                },
            )
            return redirect("reporting:team")
    return render(
        request,
        "reporting/reassign.html",
        {
            "case": case,
            "options": options,
            "form": form,
            "current": current,
            "current_after": current_after,
        },
    )


@login_required
def national_export(request):
    """Start the workbook of every service's indicators (a Celery task) and follow it."""
    from reporting.tasks import national_export as export_task

    _require_reports(request.user)
    if request.method == "POST":
        run = job_start("national_export", requested_by=request.user)
        user_id = request.user.pk
        transaction.on_commit(lambda: export_task.delay(run_id=run.pk, user_id=user_id))
        return redirect(reverse("reporting:export-job", args=[run.pk]))
    runs = JobRun.objects.visible_to(request.user).filter(
        name="national_export", requested_by=request.user
    )[:10]
    return render(request, "reporting/export.html", {"runs": runs})


@login_required
def export_job(request, pk: int):
    run = get_visible_or_404(request.user, JobRun.objects.filter(name="national_export"), pk=pk)
    template = "reporting/_export_job.html" if request.htmx else "reporting/export_job.html"
    return render(request, template, {"run": run})


@login_required
def export_download(request, pk: int):
    from django.http import FileResponse, Http404

    from reporting.tasks import export_path

    run = get_visible_or_404(
        request.user,
        JobRun.objects.filter(name="national_export", requested_by=request.user),
        pk=pk,
    )
    path = export_path(run)
    if path is None or not path.exists():
        raise Http404(_("Ce fichier n'est plus disponible : relancez l'export."))
    audit_page(request, "reporting.jobrun", [run.pk], _("Export complet téléchargé"))
    return FileResponse(path.open("rb"), as_attachment=True, filename="indicateurs-spip.xlsx")
