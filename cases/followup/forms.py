"""Follow-up forms: the interview (with its proofs and next appointment), covers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from cases.agenda.services import free_slots
from cases.choices import Attendance, ConvocationStatus, InterviewKind
from cases.models import Convocation, Slot
from measures.models import ImposedObligation

# The next appointment: the antenna's first free slots offered, within this many days.
NEXT_SLOTS_OFFERED = 15
NEXT_SLOT_DAYS = 45


def _local_label(moment, zone: str) -> str:
    local = timezone.localtime(moment, ZoneInfo(zone)) if zone else timezone.localtime(moment)
    return date_format(local, "l j F Y à H:i")


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

    next_slot = forms.ModelChoiceField(
        label=_("Prochain rendez-vous sur un créneau libre de l'antenne"),
        queryset=Slot.objects.none(),
        required=False,
        empty_label=_("— Choisir un créneau —"),
        help_text=_("Ou une autre heure ci-dessous."),
    )

    def __init__(self, *args, obligations=(), has_next=False, slots=(), zone="", **kwargs):
        super().__init__(*args, **kwargs)
        self.has_next = has_next
        slots = list(slots)
        field = self.fields["next_slot"]
        field.queryset = Slot.objects.filter(pk__in=[s.pk for s in slots]).order_by("starts_at")
        field.label_from_instance = lambda s: _local_label(s.starts_at, zone)
        # The options from the slots already read (the queryset still validates the choice).
        field.choices = [
            ("", field.empty_label),
            *((s.pk, _local_label(s.starts_at, zone)) for s in sorted(slots, key=_starts)),
        ]
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
        if data.get("next_slot") and data.get("next_at"):
            self.add_error("next_at", _("Choisissez un créneau ou une autre heure, pas les deux."))
        if not self.has_next and not data.get("next_at") and not data.get("next_slot"):
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
        # Nobody is chosen in advance: the same name preselected twice is a trap.
        self.fields["absent_agent"].choices = [("", _("— Choisir —")), *choices]
        self.fields["covering_agent"].choices = [("", _("— Choisir —")), *choices]


def _starts(slot):
    return slot.starts_at


def interview_form_for(case, data=None, files=None, *, measures=None):
    """The interview form of ``case``: its obligations that need a proof, and whether a
    next appointment is already booked. ``measures``: the case's measures already read
    with their obligations (the case file's), not read again."""
    if measures is None:
        obligations = list(
            ImposedObligation.objects.filter(
                measure__case=case,
                measure__actual_end_date__isnull=True,
                obligation_type__needs_proof=True,
            ).select_related("obligation_type")
        )
    else:
        obligations = [
            o
            for m in measures
            if m.actual_end_date is None
            for o in m.obligations.all()
            if o.obligation_type.needs_proof
        ]
    obligations.sort(key=lambda o: o.pk)
    has_next = Convocation.objects.filter(
        case=case, status=ConvocationStatus.BOOKED, starts_at__gt=timezone.now()
    ).exists()
    initial = {"held_at": timezone.localtime().replace(second=0, microsecond=0)}
    # The antenna's free seats, but not at a time the referent already receives someone.
    busy = Convocation.objects.filter(
        case__referent_id=case.referent_id,
        status=ConvocationStatus.BOOKED,
        starts_at__gte=timezone.now(),
    ).values("starts_at")
    slots = free_slots(antenna=case.antenna, days=NEXT_SLOT_DAYS)
    if case.referent_id:
        slots = slots.exclude(starts_at__in=busy)
    slots = slots[:NEXT_SLOTS_OFFERED]
    return InterviewLogForm(
        data,
        files,
        obligations=obligations,
        has_next=has_next,
        slots=slots,
        zone=case.service.time_zone,
        initial=initial,
    )
