"""Forms of the workload pages: they translate the services' errors, nothing more."""

from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from cases.workload.models import ReductionKind


class _ChooseAgentForm(DsfrBaseForm):
    """A CPIP among the ranked options, and a reason."""

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].choices = [(o["agent"].pk, str(o["agent"])) for o in options]


class AllocationForm(_ChooseAgentForm):
    referent = forms.TypedChoiceField(label=_("CPIP"), coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Motif (si ce n'est pas le premier proposé)"), max_length=255, required=False
    )


class ReassignForm(_ChooseAgentForm):
    referent = forms.TypedChoiceField(label=_("Nouveau CPIP"), coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Motif de la réaffectation"), max_length=255)


class CapacityReductionForm(DsfrBaseForm):
    kind = forms.ChoiceField(label=_("Motif"), choices=ReductionKind.choices)
    percent = forms.IntegerField(label=_("Part du temps (%)"), min_value=1, max_value=100)
    starts_on = forms.DateField(
        label=_("Du"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=_("Au (facultatif)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=_("Précision"), max_length=255)
