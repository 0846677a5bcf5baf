"""Forms of TIG placements and sessions, and of the pre-sentencing record."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from partners.choices import PRESENTENCING_MANDATE_CHOICES, Rating, TigOutcome
from partners.models import TigPost

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
RATINGS = [("", "—"), *Rating.choices]


class TigPlaceForm(DsfrBaseForm):
    post = forms.ModelChoiceField(
        label=_("Poste"), queryset=TigPost.objects.none(), empty_label=_("— Choisir —")
    )
    starts_on = forms.DateField(label=_("Début du placement"), widget=DATE)

    def __init__(self, *args, posts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if posts is not None:
            self.fields["post"].queryset = posts


class TigSessionForm(DsfrBaseForm):
    """One person's session."""

    on = forms.DateField(label=_("Date"), widget=DATE)
    starts_at = forms.TimeField(label=_("Début"), widget=TIME)
    ends_at = forms.TimeField(label=_("Fin"), widget=TIME)
    outcome = forms.ChoiceField(label=_("Issue"), choices=TigOutcome.choices)
    behaviour = forms.ChoiceField(label=_("Comportement"), choices=RATINGS, required=False)
    work_quality = forms.ChoiceField(label=_("Qualité du travail"), choices=RATINGS, required=False)
    note = forms.CharField(
        label=_("Observations pour le CPIP"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class TigGroupTimeForm(DsfrBaseForm):
    """When the group session was held; each person's outcome is a field of its own."""

    on = forms.DateField(label=_("Date"), widget=DATE)
    starts_at = forms.TimeField(label=_("Début"), widget=TIME)
    ends_at = forms.TimeField(label=_("Fin"), widget=TIME)


class PresentencingForm(DsfrBaseForm):
    mandate = forms.ChoiceField(
        label=_("Mandat"),
        choices=PRESENTENCING_MANDATE_CHOICES,
    )
    birth_name = forms.CharField(label=_("Nom de naissance"), max_length=100)
    usage_name = forms.CharField(label=_("Nom d'usage"), max_length=100, required=False)
    first_names = forms.CharField(label=_("Prénoms"), max_length=150)
    birth_date = forms.DateField(label=_("Date de naissance"), widget=DATE)
    starts_on = forms.DateField(label=_("Début du mandat"), widget=DATE)
    ends_on = forms.DateField(label=_("Fin du mandat"), widget=DATE, required=False)
    summary = forms.CharField(
        label=_("Synthèse de l'évaluation"),
        help_text=_("Ce que le SPIP recevra si la personne est condamnée et suivie."),
        max_length=6000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
