"""FilterSets shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseSetting, CaseStatus, RiskLevel
from cases.models import Case, Person
from spip.models import Agent, Antenna
from spip.normalize import search_key


class PersonFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Nom ou prénom"), method="filter_name")
    birth_date = django_filters.DateFilter(label=_("Date de naissance"))
    national_number = django_filters.CharFilter(label=_("N° de dossier national"))

    class Meta:
        model = Person
        fields = ["q", "birth_date", "national_number"]

    def filter_name(self, queryset, name, value):
        key = search_key(value)
        return queryset.filter(search_key__contains=key) if key else queryset


class CaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Rechercher une personne"), method="filter_name")
    status = django_filters.ChoiceFilter(label=_("Statut"), choices=CaseStatus.choices)
    risk_level = django_filters.ChoiceFilter(label=_("Risque"), choices=RiskLevel.choices)
    setting = django_filters.ChoiceFilter(label=_("Milieu"), choices=CaseSetting.choices)
    measure_type = django_filters.CharFilter(
        label=_("Type de mesure"), method="filter_measure_type"
    )

    class Meta:
        model = Case
        fields = ["q", "status", "risk_level", "setting", "measure_type", "antenna", "referent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices offered to a user come from their scope too.

        user = getattr(self.request, "user", None)
        self.filters["antenna"].queryset = Antenna.objects.visible_to(user)
        self.filters["referent"].queryset = (
            Agent.objects.visible_to(user).filter(role="cpip").select_related("user")
        )

    def filter_name(self, queryset, name, value):
        key = search_key(value)
        return queryset.filter(person__search_key__contains=key) if key else queryset

    def filter_measure_type(self, queryset, name, value):
        return queryset.filter(
            Q(measures__measure_type__code=value.upper())
            & Q(measures__actual_end_date__isnull=True)
        ).distinct()
