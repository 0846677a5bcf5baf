"""Writes of the reporting app that are not computations: the export files' lifecycle."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from spip.models import JobRun

EXPORT_RETENTION_DAYS = 7


def exports_purge(now=None) -> int:
    """Delete the export files older than a week (the run keeps its counts, not its file).
    Idempotent: a file already gone is simply forgotten."""
    now = now or timezone.now()
    old = JobRun.objects.filter(
        name="national_export", started_at__lt=now - timedelta(days=EXPORT_RETENTION_DAYS)
    ).exclude(file="")
    runs = list(old.values_list("pk", "file"))
    for _pk, name in runs:
        (Path(settings.MEDIA_ROOT) / name).unlink(missing_ok=True)
    JobRun.objects.filter(pk__in=[pk for pk, _name in runs]).update(file="")
    return len(runs)
