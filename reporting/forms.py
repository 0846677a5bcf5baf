"""The filters shared by the dashboards, their exports and the reports API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseSetting
from reporting.stats import last_twelve_months
from spip.access import scope_for
from spip.choices import Role
from spip.models import Antenna, Service

MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class ReportParams:
    since: date
    until: date
    service_id: int | None = None
    antenna_id: int | None = None
    setting: str = ""


class ReportFilterForm(forms.Form):
    """Entity (service, antenna), period and setting. Choices are what the user may count."""

    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=_("Tous les services"),
    )
    antenna = forms.ModelChoiceField(
        label=_("Antenne"),
        queryset=Antenna.objects.none(),
        required=False,
        empty_label=_("Toutes les antennes"),
    )
    since = forms.DateField(
        label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    setting = forms.ChoiceField(
        label=_("Milieu"),
        required=False,
        choices=[("", _("Tous")), *CaseSetting.choices],
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["service"].queryset = Service.objects.visible_to(user).order_by("code")
        antennas = Antenna.objects.visible_to(user).select_related("service").order_by("name")
        scope = scope_for(user)
        if scope.role == Role.DPIP and scope.antenna_id:
            # A head of antenna's figures are those of the antenna: no other is offered
            # (another would only ever show "no measure").
            antennas = antennas.filter(pk=scope.antenna_id)
        self.fields["antenna"].queryset = antennas

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        until = data.get("until") or today
        since = data.get("since") or last_twelve_months(until)[0]
        if since > until:
            self.add_error("since", _("La date de début doit précéder la date de fin."))
        elif (until - since).days > MAX_PERIOD_DAYS:
            self.add_error("since", _("La période est limitée à trois ans."))
        service, antenna = data.get("service"), data.get("antenna")
        if service and antenna and antenna.service_id != service.pk:
            self.add_error("antenna", _("Cette antenne n'appartient pas au service choisi."))
        data["since"], data["until"] = since, until
        return data

    def params(self) -> ReportParams:
        data = self.cleaned_data
        return ReportParams(
            since=data["since"],
            until=data["until"],
            service_id=data["service"].pk if data.get("service") else None,
            antenna_id=data["antenna"].pk if data.get("antenna") else None,
            setting=data.get("setting") or "",
        )


def report_params(data, user) -> tuple[ReportFilterForm, ReportParams | None]:
    form = ReportFilterForm(data or None, user=user)
    if not data:
        form = ReportFilterForm({}, user=user)
    return form, form.params() if form.is_valid() else None


class WhatIfForm(forms.Form):
    """Staffing what-if: add (or move) CPIPs, change a weight. Nothing is saved."""

    add_service = forms.ModelChoiceField(
        label=_("Ajouter des CPIP au service"), queryset=Service.objects.none(), required=False
    )
    from_service = forms.ModelChoiceField(
        label=_("… pris au service (facultatif)"), queryset=Service.objects.none(), required=False
    )
    agents = forms.DecimalField(
        label=_("Nombre d'ETP"),
        required=False,
        min_value=Decimal("0.1"),
        max_value=Decimal(500),
        decimal_places=1,
    )
    weight_high = forms.DecimalField(
        label=_("Poids risque élevé"), required=False, min_value=Decimal("0.001"), max_value=1
    )
    weight_moderate = forms.DecimalField(
        label=_("Poids risque modéré à élevé"),
        required=False,
        min_value=Decimal("0.001"),
        max_value=1,
    )
    weight_low = forms.DecimalField(
        label=_("Poids risque faible"), required=False, min_value=Decimal("0.001"), max_value=1
    )
    weight_not_assessed = forms.DecimalField(
        label=_("Poids non évalué"), required=False, min_value=Decimal("0.001"), max_value=1
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        services = Service.objects.visible_to(user).order_by("code")
        self.fields["add_service"].queryset = services
        self.fields["from_service"].queryset = services

    def clean(self):
        data = super().clean()
        if data.get("agents") and not data.get("add_service"):
            self.add_error("add_service", _("Choisissez le service qui reçoit les agents."))
        if data.get("from_service") and data.get("from_service") == data.get("add_service"):
            self.add_error("from_service", _("Choisissez deux services différents."))
        if data.get("add_service") and not data.get("agents"):
            self.add_error("agents", _("Indiquez le nombre d'ETP."))
        return data
