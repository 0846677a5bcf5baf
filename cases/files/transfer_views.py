"""Transfer pages: the sending director's proposal from the case file; the directors'
list of transfers to answer, waiting, done; a request for a case followed elsewhere."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from dsfr.forms import DsfrBaseForm

from cases.choices import OPEN_STATUSES, OPEN_TRANSFER_STATUSES, TransferStatus
from cases.files import transfers
from cases.models import Case, Transfer
from spip.access import scope_for
from spip.audit import audit_page, audit_view, get_visible_or_404
from spip.communes import competent_service
from spip.models import Antenna, Service
from spip.validation import errors_onto


class TransferForm(DsfrBaseForm):
    to_service = forms.ModelChoiceField(
        label=gettext_lazy("Service d'accueil"),
        queryset=Service.objects.order_by("code"),
        empty_label=gettext_lazy("— Choisir —"),
    )
    to_antenna = forms.ModelChoiceField(
        label=gettext_lazy("Antenne d'accueil"),
        help_text=gettext_lazy("Laisser vide : l'antenne de la commune, sinon la première."),
        queryset=Antenna.objects.select_related("service").order_by("service__code", "name"),
        required=False,
        empty_label=gettext_lazy("— Selon la commune —"),
    )
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=255)
    override_reason = forms.CharField(
        label=gettext_lazy("Dossier sensible : raison de la dérogation"),
        max_length=255,
        required=False,
    )


class RequestForm(DsfrBaseForm):
    national_number = forms.CharField(label=gettext_lazy("N° de dossier national"), max_length=20)
    birth_date = forms.DateField(
        label=gettext_lazy("Date de naissance"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=255)


def _director(user):
    scope = scope_for(user)
    if not scope.allocates:
        raise PermissionDenied
    return scope


@login_required
def transfer_new(request, pk: int):
    """The sending director proposes the transfer; the competent service is proposed
    from the person's address."""
    case = get_visible_or_404(request.user, Case.objects.select_related("person", "service"), pk=pk)
    _director(request.user)
    person = case.person
    proposed, _antenna = competent_service(person.postal_code, person.commune)
    initial = {"to_service": proposed.pk} if proposed and proposed.pk != case.service_id else {}
    form = TransferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = transfers.transfer_open(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(
                request,
                _("Transfert proposé au %(service)s.") % {"service": transfer.to_service},
            )
            return redirect("cases:detail", pk=case.pk)
    elif request.method != "POST":
        audit_view(actor=request.user, obj=case)
    return render(
        request,
        "cases/transfer_new.html",
        {"case": case, "form": form, "proposed": proposed},
        status=400 if form.errors else 200,
    )


@login_required
def transfer_list(request):
    """To answer, waiting for the other side, and the last ones done."""
    scope = _director(request.user)
    rows = Transfer.objects.visible_to(request.user).select_related(
        "case__person", "from_service", "to_service", "to_antenna", "new_case"
    )
    service = scope.service_id
    waiting = list(rows.filter(status__in=OPEN_TRANSFER_STATUSES).order_by("requested_on", "id"))
    to_answer = [
        t
        for t in waiting
        if (t.status == TransferStatus.PROPOSED and t.to_service_id == service)
        or (t.status == TransferStatus.REQUESTED and t.from_service_id == service)
        or scope.is_admin
    ]
    done = list(
        rows.exclude(status__in=OPEN_TRANSFER_STATUSES).order_by("-answered_on", "-id")[:30]
    )
    audit_page(request, "cases.transfer", waiting + done, _("Transferts"))
    return render(
        request,
        "cases/transfers.html",
        {
            "to_answer": to_answer,
            "waiting": [t for t in waiting if t not in to_answer],
            "done": done,
            "request_form": RequestForm(),
        },
    )


@login_required
@require_POST
def transfer_answer(request, pk: int):
    _director(request.user)
    transfer = get_visible_or_404(request.user, Transfer.objects, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "cancel":
            transfers.transfer_cancel(
                actor=request.user, transfer=transfer, note=request.POST.get("note", "")
            )
            messages.success(request, _("Transfert annulé."))
        else:
            transfers.transfer_answer(
                actor=request.user,
                transfer=transfer,
                accept=action == "accept",
                note=request.POST.get("note", ""),
            )
            messages.success(
                request,
                _("Transfert accepté : le dossier attend son attribution.")
                if action == "accept"
                else _("Transfert refusé."),
            )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("cases:transfers")


@login_required
@require_POST
def transfer_request(request):
    """The receiving director asks for a case followed by another service, found by the
    national number and the birth date together (nothing is shown of it before)."""
    scope = _director(request.user)
    form = RequestForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        case = (
            Case.objects.filter(
                person__national_number=data["national_number"].strip(),
                person__birth_date=data["birth_date"],
                status__in=OPEN_STATUSES,
            )
            .exclude(service_id=scope.service_id)
            .first()
        )
        service = Service.objects.filter(pk=scope.service_id).first()
        try:
            if case is None or service is None:
                raise ValidationError(
                    _("Aucun dossier ouvert dans un autre service ne correspond.")
                )
            transfers.transfer_open(
                actor=request.user,
                case=case,
                to_service=service,
                reason=data["reason"],
                requested=True,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, _("Demande de transfert envoyée au service qui suit la personne.")
            )
    else:
        messages.error(
            request, _("Indiquez le n° de dossier national, la date de naissance et le motif.")
        )
    return redirect("cases:transfers")


def open_transfer_of(user, case):
    return (
        Transfer.objects.visible_to(user)
        .filter(case=case, status__in=OPEN_TRANSFER_STATUSES)
        .select_related("to_service")
        .first()
    )
