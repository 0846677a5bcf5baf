"""Workload pages: arrivals and their allocation, an agent's breakdown, reassignment."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.choices import CaseStatus
from cases.models import Case
from cases.workload.forms import AllocationForm, CapacityReductionForm, ReassignForm
from cases.workload.selectors import agent_breakdown, allocation_options, referent_load_without
from cases.workload.services import (
    capacity_reduction_create,
    case_allocate,
    case_reassign,
    cases_allocate_to_top,
)
from measures.selectors import measures_of_case
from spip.access import scope_for
from spip.audit import audit_page, audit_view, get_visible_or_404
from spip.choices import Role
from spip.models import Agent
from spip.validation import errors_onto


def _pct(value: str) -> str:
    """A load % as the page writes it: decimal comma, one decimal ("—" when unknown)."""
    return "—" if value in (None, "None") else number_format(Decimal(value), 1)


def _submit(request, form, options, case, day, service):
    """Give ``case`` to the CPIP chosen in ``form`` through ``service`` (allocation or
    reassignment); its refusals become the form's errors. (CPIP, the service's result or
    None when refused.)"""
    referent = next(o["agent"] for o in options if o["agent"].pk == form.cleaned_data["referent"])
    try:
        result = service(
            actor=request.user,
            case=case,
            referent=referent,
            reason=form.cleaned_data["reason"],
            on=day,
        )
    except ValidationError as exc:
        errors_onto(form, exc)
        return referent, None
    return referent, result


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
    return render(request, "workload/arrivals.html", {"cases": cases})


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
        referent, done = _submit(request, form, options, case, day, case_allocate)
        if done is not None:
            messages.success(request, _("Dossier attribué à %(name)s.") % {"name": referent})
            return redirect("workload:arrivals")
    return render(
        request,
        "workload/allocate.html",
        {
            "case": case,
            "options": options,
            "form": form,
            "measures": measures_of_case(request.user, case),
        },
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
    done = [
        f"{case.person} → {top}"
        for case, top in cases_allocate_to_top(actor=request.user, cases=cases)
    ]
    if done:
        messages.success(request, _("Attribués : %(list)s") % {"list": " ; ".join(done)})
    else:
        messages.warning(request, _("Aucun dossier attribué."))
    return redirect("workload:arrivals")


@login_required
def agent_load(request, pk: int):
    """How an agent's load % adds up."""
    agent = get_visible_or_404(
        request.user, Agent.objects.select_related("user", "antenna", "service"), pk=pk
    )
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.agent_id == agent.pk or scope.allocates):
        raise PermissionDenied
    reduction_form = None
    # A head of antenna manages the CPIPs of their antenna; a director, of the service.
    if scope.allocates and not (scope.role == Role.DPIP and agent.antenna_id != scope.antenna_id):
        reduction_form = CapacityReductionForm(
            request.POST or None, initial={"starts_on": timezone.localdate()}
        )
        if request.method == "POST" and reduction_form.is_valid():
            try:
                capacity_reduction_create(
                    actor=request.user, agent=agent, **reduction_form.cleaned_data
                )
            except ValidationError as exc:
                errors_onto(reduction_form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "Réduction enregistrée : la charge du CPIP en tient compte ; celles du service sont en cours de recalcul."
                    ),
                )
                return redirect("workload:agent-load", pk=agent.pk)
    elif request.method == "POST":
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
        request,
        "workload/agent_load.html",
        {"agent": agent, "b": breakdown, "cases": cases, "reduction_form": reduction_form},
    )


@login_required
def reassign(request, pk: int):
    """Move a followed case to another CPIP of the antenna, impact shown, reason asked."""
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
    if request.method == "GET":
        audit_view(actor=request.user, obj=case)
    current, current_after = referent_load_without(case, day)
    form = ReassignForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        referent, impact = _submit(request, form, options, case, day, case_reassign)
        if impact is not None:
            messages.success(
                request,
                _(
                    "Dossier réaffecté à %(to)s : sa charge passe de %(to_before)s %% à "
                    "%(to_after)s %% ; celle de %(from)s de %(from_before)s %% à %(from_after)s %%."
                )
                % {
                    "to": referent,
                    "to_before": _pct(impact["to"]["before"]),
                    "to_after": _pct(impact["to"]["after"]),
                    "from": case.referent,
                    "from_before": _pct(impact["from"]["before"]),
                    "from_after": _pct(impact["from"]["after"]),
                },
            )
            messages.info(
                request,
                _(
                    "Les charges du service sont en cours de recalcul : le tableau de bord sera à jour dans un instant."
                ),
            )
            return redirect("reporting:team")
    return render(
        request,
        "workload/reassign.html",
        {
            "case": case,
            "options": options,
            "form": form,
            "current": current,
            "current_after": current_after,
        },
    )
