"""A service's refusal lands on the form whatever its shape: under the field it names,
above the form when it names none or names a field the form lacks."""

from django import forms
from django.core.exceptions import ValidationError

from spip.validation import errors_onto


class _Form(forms.Form):
    reason = forms.CharField(required=False)


def _refused(error):
    form = _Form({"reason": ""})
    assert form.is_valid()
    errors_onto(form, error)
    return form


def test_a_refusal_naming_a_field_goes_under_it():
    form = _refused(ValidationError({"reason": "Indiquez le motif."}))
    assert form.errors == {"reason": ["Indiquez le motif."]}


def test_a_refusal_naming_no_field_or_an_unknown_one_goes_above_the_form():
    assert _refused(ValidationError("Seul un dossier suivi.")).non_field_errors() == [
        "Seul un dossier suivi."
    ]
    assert _refused(ValidationError({"slot": "Créneau pris."})).non_field_errors() == [
        "Créneau pris."
    ]
