"""Workload pages: arrivals and their allocation, an agent's breakdown, on-demand recompute."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reporting import exports, indicators
from reporting.forms import ReportParams, WhatIfForm, report_params
from reporting.selectors import export_file
from reporting.stats import last_twelve_months
from reporting.tasks import national_export as export_task
from spip.access import scope_for
from spip.audit import audit_page, get_visible_or_404
from spip.jobs import job_enqueue, job_start
from spip.models import JobRun


@login_required
@require_POST
def recompute(request):
    """A DSPIP's button: recompute the service's snapshots now, in the background."""
    scope = scope_for(request.user)
    if not (scope.allocates and scope.service_id):
        raise PermissionDenied
    run = job_enqueue(
        "reporting.tasks.workload_snapshot_compute",
        job="workload_snapshot_compute",
        service_id=scope.service_id,
    )
    return redirect(reverse("reporting:job", args=[run.pk]))


@login_required
def job(request, pk: int):
    """The progress of a run; the page polls itself (htmx) until the run ends."""
    run = get_visible_or_404(request.user, JobRun.objects, pk=pk)
    template = "reporting/_job.html" if request.htmx else "reporting/job.html"
    return render(request, template, {"run": run})


# --- Dashboards -------------------------------------------------------------------------


def _require_reports(user):
    if not scope_for(user).reads_reports:
        raise PermissionDenied


def _filters(request):
    """The shared filters; invalid input keeps the default period and shows the errors."""

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
    if request.GET.get("format", "") in exports.FORMATS:
        return _export_or_render(request, exports.TEAM, data, "", {})
    # A service has up to a few hundred CPIPs: the most loaded first, a page at a time
    # (the export has them all).
    page = Paginator(data["rows"], TEAM_PAGE).get_page(request.GET.get("page"))
    _present_team(page.object_list)
    _present_over(data.get("over", []))
    context = {**data, "form": form, "rows": page.object_list, "team_page": page}
    context["team_size"] = len(data["rows"])
    return render(request, "reporting/team.html", context)


TEAM_PAGE = 50


def _present_team(rows) -> None:
    """Each line's breakdown as text, formatted once here rather than node by node in the
    template (a service has up to a few hundred CPIPs)."""

    for r in rows:
        r.load_url = reverse("workload:agent-load", args=[r.agent_id])
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


def _present_over(rows) -> None:
    """Why and since when each overloaded CPIP is over the threshold, as one sentence
    each (a large service has a hundred of them)."""
    for r in rows:
        r.load_url = reverse("workload:agent-load", args=[r.agent_id])
        why = ", ".join(
            f"{line['cases']} {str(line['label']).lower()} × {line['weight_label']}"
            for line in r.lines
            if line["cases"]
        )
        why += " ; " + _("capacité %(fte)s ETP") % {"fte": number_format(r.capacity, 2)}
        if r.reduction_percent:
            why += ", " + _("réduction %(p)s %%") % {"p": r.reduction_percent}
        r.over_reason = why
        r.over_since_text = ""
        if r.over_since:
            day = date_format(r.over_since, "d/m/Y")
            r.over_since_text = (
                _("au-dessus du seuil depuis au moins le %(d)s (douze semaines)") % {"d": day}
                if r.over_whole_window
                else _("au-dessus du seuil depuis le %(d)s") % {"d": day}
            )


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
    data["continuity"] = indicators.continuity(request.user, params)
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
def national_export(request):
    """Start the workbook of every service's indicators (a Celery task) and follow it."""

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

    run = get_visible_or_404(
        request.user,
        JobRun.objects.filter(name="national_export", requested_by=request.user),
        pk=pk,
    )
    workbook = export_file(run)
    if workbook is None:
        raise Http404(_("Ce fichier n'est plus disponible : relancez l'export."))
    audit_page(request, "reporting.jobrun", [run.pk], _("Export complet téléchargé"))
    return FileResponse(workbook, as_attachment=True, filename="indicateurs-spip.xlsx")
