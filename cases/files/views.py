"""Case files: the scoped list and the file itself (each open is audited)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from weasyprint import HTML

from cases.choices import OPEN_STATUSES, CaseStatus
from cases.files import retention
from cases.files.access_request import person_record
from cases.files.filters import CaseFilterSet
from cases.files.forms import FollowUpForm
from cases.files.release_views import release_context
from cases.files.selectors import case_list_rows, timeline
from cases.files.transfer_views import open_transfer_of
from cases.followup.forms import interview_form_for
from cases.models import Alert, Case, Report
from cases.workload.models import WorkloadPolicy
from measures.selectors import measures_of_case
from partners.conventions import follow_up_partners
from partners.models import Referral
from partners.presentencing import handover_candidates
from partners.tig import attach_tig
from spip.access import reading_person, scope_for
from spip.audit import audit_page, audit_view, audit_write, get_visible_or_404
from spip.choices import AuditAction, Role


def _require_personal_data(user) -> None:
    if not scope_for(user).sees_personal_data:
        raise PermissionDenied


@login_required
def case_list(request):
    _require_personal_data(request.user)
    cases = Case.objects.visible_to(request.user)
    data = request.GET.copy()
    if "status" not in data:
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif data.get("status") != CaseStatus.ARCHIVED:
        # Archived files (retention) appear only when asked for, to their director.
        cases = cases.exclude(status=CaseStatus.ARCHIVED)
    filterset = CaseFilterSet(data, queryset=cases, request=request)
    ordering = request.GET.get("tri", "")
    rows = case_list_rows(filterset.qs, ordering)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    audit_page(request, "cases.case", page.object_list, _("Liste des dossiers"))
    return render(
        request,
        "cases/case_list.html",
        {"filter": filterset, "page_obj": page, "ordering": ordering},
    )


@login_required
def case_detail(request, pk: int):
    _require_personal_data(request.user)
    case = get_visible_or_404(
        request.user,
        Case.objects.select_related("person", "service", "antenna", "referent__user", "prison"),
        pk=pk,
    )
    audit_view(actor=request.user, obj=case)
    return render(request, "cases/case_detail.html", case_context(request, case))


TIMELINE_SHOWN = 40


def case_context(request, case, interview_form=None) -> dict:
    """Everything the case file shows, read under the scoping rule narrowed to the
    person's readable files (``access.reading_person``: the rule's union planned once)."""
    with reading_person(request.user, case.person_id):
        return _case_context(request, case, interview_form)


def _case_context(request, case, interview_form=None) -> dict:
    scope = scope_for(request.user)
    measures = measures_of_case(request.user, case)
    # A closed file (transferred, ended) is read, never written.
    writer = scope.records_interviews and case.status in OPEN_STATUSES
    attach_tig(request.user, measures)
    # Years of history: the latest events, the whole of it on request.
    events = timeline(request.user, case)
    whole = request.GET.get("chronologie") == "tout"
    return {
        **release_context(request.user, case),
        "case": case,
        "person": case.person,
        "measures": measures,
        "timeline": events if whole else events[:TIMELINE_SHOWN],
        "timeline_total": len(events),
        "alerts": Alert.objects.visible_to(request.user)
        .filter(case=case, closed_at__isnull=True)
        .by_urgency(),
        "interview_form": (interview_form or interview_form_for(case, measures=measures))
        if writer
        else None,
        "follow_up_form": FollowUpForm(
            initial={
                "version": case.version,
                "risk_level": case.risk_level,
                "intensity": case.intensity,
            }
        )
        if writer
        else None,
        "intervals": _intervals(),
        "sees_notes": scope.sees_interview_notes,
        "referrals": Referral.objects.visible_to(request.user)
        .filter(case=case)
        .select_related("partner")
        .order_by("-sent_on", "-id"),
        "now": timezone.now(),
        "handover_candidates": handover_candidates(request.user, case) if writer else [],
        "open_transfer": open_transfer_of(request.user, case),
        "can_transfer": scope.allocates and case.status in OPEN_STATUSES,
        "answers_access_requests": scope.role == Role.DSPIP and case.service_id == scope.service_id,
        "follow_up_partners": list(follow_up_partners(case.service_id, timezone.localdate()))
        if writer
        else [],
        "reports": Report.objects.visible_to(request.user)
        .filter(case=case)
        .order_by("-created_at"),
    }


def _intervals():

    policy = WorkloadPolicy.objects.in_force(timezone.localdate())
    if policy is None:
        return {}
    return {
        "renforce": policy.interval_reinforced_days,
        "standard": policy.interval_standard_days,
        "allege": policy.interval_light_days,
    }


ACCESS_FORMATS = ("pdf", "json")


@login_required
def access_request(request, pk: int):
    """A person's access request, answered by the service's director: everything the
    service holds on the person, as a PDF to send and a JSON file, each audited."""
    scope = scope_for(request.user)
    if scope.role != Role.DSPIP:
        raise PermissionDenied
    # The service's own files only (one it reads after a transfer is the other's to answer).
    case = get_visible_or_404(
        request.user,
        Case.objects.select_related("person").filter(service_id=scope.service_id or 0),
        pk=pk,
    )
    fmt = request.GET.get("format", "")
    if fmt not in ACCESS_FORMATS:
        audit_view(actor=request.user, obj=case)
        return render(request, "cases/access_request.html", {"case": case})
    record = person_record(request.user, case)
    audit_write(
        actor=request.user,
        action=AuditAction.ACCESS_REQUEST,
        obj=case.person,
        service_id=case.service_id,
        changes={
            "format": fmt,
            "files": [f["file"] for f in record["files"]],
            "withheld": {w["what"]: w["count"] for w in record["withheld"]},
        },
    )
    name = f"droit-d-acces-{case.person_id}-{timezone.localdate():%Y%m%d}"
    if fmt == "json":
        response = HttpResponse(
            json.dumps(record, ensure_ascii=False, indent=1),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    html = render_to_string("cases/access_request_pdf.html", {"record": record, "case": case})
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


def _require_director(user) -> None:
    if scope_for(user).role != Role.DSPIP:
        raise PermissionDenied


@login_required
def retention_page(request):
    """The director's view of the schedule: the files archived and destroyed within the
    month, those held, the last destructions (file numbers only)."""
    _require_director(request.user)
    data = retention.upcoming(request.user)
    audit_page(request, "cases.case", [row["pk"] for row in data["to_destroy"]], _("Conservation"))
    return render(request, "cases/retention.html", data)


@login_required
@require_POST
def legal_hold(request, pk: int):
    """Set or lift the legal hold on a file (the director, with a reason to set it)."""
    _require_director(request.user)
    case = get_visible_or_404(
        request.user,
        Case.objects.select_related("person").filter(
            service_id=scope_for(request.user).service_id or 0
        ),
        pk=pk,
    )
    hold = request.POST.get("hold") == "1"
    reason = request.POST.get("reason", "").strip()
    if hold and not reason:
        messages.error(request, _("Indiquez le motif du blocage de la conservation."))
    else:
        retention.legal_hold_set(actor=request.user, case=case, hold=hold, reason=reason)
        messages.success(
            request,
            _("Conservation bloquée : le dossier ne sera ni archivé ni détruit.")
            if hold
            else _("Blocage levé : le dossier suit à nouveau le calendrier de conservation."),
        )
    return redirect("cases:detail", pk=case.pk)
