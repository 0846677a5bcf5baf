"""The referrals' pages: the partner's space (their referrals, the answers) and the one
referral page that the partner and the SPIP both use, each with their own actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from partners import services
from partners.choices import REFERRAL_STEPS, ReferralStatus
from partners.conventions import capacities
from partners.forms import PartnerFilterSet, ReferralFilterSet, ReferralStepForm
from partners.models import PartnerBody, Referral, ReferralEvent
from spip.access import scope_for
from spip.audit import audit_page, audit_view, get_visible_or_404
from spip.choices import Role
from spip.models import Service


def _reader(user):
    scope = scope_for(user)
    if scope.role != Role.PARTNER and not scope.sees_personal_data:
        raise PermissionDenied
    return scope


@login_required
def referral_list(request):
    """Unanswered first, the oldest on top; then the others, newest first."""
    _reader(request.user)
    rows = (
        Referral.objects.visible_to(request.user)
        .select_related("case__person", "partner")
        .annotate(
            unanswered=Case(
                When(status=ReferralStatus.SENT, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
    )
    filterset = ReferralFilterSet(request.GET or None, queryset=rows)
    ordered = filterset.qs.order_by("unanswered", "sent_on", "id")
    page = Paginator(ordered, 25).get_page(request.GET.get("page"))
    audit_page(request, "partners.referral", page.object_list, _("Orientations"))
    return render(request, "partners/referral_list.html", {"filter": filterset, "page_obj": page})


@login_required
def referral_detail(request, pk: int):
    scope = _reader(request.user)
    referral = get_visible_or_404(
        request.user, Referral.objects.select_related("case__person", "partner"), pk=pk
    )
    partner_side = scope.role == Role.PARTNER
    allowed = REFERRAL_STEPS.get(ReferralStatus(referral.status), set())
    steps = [
        s
        for s in ReferralStatus
        if s in allowed
        and (s in services.PARTNER_STEPS if partner_side else s in services.SPIP_STEPS)
    ]
    form = ReferralStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "note":
                services.referral_note(actor=request.user, referral=referral, note=data["note"])
                messages.success(request, _("Note transmise au CPIP."))
            else:
                services.referral_step(
                    actor=request.user,
                    referral=referral,
                    to=data["to"],
                    note=data["note"],
                    on=data["on"],
                    attended=data["attended"],
                    result=data["result"],
                )
                messages.success(
                    request,
                    _("Orientation : %(state)s.") % {"state": ReferralStatus(data["to"]).label},
                )
            return redirect("partners:referral", pk=referral.pk)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
    else:
        audit_view(actor=request.user, obj=referral)
    return render(
        request,
        "partners/referral_detail.html",
        {
            "referral": referral,
            "person": referral.case.person,
            "events": ReferralEvent.objects.visible_to(request.user).filter(referral=referral),
            "steps": steps,
            "partner_side": partner_side,
            "form": form,
            "notes_open": partner_side
            and referral.status in (ReferralStatus.FIRST_CONTACT, ReferralStatus.IN_PROGRESS),
        },
        status=400 if form.errors else 200,
    )


@login_required
def directory(request):
    """The partners directory: who works on what, where, and how to reach them. Agents
    see it whole; partner staff, their own body."""
    scope = scope_for(request.user)
    if scope.role != Role.PARTNER and not (scope.sees_personal_data or scope.reads_reports):
        raise PermissionDenied
    data = request.GET.copy()
    if "service" not in data and not data.get("commune") and scope.service_id:
        data["service"] = str(scope.service_id)  # one's own territory first
    filterset = PartnerFilterSet(
        data,
        queryset=PartnerBody.objects.visible_to(request.user).prefetch_related(
            "services", "antennas", "communes"
        ),
        services=Service.objects.visible_to(request.user).order_by("code"),
    )
    page = Paginator(filterset.qs.distinct().order_by("name"), 25).get_page(request.GET.get("page"))
    held = capacities([p.pk for p in page.object_list], timezone.localdate())
    for partner in page.object_list:
        partner.held = held.get(partner.pk)
    return render(request, "partners/directory.html", {"filter": filterset, "page_obj": page})
