from django import forms
from django.utils.translation import gettext_lazy as _

from cases.imports.reading import MAX_BYTES
from spip.access import scope_for
from spip.models import Service


class ImportForm(forms.Form):
    """The export to import, and (for an administrator) the service it is for."""

    file = forms.FileField(
        label=_("Fichier d'export (CSV, UTF-8, séparateur « ; »)"),
        help_text=_("50 Mo au plus."),
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope_for(user)
        if self.scope.is_admin:
            self.fields["service"].queryset = Service.objects.order_by("code")
            self.fields["service"].required = True
        else:
            del self.fields["service"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("Le fichier dépasse 50 Mo : découpez l'export."))
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("Déposez le fichier CSV de l'export (.csv)."))
        return upload

    def target_service(self) -> Service:
        if self.scope.is_admin:
            return self.cleaned_data["service"]
        return Service.objects.get(pk=self.scope.service_id)
