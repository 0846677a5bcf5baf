"""Opening and closing alerts from the rules. Idempotent and safe to run twice at once.

Per alert type, in its own transaction: open an alert for each finding that has none
(inserted with ON CONFLICT DO NOTHING against the partial unique index, so two runs at
once cannot double an alert), close the open alerts whose condition no longer holds.
A run killed half-way leaves whole types done or untouched; the next run completes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases.alert_rules import RULES, contexts
from cases.models import Alert


def alerts_refresh(*, now: datetime | None = None, types: list[str] | None = None) -> Counter:
    now = now or timezone.now()
    counts: Counter = Counter()
    ctxs = list(contexts(now))
    for alert_type, (rule, severity) in RULES.items():
        if types and alert_type not in types:
            continue
        with transaction.atomic():
            findings = {}
            for ctx in ctxs:
                for finding in rule(ctx):
                    findings[finding.dedup_key] = finding
            open_keys = set(
                Alert.objects.filter(alert_type=alert_type, closed_at__isnull=True).values_list(
                    "dedup_key", flat=True
                )
            )
            new = [
                Alert(
                    alert_type=alert_type,
                    severity=severity,
                    case_id=f.case_id,
                    agent_id=f.agent_id,
                    rule=f.rule[:255],
                    legal_reference=f.legal_reference[:120],
                    dedup_key=f.dedup_key,
                    due_on=f.due_on,
                    measure_id=f.measure_id,
                    convocation_id=f.convocation_id,
                    opened_at=now,
                )
                for key, f in findings.items()
                if key not in open_keys
            ]
            Alert.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
            cleared = open_keys - findings.keys()
            closed = (
                Alert.objects.filter(
                    alert_type=alert_type, closed_at__isnull=True, dedup_key__in=cleared
                ).update(closed_at=now)
                if cleared
                else 0
            )
            counts["opened"] += len(new)
            counts["closed"] += closed
            counts["unchanged"] += len(open_keys & findings.keys())
    return counts
