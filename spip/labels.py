"""Choice labels, translated once per language instead of once per call.

Django's ``get_FOO_display`` rebuilds a dictionary of the field's choices at each call and
hashes every lazy label on the way, which runs gettext once per choice: about 50 µs a
call, thousands of calls on a page of rows. Here each field's labels are translated once
per language and kept; ``get_FOO_display`` of the project's models reads that table. The
label of an unknown value is the value itself, as in Django."""

from __future__ import annotations

import functools
from functools import partialmethod

from django.apps import apps
from django.db import models
from django.utils.translation import get_language

PROJECT_APPS = ("spip", "cases", "measures", "partners", "reporting")


@functools.cache
def labels(field: models.Field, language: str | None) -> dict:
    """``{value: label}`` of a field with choices, in ``language``."""
    return {value: str(label) for value, label in field.flatchoices}


def _display(self, field: models.Field) -> str:
    value = getattr(self, field.attname)
    try:
        return labels(field, get_language()).get(value, value)
    except TypeError:  # an unhashable value (a list): Django's own way
        return self._get_FIELD_display(field)


def install() -> None:
    """Bind ``get_FOO_display`` to the label table on every choice field of the project's
    models, where Django bound its own (a ``get_FOO_display`` written in a model is kept)."""
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.concrete_fields:
            name = f"get_{field.name}_display"
            if field.choices and isinstance(model.__dict__.get(name), partialmethod):
                setattr(model, name, partialmethod(_display, field=field))
