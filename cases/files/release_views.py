"""The release section of a custody case file: plan, checklist, first community
appointment, release. One address, one action per form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from dsfr.forms import DsfrBaseForm

from cases.agenda.models import Slot
from cases.choices import CaseSetting, ConvocationStatus
from cases.files import releases
from cases.models import Case, ReleasePlan
from spip.access import scope_for
from spip.audit import get_visible_or_404


class ReleasePlanForm(DsfrBaseForm):
    planned_on = forms.DateField(
        label=gettext_lazy("Date de sortie prévue"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    address = forms.CharField(label=gettext_lazy("Adresse à la sortie"), max_length=255)
    postal_code = forms.CharField(label=gettext_lazy("Code postal"), max_length=5)
    commune = forms.CharField(label=gettext_lazy("Commune"), max_length=120)


def release_context(user, case) -> dict:
    """What the case file shows of a release: the plan, its checklist, the slots."""
    plan = (
        ReleasePlan.objects.visible_to(user)
        .filter(case=case)
        .select_related("home_service", "home_antenna", "convocation", "transfer__new_case")
        .order_by(F("released_on").desc(nulls_first=True), "-id")
        .first()
    )
    if plan is None and case.setting != CaseSetting.CLOSED:
        return {}
    writer = scope_for(user).records_interviews
    context: dict = {"release": plan, "release_writer": writer}
    if writer and case.setting == CaseSetting.CLOSED:
        initial = (
            {
                "planned_on": plan.planned_on,
                "address": plan.address,
                "postal_code": plan.postal_code,
                "commune": plan.commune,
            }
            if plan
            else {
                "address": case.person.address,
                "postal_code": case.person.postal_code,
                "commune": case.person.commune,
            }
        )
        context["release_form"] = ReleasePlanForm(initial=initial)
    if plan and plan.released_on is None:
        deadline = releases.release_deadline(case, plan.planned_on)
        context["release_deadline"] = deadline
        booked = plan.convocation and plan.convocation.status == ConvocationStatus.BOOKED
        if writer and not booked:
            context["release_slots"] = releases.release_slots(plan)[1]
    return context


@login_required
@require_POST
def release_action(request, pk: int):
    case = get_visible_or_404(request.user, Case.objects.select_related("person"), pk=pk)
    action = request.POST.get("action")
    plan = (
        ReleasePlan.objects.visible_to(request.user)
        .filter(case=case, released_on__isnull=True)
        .first()
    )
    try:
        if action == "plan":
            form = ReleasePlanForm(request.POST)
            if not form.is_valid():
                raise ValidationError(
                    _("Indiquez la date de sortie prévue et l'adresse complète (code postal).")
                )
            releases.release_plan(actor=request.user, case=case, **form.cleaned_data)
            messages.success(request, _("Sortie préparée : le service compétent est proposé."))
        elif plan is None:
            raise ValidationError(_("Aucune sortie en préparation pour ce dossier."))
        elif action == "checklist":
            releases.release_checklist(
                actor=request.user,
                plan=plan,
                **{name: name in request.POST for name in ReleasePlan.CHECKLIST},
            )
            messages.success(request, _("Liste de préparation enregistrée."))
        elif action == "book":
            slot_id = request.POST.get("slot", "")
            slot = Slot.objects.filter(pk=slot_id).first() if slot_id.isdigit() else None
            if slot is None:
                raise ValidationError(_("Choisissez un créneau."))
            releases.release_book(
                actor=request.user,
                plan=plan,
                slot=slot,
                beyond_reason=request.POST.get("beyond_reason", ""),
            )
            messages.success(request, _("Premier rendez-vous pris : imprimez la convocation."))
        elif action == "release":
            if not request.POST.get("confirm"):
                raise ValidationError(
                    _("Cochez la confirmation : la sortie clôt le suivi en détention.")
                )
            done = releases.release_done(actor=request.user, plan=plan)
            if done.transfer_id:
                messages.success(
                    request,
                    _("Sortie enregistrée : le dossier est transmis au %(service)s.")
                    % {"service": done.home_service},
                )
            else:
                messages.success(request, _("Sortie enregistrée : suivi en milieu ouvert."))
        else:
            raise ValidationError(_("Action inconnue."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("cases:detail", pk=case.pk)
