"""Alert forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm


class SnoozeForm(DsfrBaseForm):
    snoozed_until = forms.DateField(
        label=_("Reporter au"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    snooze_reason = forms.CharField(label=_("Motif"), max_length=255)
