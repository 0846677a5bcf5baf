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

    def clean(self):
        data = super().clean()
        _times_in_order(self, data)
        return data


def _times_in_order(form, data) -> None:
    """Every error at once: the times' order with the fields' own."""
    if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
        form.add_error("ends_at", _("La fin de la séance doit suivre son début."))


class TigGroupTimeForm(DsfrBaseForm):
    """When the group session was held; each person's outcome is a field of its own."""

    on = forms.DateField(label=_("Date"), widget=DATE)
    starts_at = forms.TimeField(label=_("Début"), widget=TIME)
    ends_at = forms.TimeField(label=_("Fin"), widget=TIME)

    def clean(self):
        data = super().clean()
        _times_in_order(self, data)
        return data


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

    def clean(self):
        """Every date error at once, with the fields' own (the service checks again)."""
        data = super().clean()
        born, starts, ends = data.get("birth_date"), data.get("starts_on"), data.get("ends_on")
        if born and starts and born >= starts:
            self.add_error(
                "birth_date", _("La date de naissance doit précéder le début du mandat.")
            )
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("La fin du mandat doit suivre son début."))
        if starts and starts > timezone.localdate():
            self.add_error("starts_on", _("Le mandat ne peut pas commencer dans le futur."))
        return data
