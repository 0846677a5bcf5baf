"""Case files: the scoped list and the file itself (each open is audited)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases.choices import OPEN_STATUSES
from cases.filters import CaseFilterSet
from cases.forms import InterviewForm, SnoozeForm
from cases.models import Alert, Case, Convocation, Interview
from cases.services import interview_record
from measures.models import ImposedObligation, Measure
from spip.access import scope_for
from spip.audit import audit_denied, audit_view
from spip.models import Agent


def _require_personal_data(user) -> None:
    if not scope_for(user).sees_personal_data:
        raise PermissionDenied


@login_required
def case_list(request):
    _require_personal_data(request.user)
    cases = (
        Case.objects.visible_to(request.user)
        .select_related("person", "referent__user", "antenna")
        .order_by("person__birth_name", "person__first_names", "id")
    )
    data = request.GET.copy()
    if "status" not in data:
        cases = cases.filter(status__in=OPEN_STATUSES)
    filterset = CaseFilterSet(data, queryset=cases, request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "cases/case_list.html", {"filter": filterset, "page_obj": page})


@login_required
def case_detail(request, pk: int):
    _require_personal_data(request.user)
    scope = scope_for(request.user)
    case = get_object_or_404(
        Case.objects.visible_to(request.user).select_related(
            "person", "service", "antenna", "referent__user", "prison"
        ),
        pk=pk,
    )
    audit_view(actor=request.user, obj=case)
    measures = (
        Measure.objects.visible_to(request.user)
        .filter(case=case)
        .select_related("measure_type", "court")
        .prefetch_related(
            Prefetch(
                "obligations", queryset=ImposedObligation.objects.select_related("obligation_type")
            )
        )
    )
    context = {
        "case": case,
        "person": case.person,
        "measures": measures,
        "convocations": Convocation.objects.visible_to(request.user)
        .filter(case=case)
        .order_by("-starts_at")[:50],
        "interviews": Interview.objects.visible_to(request.user)
        .filter(case=case)
        .select_related("agent__user")[:50]
        if scope.sees_interview_notes
        else None,
        "assessments": case.assessments.select_related("assessor__user")[:20],
        "alerts": Alert.objects.visible_to(request.user)
        .filter(case=case, closed_at__isnull=True)
        .by_urgency(),
        "interview_form": InterviewForm(
            initial={"held_at": timezone.localtime().replace(second=0, microsecond=0)}
        )
        if scope.records_interviews
        else None,
        "snooze_form": SnoozeForm(),
    }
    return render(request, "cases/case_detail.html", context)


@login_required
@require_POST
def interview_new(request, pk: int):
    """Log an interview on a case the user can see (others: 404 and an audit row)."""
    scope = scope_for(request.user)
    case = Case.objects.visible_to(request.user).filter(pk=pk).first()
    if case is None or not scope.records_interviews or scope.agent_id is None:
        audit_denied(
            actor=request.user,
            object_type="cases.case",
            object_id=pk,
            what="Saisie d'entretien refusée",
        )
        raise Http404
    form = InterviewForm(request.POST)
    if form.is_valid():
        try:
            interview_record(
                actor=request.user,
                case=case,
                agent=Agent.objects.get(pk=scope.agent_id),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Entretien enregistré.")
            return redirect("cases:detail", pk=case.pk)
    messages.error(
        request,
        "L'entretien n'a pas été enregistré : "
        + " ".join(
            f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
            for f, e in form.errors.items()
        ),
    )
    return redirect("cases:detail", pk=case.pk)
