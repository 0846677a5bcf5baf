"""Backup and restore of everything the application holds: the database and the stored
files (proofs, exports), together, in one folder.

A backup folder holds ``database.dump`` (PostgreSQL's custom format; ``database.sqlite3``
on SQLite), ``files.tar`` (every file of the storage, local folder or bucket, read through
Django's storage API) and ``manifest.json`` (the rows of each table and each file's size
and SHA-256). The database is dumped first, in one snapshot, then the files: a file is
written before the row that names it is committed, so every file the dump names is in the
archive (a file added in between is kept too, unreferenced).

The restore goes into an empty database and an empty storage only (it refuses otherwise,
before writing anything), restores the database in one transaction, writes back each file
under its own name, then compares the rows of each table and each file's digest with the
manifest: any difference fails the restore loudly.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.apps import apps
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

MANIFEST = "manifest.json"
FILES = "files.tar"
FORMAT_VERSION = 1


class BackupError(Exception):
    """Said to the operator, in French, before anything is half done."""


def backup(target: Path) -> dict:
    """Write a backup into ``target`` (created; must not exist or be empty)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"Le dossier {target} n'est pas vide.")
    # Personal data: readable by the operator's account only.
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)
    previous = os.umask(0o077)
    try:
        database, counts = _dump_database(target)
        files = _archive_files(target / FILES)
    finally:
        os.umask(previous)
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "vendor": connection.vendor,
        "database": database,
        "tables": counts,
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


def restore(source: Path) -> dict:
    """Restore the backup in ``source`` into this (empty) database and (empty) storage.
    On PostgreSQL the database is created when it does not exist (an empty machine)."""
    source = Path(source)
    manifest = _read_manifest(source)
    # Refused before anything is created: no empty database left behind.
    if _stored_names():
        raise BackupError("Le stockage des fichiers n'est pas vide : restauration refusée.")
    database_ensure()
    if manifest["vendor"] != connection.vendor:
        raise BackupError(
            f"Sauvegarde {manifest['vendor']}, base de destination {connection.vendor}."
        )
    if connection.introspection.table_names():
        raise BackupError("La base de destination n'est pas vide : restauration refusée.")
    contents = _read_files(source / FILES, manifest["files"])  # checked before any write
    _restore_database(source / manifest["database"])
    _restore_files(contents)
    counts = table_counts()
    differences = {
        table: (expected, counts.get(table))
        for table, expected in manifest["tables"].items()
        if counts.get(table) != expected
    }
    if differences:
        raise BackupError(f"Lignes différentes après restauration : {differences}")
    return manifest


def table_counts() -> dict[str, int]:
    """Rows of each of the application's tables."""
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
        & set(connection.introspection.table_names())
    )
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


# --- Database -------------------------------------------------------------------------


def _pg_environment() -> dict[str, str]:
    """libpq's variables for pg_dump and pg_restore (the password stays out of ``ps``)."""
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": str(db["NAME"])}
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{command[0]} a échoué : {done.stderr.strip()[-2000:]}")


def _dump_database(target: Path) -> tuple[str, dict[str, int]]:
    """The dump and the rows of each table, from one snapshot of the database: a running
    system writes all the time (audit rows, job runs), and the restore compares them."""
    if connection.vendor == "postgresql":
        name = "database.dump"
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            _run(
                ["pg_dump", "--format=custom", f"--snapshot={snapshot}"]
                + ["--file", str(target / name)],
                _pg_environment(),
            )
            counts = table_counts()
        return name, counts
    if connection.vendor == "sqlite":
        name = "database.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(target / name) as copy:
            connection.connection.backup(copy)
        copy.close()
        with sqlite3.connect(target / name) as copy:
            counts = {
                table: copy.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in table_counts()
            }
        copy.close()
        return name, counts
    raise BackupError(f"Base {connection.vendor} non prise en charge.")


def database_ensure() -> None:
    """Create the PostgreSQL database of DATABASE_URL when it does not exist (a new
    machine: ``make migrate``, a restore); nothing on SQLite, which creates its file."""
    from django.db import OperationalError

    if connection.vendor != "postgresql":
        return
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BackupError(f"Base de données injoignable : {exc}") from exc
        env = _pg_environment()
        _run(["createdb", env["PGDATABASE"]], {**env, "PGDATABASE": "postgres"})


def _restore_database(dump: Path) -> None:
    if connection.vendor == "postgresql":
        env = _pg_environment()
        _run(
            ["pg_restore", "--exit-on-error", "--single-transaction"]
            + ["--dbname", env["PGDATABASE"], str(dump)],
            env,
        )
    else:
        connection.ensure_connection()
        with sqlite3.connect(dump) as original:
            original.backup(connection.connection)
        original.close()
    connection.close()  # the restored schema, read afresh


# --- Files ----------------------------------------------------------------------------


def _stored_names(folder: str = "") -> list[str]:
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}{name}" for name in files]
    for sub in folders:
        names += _stored_names(f"{folder}{sub}/")
    return sorted(names)


def _archive_files(path: Path) -> dict[str, dict]:
    described = {}
    with tarfile.open(path, "w") as archive:
        for name in _stored_names():
            with default_storage.open(name, "rb") as handle:
                data = handle.read()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            described[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return described


def _read_files(path: Path, expected: dict[str, dict]) -> dict[str, bytes]:
    """The archive's files, each checked against the manifest: a damaged archive is
    refused before the database is touched."""
    with tarfile.open(path, "r") as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        if set(members) != set(expected):
            raise BackupError("L'archive des fichiers ne correspond pas au manifeste.")
        contents = {}
        for name, member in members.items():
            handle = archive.extractfile(member)
            data = handle.read() if handle else b""
            if hashlib.sha256(data).hexdigest() != expected[name]["sha256"]:
                raise BackupError(f"Fichier altéré dans l'archive : {name}")
            contents[name] = data
    return contents


def _restore_files(contents: dict[str, bytes]) -> None:
    for name, data in contents.items():
        saved = default_storage.save(name, File(io.BytesIO(data), name=name))
        if saved != name:
            raise BackupError(f"Fichier restauré sous un autre nom : {name} → {saved}")


def _read_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"Pas de {MANIFEST} dans {source} : est-ce une sauvegarde ?") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"Format de sauvegarde inconnu : {manifest.get('format')}")
    if not (source / manifest["database"]).exists() or not (source / FILES).exists():
        raise BackupError(f"Sauvegarde incomplète dans {source}.")
    return manifest


def default_target() -> Path:
    from django.conf import settings

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "backups" / stamp
