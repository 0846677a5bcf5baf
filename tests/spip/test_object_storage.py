"""Proofs and exports on S3-compatible object storage, against a local S3 server (moto's
server mode, started here): upload, scoped download, refused cross-scope download, purge,
and a second web host that reads what the first one stored."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from moto.server import ThreadedMotoServer

from cases.models import Proof
from measures.models import ImposedObligation, ObligationType
from reporting.services import exports_purge
from spip.models import AuditEntry, JobRun

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BUCKET = "spip-test"
KEYS = {"access_key": "testing", "secret_key": "testing", "region_name": "eu-west-3"}


@pytest.fixture(scope="module")
def s3_server():
    """A local S3 server on a free port, one per module, with the bucket the app uses."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
        region_name=KEYS["region_name"],
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": KEYS["region_name"]}
    )
    yield endpoint, client
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, tmp_path):
    """The app's default storage is the bucket (as SPIP_STORAGE=s3 makes it); the local
    media folder is an empty one, to show that nothing lands there. Changing STORAGES
    resets Django's storage handler and ``default_storage`` (django.test.signals)."""
    endpoint, client = s3_server
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "addressing_style": "path",
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                **KEYS,
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])


def keys(client, prefix: str = "") -> set[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"] for item in listed.get("Contents", [])}


def body(client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


@pytest.fixture
def care(world):
    """An obligation of care (needs proof) on cpip's case."""
    return ImposedObligation.objects.create(
        measure=world.cases["mine"].measures.get(),
        obligation_type=ObligationType.objects.get(code="S-SOINS"),
    )


def upload(world, api_for, care) -> Proof:
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
    return Proof.objects.get(pk=response.json()["id"])


def test_settings_default_to_the_local_folder():
    assert django_settings.SPIP_STORAGE == "local"
    assert django_settings.STORAGES["default"]["BACKEND"] == (
        "django.core.files.storage.FileSystemStorage"
    )


def test_an_uploaded_proof_lands_in_the_bucket_and_nowhere_on_the_host(
    world, api_for, care, bucket, tmp_path
):
    proof = upload(world, api_for, care)
    case = world.cases["mine"]
    assert proof.file.name.startswith(f"proofs/{case.service_id}/{case.pk}/")
    assert keys(bucket, "proofs/") == {proof.file.name}
    assert body(bucket, proof.file.name) == PDF
    assert not (tmp_path / "media").exists()


def test_a_proof_in_the_bucket_is_served_to_those_who_may_read_the_file(
    world, api_for, care, bucket, client_for
):
    proof = upload(world, api_for, care)
    url = reverse("cases:proof", args=[world.cases["mine"].pk, proof.pk])
    for persona in ("cpip", "cpip2"):  # the referent, a colleague of the same antenna
        response = client_for(world.users[persona]).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'inline; filename="justificatif-{proof.pk}.pdf"'
    views = AuditEntry.objects.filter(object_type="cases.proof", object_id=str(proof.pk))
    assert set(views.filter(action="view").values_list("username", flat=True)) == {
        "cpip",
        "cpip2",
    }


@pytest.mark.parametrize("persona", ["cpip_other", "dspip_other", "bex", "partner"])
def test_a_proof_in_the_bucket_is_refused_out_of_scope(
    world, api_for, care, bucket, client_for, persona
):
    proof = upload(world, api_for, care)
    url = reverse("cases:proof", args=[world.cases["mine"].pk, proof.pk])
    response = client_for(world.users[persona]).get(url)
    assert response.status_code == 404
    assert PDF not in response.content
    assert AuditEntry.objects.filter(
        username=persona, action="denied", object_type="cases.proof", object_id=str(proof.pk)
    ).exists()
    # Nor through another case's address that the user may read.
    own = world.cases["other"] if persona in ("cpip_other", "dspip_other") else None
    if own is not None:
        crossed = reverse("cases:proof", args=[own.pk, proof.pk])
        assert client_for(world.users[persona]).get(crossed).status_code == 404


def test_another_web_host_reads_the_proof_from_the_bucket(
    world, api_for, care, bucket, s3_server, tmp_path
):
    """Host A stores the proof; host B — another process, configured by the environment
    only (SPIP_S3_*), with an empty media folder of its own — reads the same bytes."""
    proof = upload(world, api_for, care)
    endpoint, _client = s3_server
    empty = tmp_path / "host-b-media"
    empty.mkdir()
    host_b = (
        "import sys, django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.files.storage import default_storage\n"
        "assert settings.SPIP_STORAGE == 's3', settings.SPIP_STORAGE\n"
        "with default_storage.open(sys.argv[1], 'rb') as handle:\n"
        "    sys.stdout.buffer.write(handle.read())\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "spip.settings",
        "DJANGO_ENV": "test",
        "SPIP_MEDIA_ROOT": str(empty),
        "SPIP_S3_BUCKET": BUCKET,
        "SPIP_S3_ENDPOINT_URL": endpoint,
        "SPIP_S3_ACCESS_KEY": KEYS["access_key"],
        "SPIP_S3_SECRET_KEY": KEYS["secret_key"],
        "SPIP_S3_REGION": KEYS["region_name"],
    }
    read = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", host_b, proof.file.name],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert read.returncode == 0, read.stderr.decode()
    assert read.stdout == PDF
    assert not any(empty.iterdir())


def test_s3_without_a_bucket_refuses_to_start():
    env = {**os.environ, "DJANGO_ENV": "test", "SPIP_STORAGE": "s3", "SPIP_S3_BUCKET": ""}
    started = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", "import spip.settings"],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert started.returncode != 0
    assert b"SPIP_STORAGE=s3 needs SPIP_S3_BUCKET." in started.stderr


def test_the_national_export_is_written_to_the_bucket_served_privately_and_purged(
    world, bucket, client_for, django_capture_on_commit_callbacks
):
    from spip.celery import app

    app.conf.task_always_eager = True
    try:
        client = client_for(world.users["dap"])
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/tableaux/export/")
    finally:
        app.conf.task_always_eager = False
    run = JobRun.objects.get(name="national_export")
    assert run.status == "success"
    assert run.file.startswith("exports/")
    assert keys(bucket, "exports/") == {run.file}
    assert body(bucket, run.file)[:2] == b"PK"

    url = f"/tableaux/export/{run.pk}/fichier/"
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == body(bucket, run.file)
    assert 'filename="indicateurs-spip.xlsx"' in download["Content-Disposition"]
    # Only its requester downloads it, even at the national level.
    assert client_for(world.users["disp"]).get(url).status_code == 404

    assert exports_purge(timezone.now() + timedelta(days=8)) == 1
    assert keys(bucket, "exports/") == set()
    assert client_for(world.users["dap"]).get(url).status_code == 404
    assert exports_purge(timezone.now() + timedelta(days=8)) == 0


def test_the_purge_keeps_recent_exports_and_forgets_a_file_already_gone(world, bucket):
    now = timezone.now()
    runs = {}
    for age, label in ((8, "old"), (9, "gone"), (2, "recent")):
        name = default_storage.save(f"exports/{label}.xlsx", ContentFile(b"PK"))
        runs[label] = JobRun.objects.create(
            name="national_export",
            started_at=now - timedelta(days=age),
            file=name,
            requested_by=world.users["dap"],
        )
    bucket.delete_object(Bucket=BUCKET, Key=runs["gone"].file)
    assert exports_purge(now) == 2
    assert keys(bucket, "exports/") == {runs["recent"].file}
    files = dict(JobRun.objects.values_list("pk", "file"))
    assert files == {
        runs["old"].pk: "",
        runs["gone"].pk: "",
        runs["recent"].pk: "exports/recent.xlsx",
    }


def test_a_name_already_taken_in_the_bucket_is_never_overwritten(bucket):
    first = default_storage.save("exports/same.xlsx", ContentFile(b"first"))
    second = default_storage.save("exports/same.xlsx", ContentFile(b"second"))
    assert first != second
    assert body(bucket, first) == b"first"
    assert body(bucket, second) == b"second"
