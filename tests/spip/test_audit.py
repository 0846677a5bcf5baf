"""The audit trail: reads of a file and every write leave a row nobody can change."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from cases.files import services as case_services
from cases.followup import services as followup_services
from spip.models import AuditEntry
from spip.services import audit_purge_expired

pytestmark = pytest.mark.django_db


def test_opening_a_case_file_writes_a_view_row_with_who_role_and_ip(world, client):
    client.force_login(world.users["cpip"])
    case = world.cases["mine"]
    client.get(reverse("cases:detail", args=[case.pk]), REMOTE_ADDR="10.1.2.3")
    entry = AuditEntry.objects.get(action="view", object_type="cases.case", object_id=str(case.pk))
    assert (entry.username, entry.role, entry.ip) == ("cpip", "cpip", "10.1.2.3")
    assert entry.service_id == case.service_id


def test_reading_a_person_or_case_through_the_api_is_audited(world, api_for):
    api = api_for(world.users["dspip"])
    case = world.cases["a2"]
    api.get(f"/api/v1/cases/{case.pk}/")
    api.get(f"/api/v1/persons/{case.person_id}/")
    rows = AuditEntry.objects.filter(action="view", username="dspip")
    assert {(r.object_type, r.object_id) for r in rows} == {
        ("cases.case", str(case.pk)),
        ("cases.person", str(case.person_id)),
    }


def test_a_refused_read_writes_no_view_row(world, client_for):
    client = client_for(world.users["cpip"])
    assert client.get(reverse("cases:detail", args=[world.cases["other"].pk])).status_code == 404
    assert not AuditEntry.objects.filter(
        action="view", object_id=str(world.cases["other"].pk)
    ).exists()


def test_writes_record_the_changed_fields_old_and_new(world):
    actor = world.users["dpip"]
    case = world.cases["arrival"]
    case_services.case_assign(actor=actor, case=case, referent=world.agents["cpip2"])
    entry = AuditEntry.objects.filter(
        action="update", object_type="cases.case", object_id=str(case.pk)
    ).get()
    assert entry.username == "dpip"
    assert entry.changes["referent_id"] == [None, world.agents["cpip2"].pk]
    assert entry.changes["status"] == ["awaiting", "active"]


def test_interview_notes_are_not_copied_into_the_audit(world):
    followup_services.interview_record(
        actor=world.users["cpip"],
        case=world.cases["mine"],
        agent=world.agents["cpip"],
        held_at=timezone.now(),
        kind="office",
        duration_minutes=30,
        attendance="present",
        notes="Détail intime qui ne doit pas sortir du dossier",
    )
    entry = AuditEntry.objects.get(object_type="cases.interview")
    assert "Détail intime" not in str(entry.changes)


def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm(world):
    case_services.risk_assess(
        actor=world.users["cpip"],
        case=world.cases["mine"],
        level="high",
        assessed_on=timezone.localdate(),
        assessor=world.agents["cpip"],
    )
    entry = AuditEntry.objects.latest("id")
    entry.username = "quelqu'un d'autre"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(username="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_the_database_refuses_to_update_or_delete_recent_audit_rows(world):
    """Below the application: raw SQL is refused by a trigger."""
    entry = AuditEntry.objects.create(action="view", object_type="test", username="x")
    table = AuditEntry._meta.db_table
    for sql in (
        f"UPDATE {table} SET username = 'y' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, username="x").exists()


def test_the_purge_removes_only_rows_past_retention(world):
    table = AuditEntry._meta.db_table
    old = AuditEntry.objects.create(action="view", object_type="old", username="x")
    recent = AuditEntry.objects.create(action="view", object_type="recent", username="x")
    # Backdating is itself an UPDATE, refused by the trigger: insert the old row directly.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (at, username, role, action, object_type, object_id, object_repr, changes) "
            "VALUES (%s, 'x', '', 'view', 'ancient', '', '', '{}')",
            [timezone.now() - timedelta(days=400)],
        )
    assert audit_purge_expired() == 1
    assert not AuditEntry.objects.filter(object_type="ancient").exists()
    assert AuditEntry.objects.filter(pk__in=[old.pk, recent.pk]).count() == 2


def test_a_dspip_lists_the_audit_rows_of_their_service_only(world, client_for):
    case_services.risk_assess(
        actor=world.users["cpip"],
        case=world.cases["mine"],
        level="low",
        assessed_on=timezone.localdate(),
        assessor=world.agents["cpip"],
    )
    case_services.risk_assess(
        actor=world.users["cpip_other"],
        case=world.cases["other"],
        level="high",
        assessed_on=timezone.localdate(),
        assessor=world.agents["cpip_other"],
    )
    response = client_for(world.users["dspip"]).get(reverse("audit-list"))
    assert response.status_code == 200
    # (Each director's own sign-in is in their journal too.)
    rows = response.context["page_obj"].object_list
    assert {e.username for e in rows if e.action != "login"} == {"cpip"}
    response = client_for(world.users["dspip_other"]).get(reverse("audit-list"))
    rows = response.context["page_obj"].object_list
    assert {e.username for e in rows if e.action != "login"} == {"cpip_other"}


@pytest.mark.parametrize("persona", ["cpip", "dpip", "bex", "disp", "dap", "partner"])
def test_other_roles_cannot_list_the_audit(world, client_for, persona):
    assert client_for(world.users[persona]).get(reverse("audit-list")).status_code == 403
