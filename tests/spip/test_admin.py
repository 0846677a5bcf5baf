"""The admin reads in French and in local time, like the rest of the application."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from spip.models import JobRun

pytestmark = pytest.mark.django_db


def test_job_runs_are_named_counted_and_timed_in_french_local_time(client, reference):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 16)
    # Summer in Paris: 10:00 UTC is 12:00 there.
    run = JobRun.objects.create(
        name="alerts_refresh",
        status="success",
        counts={"opened": 3},
        started_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
    )
    client.force_login(admin)
    html = client.get("/admin/spip/jobrun/").content.decode()
    assert "Calcul des alertes" in html and "alerts_refresh</a>" not in html
    assert "alertes ouvertes : 3" in html
    assert "12:00" in html
    assert str(run) == "Calcul des alertes 01/07/2026 12:00 (Terminé)"


# Field names that are French words: their automatic label is right.
FRENCH_ALREADY = {
    "code",
    "service",
    "action",
    "article",
    "version",
    "source",
    "agenda",
    "commune",
    "convocation",
    "agent",
}


def test_every_admin_column_has_a_french_name(client, reference):
    """A column named after a field in English ("last error", "partner") is a defect."""
    from django.contrib import admin
    from django.core.exceptions import FieldDoesNotExist

    english = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"spip", "cases", "measures", "partners", "reporting"}:
            continue
        for name in model_admin.list_display:
            if not isinstance(name, str) or name == "__str__":
                continue
            try:
                label = str(model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                continue
            if label == name.replace("_", " ") and name not in FRENCH_ALREADY:
                english.append(f"{model.__name__}.{name}")
    assert english == []


def test_the_audit_list_names_roles_and_objects_in_french(client, world):
    from spip.audit import audit_write

    audit_write(actor=world.users["cpip"], action="view", obj=world.cases["mine"])
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 16)
    client.force_login(admin)
    html = client.get("/admin/spip/auditentry/").content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert 'field-role_name">CPIP<' in rows and 'field-object_name">dossier<' in rows
    assert "cases.case" not in rows
