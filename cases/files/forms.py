"""Forms of the case pages. They validate input; the service functions do the writing."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from cases.choices import Intensity as _Intensity
from cases.choices import RiskLevel as _RiskLevel


class FollowUpForm(DsfrBaseForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    risk_level = forms.ChoiceField(label=_("Niveau de risque"), choices=_RiskLevel.choices)
    intensity = forms.ChoiceField(label=_("Intensité de suivi"), choices=_Intensity.choices)
    reason = forms.CharField(label=_("Motif"), max_length=500)
