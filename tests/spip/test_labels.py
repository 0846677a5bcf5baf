"""get_FOO_display reads labels translated once per language, and says what Django says."""

from functools import partialmethod

import pytest
from django.apps import apps

from cases.choices import RiskLevel
from cases.models import Case, Convocation
from spip.labels import PROJECT_APPS, labels


def choice_fields():
    for model in apps.get_models():
        if model._meta.app_label in PROJECT_APPS:
            for field in model._meta.concrete_fields:
                if field.choices:
                    yield model, field


def test_every_choice_field_of_the_project_reads_the_label_table():
    fields = list(choice_fields())
    assert len(fields) > 40  # the project's models have many choice fields
    for model, field in fields:
        bound = model.__dict__[f"get_{field.name}_display"]
        assert isinstance(bound, partialmethod)
        assert bound.func.__name__ == "_display", (model, field.name)


def test_each_label_is_the_one_django_gives():
    for model, field in choice_fields():
        for value, label in field.flatchoices:
            obj = model(**{field.attname: value})
            assert getattr(obj, f"get_{field.name}_display")() == str(label), (model, value)


def test_a_value_outside_the_choices_is_shown_as_it_is():
    assert Case(risk_level="inconnu").get_risk_level_display() == "inconnu"
    assert Case(risk_level=RiskLevel.HIGH).get_risk_level_display() == "Élevé"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_labels_are_kept_per_language(language):
    field = Convocation._meta.get_field("status")
    assert labels(field, language) is labels(field, language)
    assert labels(field, "fr") is not labels(field, "en")
