"""Workload reads. The full engine (snapshots, breakdowns, trends) builds on these."""

from __future__ import annotations

from django.core.files import File
from django.core.files.storage import default_storage

from spip.numbers import percent


def export_file(run) -> File | None:
    """A national export's workbook, opened from the storage (local folder or bucket) for
    the view that checked who asks; None once purged or lost. One call to the storage:
    opening a missing name raises, locally as on S3."""
    if not run.file:
        return None
    try:
        return default_storage.open(run.file, "rb")
    except FileNotFoundError:
        return None


def team_load(snapshot) -> dict | None:
    """A team's load as every page states it, from its snapshot: its CPIPs' caseloads
    over their capacity; beside it the cases to allocate ("arrivées à attribuer : n, soit
    +x points") and the load if they were all allocated, named as such."""
    if snapshot is None:
        return None
    load = snapshot.load_percent
    if_allocated = percent(snapshot.weighted_load + snapshot.awaiting_weighted, snapshot.capacity)
    return {
        "day": snapshot.day,
        "computed_at": snapshot.computed_at,
        "label": snapshot.label,
        "load_percent": load,
        "persons": snapshot.persons,
        "persons_per_fte": snapshot.persons_per_fte,
        "weighted_load": snapshot.weighted_load,
        "capacity": snapshot.capacity,
        "fte": snapshot.fte,
        "awaiting": snapshot.awaiting_allocation,
        "followed": snapshot.followed_cases,
        "open_cases": snapshot.open_cases,
        "awaiting_weighted": snapshot.awaiting_weighted,
        # The difference of the two figures shown, so that they add up on the page
        # (113.8 + 12.2 = 126.0), rather than each rounded on its own.
        "awaiting_points": None if load is None or if_allocated is None else if_allocated - load,
        "load_if_allocated": if_allocated,
        "open_alerts": snapshot.open_alerts,
    }
