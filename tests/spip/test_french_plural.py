"""French agreement: 0 and 1 take the singular ("0 dossier", "1 dossier", "2 dossiers")."""

from django.template import Context, Template
from django.utils import translation


def _render(n: int) -> str:
    template = Template(
        "{% load i18n %}{% blocktranslate count n=n %}{{ n }} dossier{% plural %}"
        "{{ n }} dossiers{% endblocktranslate %}"
    )
    with translation.override("fr"):
        return template.render(Context({"n": n}))


def test_zero_and_one_are_singular_in_french():
    assert [_render(n) for n in (0, 1, 2, 17)] == [
        "0 dossier",
        "1 dossier",
        "2 dossiers",
        "17 dossiers",
    ]
