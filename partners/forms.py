"""Forms of the referral workflow: the CPIP's proposal, the partner's answer."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from partners.choices import Domain, ReferralStatus
from partners.models import PartnerBody, Referral, serving_q
from spip.models import Commune
from spip.normalize import search_key


class ReferralProposeForm(DsfrBaseForm):
    partner = forms.ModelChoiceField(
        label=_("Partenaire"), queryset=PartnerBody.objects.none(), empty_label=_("— Choisir —")
    )
    domain = forms.ChoiceField(label=_("Domaine"), choices=Domain.choices)
    reason = forms.CharField(
        label=_("Motif de l'orientation"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    message = forms.CharField(
        label=_("Ce que le partenaire doit savoir"),
        help_text=_("Le strict nécessaire : le partenaire ne voit rien d'autre du dossier."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    outside_reason = forms.CharField(
        label=_("Si le partenaire est hors domaine, hors territoire ou complet : pourquoi"),
        max_length=255,
        required=False,
    )

    def __init__(self, *args, partners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if partners is not None:
            self.fields["partner"].queryset = partners


class ReferralStepForm(DsfrBaseForm):
    to = forms.ChoiceField(choices=ReferralStatus.choices, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Motif ou note"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    on = forms.DateField(
        label=_("Date du premier contact"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    attended = forms.TypedChoiceField(
        label=_("La personne a-t-elle suivi l'accompagnement ?"),
        choices=[("", "—"), ("1", _("Oui")), ("0", _("Non"))],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
    )
    result = forms.CharField(
        label=_("Bilan de fin"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReferralFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("État"), choices=ReferralStatus.choices)
    since = django_filters.DateFilter(
        field_name="sent_on", lookup_expr="gte", label=_("Proposées depuis le")
    )
    until = django_filters.DateFilter(field_name="sent_on", lookup_expr="lte", label=_("jusqu'au"))

    class Meta:
        model = Referral
        fields = ["status", "since", "until"]


class PartnerFilterSet(django_filters.FilterSet):
    """The directory's filters: a name, a domain, a territory (the service served)."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Nom"))
    domain = django_filters.ChoiceFilter(
        label=_("Domaine"), choices=Domain.choices, method="filter_domain"
    )
    service = django_filters.ModelChoiceFilter(
        field_name="services", label=_("Territoire (service)"), queryset=None
    )
    commune = django_filters.CharFilter(
        label=_("Commune de la personne (nom ou code postal)"), method="filter_commune"
    )

    class Meta:
        model = PartnerBody
        fields = ["q", "domain", "service", "commune"]

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["service"].queryset = services

    def filter_commune(self, queryset, name, value):
        """Partners serving the commune; an unknown commune matches nobody."""
        text = value.strip()
        communes = Commune.objects.filter(
            Q(postal_code=text) | Q(search_key=search_key(text)) if text else Q(pk__in=[])
        )
        q = Q(pk__in=[])
        for commune in communes[:5]:
            q |= serving_q(commune)
        return queryset.filter(q).distinct()

    def filter_domain(self, queryset, name, value):
        # Domains are a JSON list of codes: matched as the quoted code, on every backend.
        return queryset.filter(domains__icontains=f'"{value}"')
