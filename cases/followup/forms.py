"""Follow-up forms: the interview (with its proofs and next appointment), covers."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from cases.choices import Attendance, ConvocationStatus, InterviewKind
from cases.models import Convocation
from measures.models import ImposedObligation


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


class InterviewLogForm(InterviewForm):
    """The interview form of the case file: proofs per obligation and the next appointment."""

    next_at = forms.DateTimeField(
        label=_("Prochain rendez-vous"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, obligations=(), has_next=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_next = has_next
        self.obligations = list(obligations)
        for obligation in self.obligations:
            self.fields[f"proof_{obligation.pk}"] = forms.FileField(
                label=str(obligation.obligation_type.label),
                required=False,
                help_text=obligation.obligation_type.proof_hint
                or _("PDF, JPEG ou PNG, 5 Mo au plus."),
                widget=forms.ClearableFileInput(
                    attrs={"accept": "application/pdf,image/jpeg,image/png"}
                ),
            )
        if has_next:
            self.fields["next_at"].help_text = _("Un rendez-vous est déjà programmé ; facultatif.")

    def clean(self):
        data = super().clean()
        if not self.has_next and not data.get("next_at"):
            self.add_error(
                "next_at",
                _("Programmez le prochain rendez-vous : aucun n'est prévu pour ce dossier."),
            )
        return data

    def proofs(self):
        return [
            (o, self.cleaned_data[f"proof_{o.pk}"])
            for o in self.obligations
            if self.cleaned_data.get(f"proof_{o.pk}")
        ]

    def proof_fields(self):
        return [self[f"proof_{o.pk}"] for o in self.obligations]


class CoverForm(DsfrBaseForm):
    absent_agent = forms.TypedChoiceField(label=_("Agent absent"), coerce=int)
    covering_agent = forms.TypedChoiceField(label=_("Intérimaire"), coerce=int)
    starts_on = forms.DateField(
        label=_("Du"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=_("Au"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(label=_("Motif"), max_length=255, required=False)

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(a.pk, str(a)) for a in agents]
        self.fields["absent_agent"].choices = choices
        self.fields["covering_agent"].choices = choices


def interview_form_for(case, data=None, files=None):
    """The interview form of ``case``: its obligations that need a proof, and whether a
    next appointment is already booked."""
    obligations = ImposedObligation.objects.filter(
        measure__case=case, measure__actual_end_date__isnull=True, obligation_type__needs_proof=True
    ).select_related("obligation_type")
    has_next = Convocation.objects.filter(
        case=case, status=ConvocationStatus.BOOKED, starts_at__gt=timezone.now()
    ).exists()
    initial = {"held_at": timezone.localtime().replace(second=0, microsecond=0)}
    return InterviewLogForm(
        data, files, obligations=obligations, has_next=has_next, initial=initial
    )
