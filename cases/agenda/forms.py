"""The BEX desk form: person, measure, place and slot, in one screen."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case as DbCase
from django.db.models import Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from cases.agenda.services import HEARING_CATEGORIES, is_french_mobile
from cases.choices import Sex
from cases.files.services import birth_date_check
from measures.models import MeasureType, ObligationType, in_legal_order
from measures.services import measure_terms_check
from spip.validation import errors_onto


class PersonSearchForm(DsfrBaseForm):
    """The clerk's identity search: a surname and a birth date or a first name."""

    nom = forms.CharField(label=_("Nom de la personne recherchée"), max_length=100)
    prenom = forms.CharField(label=_("Son prénom"), max_length=150, required=False)
    naissance = forms.DateField(
        label=_("Sa date de naissance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


# The search service's field names, as the search form names them.
SEARCH_FIELDS = {"surname": "nom", "first_name": "prenom", "birth_date": "naissance"}


class DeskForm(DsfrBaseForm):
    request_token = forms.CharField(widget=forms.HiddenInput, required=False)
    person = forms.IntegerField(widget=forms.HiddenInput, required=False)
    birth_name = forms.CharField(label=_("Nom de naissance"), max_length=100, required=False)
    usage_name = forms.CharField(label=_("Nom d'usage"), max_length=100, required=False)
    first_names = forms.CharField(label=_("Prénoms"), max_length=150, required=False)
    sex = forms.ChoiceField(label=_("Sexe"), choices=[("", "—"), *Sex.choices], required=False)
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    address = forms.CharField(label=_("Adresse"), max_length=255, required=False)
    postal_code = forms.CharField(label=_("Code postal"), max_length=5)
    commune = forms.CharField(label=_("Commune"), max_length=120)
    phone = forms.CharField(
        label=_("Téléphone portable"),
        max_length=20,
        required=False,
        help_text=_("Pour les SMS de rappel : 06 ou 07."),
    )
    email = forms.EmailField(label=_("Courriel"), required=False)
    accepts_messages = forms.BooleanField(
        label=_("Accepte les rappels par SMS ou courriel"), required=False, initial=True
    )
    measure_type = forms.ModelChoiceField(
        label=_("Mesure prononcée"), queryset=MeasureType.objects.none()
    )
    judgment_date = forms.DateField(
        label=_("Date du jugement"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    judgment_reference = forms.CharField(label=_("N° parquet"), max_length=40, required=False)
    provisionally_enforceable = forms.BooleanField(label=_("Exécution provisoire"), required=False)
    obligations = forms.ModelMultipleChoiceField(
        label=_("Obligations particulières"),
        queryset=ObligationType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tig_hours = forms.IntegerField(label=_("Heures de TIG"), required=False, min_value=1)
    tig_deadline = forms.DateField(
        label=_("TIG à exécuter avant le"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    antenna = forms.TypedChoiceField(label=_("Antenne du SPIP"), coerce=int, required=False)
    # Rendered as radios by the template from the proposed slots; checked when booking.
    slot = forms.IntegerField(label=_("Créneau"), required=False, widget=forms.HiddenInput)
    beyond_reason = forms.CharField(
        label=_("Motif du dépassement du délai légal"), max_length=255, required=False
    )
    # Slots further ahead: from a day, or after the last one shown ("Créneaux suivants").
    slots_from = forms.DateField(
        label=_("Créneaux à partir du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    after = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    # A likely duplicate needs an explicit answer.
    not_duplicate = forms.BooleanField(
        label=_("Ce n'est pas la même personne : en créer une nouvelle"), required=False
    )
    not_duplicate_reason = forms.CharField(
        label=_("Pourquoi (ce qui les distingue)"), max_length=255, required=False
    )

    def __init__(self, *args, antennas=(), slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure_type"].queryset = MeasureType.objects.filter(
            category__in=HEARING_CATEGORIES
        ).order_by("code")
        special = ObligationType.objects.filter(family="special")
        # Offered in the order of the code (132-45 1°, 2°… rather than alphabetically).
        ordered = [t.pk for _heading, items in in_legal_order(special) for t in items]
        self.fields["obligations"].queryset = special.order_by(
            DbCase(
                *[When(pk=pk, then=Value(i)) for i, pk in enumerate(ordered)], default=Value(999)
            )
        )
        self.fields["antenna"].choices = [
            ("", "—"),
            *[(a.pk, f"{a.name} ({a.service})") for a in antennas],
        ]
        if not self.is_bound:
            self.initial.setdefault("request_token", uuid.uuid4().hex)
            self.initial.setdefault("judgment_date", timezone.localdate())

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        try:
            birth_date_check(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["birth_date"]) from exc
        return value

    def clean_judgment_date(self):
        value = self.cleaned_data["judgment_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("La date du jugement ne peut pas être dans le futur."))
        return value

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not is_french_mobile(phone):
            raise forms.ValidationError(
                _("Ce n'est pas un numéro de portable français (06 ou 07).")
            )
        return phone

    def clean_measure_type(self):
        value = self.cleaned_data["measure_type"]
        if value.category not in HEARING_CATEGORIES:
            raise forms.ValidationError(_("Ce type de mesure n'est pas prononcé à l'audience."))
        return value

    def clean(self):
        data = super().clean()
        if not data.get("person"):
            for name in ("birth_name", "first_names", "sex", "birth_date"):
                if name not in self.errors and not data.get(name):
                    self.add_error(name, _("Champ requis pour une nouvelle personne."))
        if data.get("measure_type") and data.get("judgment_date"):
            # Refused at once, before any slot is offered (the service checks it again).
            try:
                measure_terms_check(
                    measure_type=data["measure_type"],
                    judgment_date=data["judgment_date"],
                    tig_hours=data.get("tig_hours"),
                    tig_deadline=data.get("tig_deadline"),
                )
            except ValidationError as exc:
                errors_onto(self, exc)
        return data
