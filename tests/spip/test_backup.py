"""Backup and restore: the database and the stored files together, into an empty
database and an empty storage, checked by another process that reads a proof back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from cases.models import Case, Person, Proof
from measures.models import ImposedObligation, ObligationType
from spip.models import AuditEntry

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Another process, on the restored database and storage only: the counts, and the proof
# downloaded by its CPIP through the scoped view.
READER = """
import json, sys, django
django.setup()
from django.test import Client
from django.contrib.auth import get_user_model
from cases.models import Case, Person, Proof
from spip.models import AuditEntry
proof = Proof.objects.get(pk=int(sys.argv[1]))
client = Client(HTTP_HOST="localhost")
client.force_login(get_user_model().objects.get(username="cpip"))
response = client.get(sys.argv[2])
print(json.dumps({
    "persons": Person.objects.count(),
    "cases": Case.objects.count(),
    "proofs": Proof.objects.count(),
    "audit": AuditEntry.objects.filter(username="cpip", action="create").count(),
    "status": response.status_code,
    "body": b"".join(response.streaming_content).decode("latin-1"),
}))
"""


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and scripts
        [sys.executable, *args],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def restored_database() -> tuple[str, callable]:
    """A database URL that does not exist yet, and how to drop it afterwards."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        path = Path(db["NAME"]).with_name("restored.sqlite3")
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    import psycopg2

    name = f"{db['NAME']}_restored"
    credentials = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
    url = f"postgres://{credentials}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"

    def drop():
        admin = psycopg2.connect(
            dbname="postgres",
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
        )
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    drop()
    return url, drop


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_on_an_empty_database_and_storage(world, api_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    care = ImposedObligation.objects.create(
        measure=world.cases["mine"].measures.get(),
        obligation_type=ObligationType.objects.get(code="S-SOINS"),
    )
    response = api_for(world.users["cpip"]).post(
        "/api/v1/proofs/",
        {
            "case": world.cases["mine"].pk,
            "obligation": care.pk,
            "file": SimpleUploadedFile("attestation.pdf", PDF),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    proof = Proof.objects.get(pk=response.json()["id"])
    created = AuditEntry.objects.filter(username="cpip", action="create").count()
    assert created >= 1
    # The world: 5 persons and cases, the one proof.
    assert (Person.objects.count(), Case.objects.count(), Proof.objects.count()) == (5, 5, 1)

    folder = tmp_path / "backup"
    call_command("backup", "--output", str(folder))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert list(manifest["files"]) == [proof.file.name]
    assert manifest["tables"]["cases_case"] == 5

    url, drop = restored_database()
    empty = tmp_path / "empty-media"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "spip.settings",
        "DJANGO_ENV": "test",
        "DATABASE_URL": url,
        "SPIP_MEDIA_ROOT": str(empty),
        "SPIP_STORAGE": "local",
    }
    try:
        restored = run(["manage.py", "restore", str(folder)], env)
        assert restored.returncode == 0, restored.stderr
        assert "restaurée et vérifiée" in restored.stdout
        assert (empty / proof.file.name).read_bytes() == PDF
        url_of_proof = reverse("cases:proof", args=[world.cases["mine"].pk, proof.pk])
        read = run(["-c", READER, str(proof.pk), url_of_proof], env)
        assert read.returncode == 0, read.stderr
        seen = json.loads(read.stdout.strip().splitlines()[-1])
        assert seen == {
            "persons": 5,
            "cases": 5,
            "proofs": 1,
            "audit": created,
            "status": 200,
            "body": PDF.decode("latin-1"),
        }
        # A second restore on what is now a full database is refused, before any write.
        again = run(["manage.py", "restore", str(folder)], env)
        assert again.returncode != 0
        assert "n'est pas vide" in again.stderr
    finally:
        drop()


def test_restore_refuses_a_database_that_is_not_empty(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "format": 1,
                "vendor": connection.vendor,
                "database": "database.dump",
                "tables": {},
                "files": {},
            }
        )
    )
    (folder / "database.dump").write_bytes(b"")
    (folder / "files.tar").write_bytes(b"")
    cases = Case.objects.count()
    with pytest.raises(CommandError, match="n'est pas vide"):
        call_command("restore", str(folder))
    assert Case.objects.count() == cases


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path):
    with pytest.raises(CommandError, match="est-ce une sauvegarde"):
        call_command("restore", str(tmp_path))


def test_backup_refuses_a_folder_that_is_not_empty(world, tmp_path):
    (tmp_path / "something").write_text("x")
    with pytest.raises(CommandError, match="n'est pas vide"):
        call_command("backup", "--output", str(tmp_path))
