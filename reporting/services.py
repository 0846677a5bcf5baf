"""Writes of the reporting app that are not computations: the export files' lifecycle."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from spip.models import JobRun

EXPORT_RETENTION_DAYS = 7


def exports_purge(now=None) -> int:
    """Delete the export files older than a week (the run keeps its counts, not its file),
    from the local folder or the bucket. Idempotent: a file already gone is simply
    forgotten (the storages' ``delete`` accepts a missing name)."""
    now = now or timezone.now()
    old = JobRun.objects.filter(
        name="national_export", started_at__lt=now - timedelta(days=EXPORT_RETENTION_DAYS)
    ).exclude(file="")
    runs = list(old.values_list("pk", "file"))
    for _pk, name in runs:
        default_storage.delete(name)
    JobRun.objects.filter(pk__in=[pk for pk, _name in runs]).update(file="")
    return len(runs)
