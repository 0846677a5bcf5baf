"""Forms of the case pages. They validate input; the service functions do the writing."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from cases.choices import Attendance, InterviewKind


class InterviewForm(DsfrBaseForm):
    held_at = forms.DateTimeField(
        label=_("Date et heure"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    kind = forms.ChoiceField(label=_("Type d'entretien"), choices=InterviewKind.choices)
    attendance = forms.ChoiceField(label=_("Présence"), choices=Attendance.choices)
    duration_minutes = forms.IntegerField(
        label=_("Durée (minutes)"), min_value=1, max_value=480, initial=30
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 6}), max_length=12000, required=False
    )
    private_notes = forms.CharField(
        label=_("Notes internes au SPIP"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=12000,
        required=False,
        help_text=_("Jamais communiquées aux partenaires ni à la juridiction."),
    )

    def clean_held_at(self):
        value = self.cleaned_data["held_at"]
        if value > timezone.now():
            raise forms.ValidationError(_("Un entretien ne peut pas être saisi dans le futur."))
        return value


class AllocationForm(DsfrBaseForm):
    referent = forms.TypedChoiceField(label=_("CPIP"), coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Motif (si ce n'est pas le premier proposé)"), max_length=255, required=False
    )

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].choices = [(o["agent"].pk, str(o["agent"])) for o in options]


class SnoozeForm(DsfrBaseForm):
    snoozed_until = forms.DateField(
        label=_("Reporter au"), widget=forms.DateInput(attrs={"type": "date"})
    )
    snooze_reason = forms.CharField(label=_("Motif"), max_length=255)
