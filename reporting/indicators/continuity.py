"""Continuity of follow-up: releases handed to the community with an appointment booked
before release and a first contact within the rule, and transfers between services with
their time to acceptance. Over the period, in the user's population. No personal data.
A fixed number of queries, whatever the number of releases."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from cases.choices import CONTACT, ConvocationStatus, TransferStatus
from cases.models import Case, Convocation, Interview, ReleasePlan, Transfer
from measures import deadlines
from measures.choices import DeadlineTarget, DeadlineTrigger
from measures.models import DeadlineRule, Measure
from measures.selectors import ONE_MONTH_DAYS
from reporting.forms import ReportParams
from reporting.stats import nearest_rank
from spip.numbers import share


def _contacts_within(plans: list[dict], today) -> dict[int, bool]:
    """For each release whose outcome is known: first contact within the rule or not (a
    release still inside its window without contact is not counted yet)."""
    followed = {p["id"]: p["transfer__new_case_id"] or p["case_id"] for p in plans}
    case_ids = set(followed.values())
    subdivision = dict(
        Case.objects.filter(pk__in=case_ids).values_list("pk", "service__holiday_subdivision")
    )
    types = defaultdict(set)
    for case_id, type_id in Measure.objects.filter(
        case_id__in=case_ids, actual_end_date__isnull=True
    ).values_list("case_id", "measure_type_id"):
        types[case_id].add(type_id)
    rules = list(
        DeadlineRule.objects.filter(
            trigger=DeadlineTrigger.RELEASE, target=DeadlineTarget.SPIP_CONVOCATION, unit="days"
        ).prefetch_related("measure_types")
    )
    seen = defaultdict(list)
    for case_id, day in Convocation.objects.filter(
        case_id__in=case_ids, status=ConvocationStatus.HONOURED
    ).values_list("case_id", "starts_at__date"):
        seen[case_id].append(day)
    for case_id, day in Interview.objects.filter(
        case_id__in=case_ids, attendance__in=CONTACT
    ).values_list("case_id", "held_at__date"):
        seen[case_id].append(day)
    results: dict[int, bool] = {}
    for plan in plans:
        case_id, released = followed[plan["id"]], plan["released_on"]
        sub = subdivision.get(case_id, "")
        applicable = [
            r
            for r in rules
            if r.valid_from <= released
            and (r.valid_to is None or r.valid_to >= released)
            and types[case_id] & {t.pk for t in r.measure_types.all()}
        ]
        if applicable:
            rule = min(applicable, key=lambda r: r.amount)
            last = deadlines.last_day(rule, released, sub)
        else:
            last = deadlines.next_working_day(released + timedelta(days=ONE_MONTH_DAYS), sub)
        met = any(released <= day <= last for day in seen[case_id])
        if met or last < today:
            results[plan["id"]] = met
    return results


def _figures(released: list[dict], contacts: dict[int, bool], accepted: list[tuple]) -> dict:
    booked_before = len(
        [p for p in released if p["convocation_id"] and p["booked_on"] <= p["released_on"]]
    )
    known = [contacts[p["id"]] for p in released if p["id"] in contacts]
    days = sorted((t[1] - t[0]).days for t in accepted if t[1])
    return {
        "releases": len(released),
        "releases_booked_before": booked_before,
        "releases_booked_share": share(booked_before, len(released)),
        "releases_contact_in_time": sum(known),
        "releases_contact_share": share(sum(known), len(known)),
        "transfers_accepted": len(accepted),
        "transfers_median_days": nearest_rank(days, 0.5),
        "transfers_d9_days": nearest_rank(days, 0.9),
        "transfers_auto_share": share(sum(1 for t in accepted if t[2]), len(accepted)),
    }


def continuity(user, params: ReportParams) -> dict:
    """The figures over the user's population (narrowed to a service or an antenna,
    sending or receiving), and per service (releases by the home service, transfers by
    the receiving one). A transfer made at a release counts with the release only."""
    population = Case.objects.counted_for(user)
    plans = ReleasePlan.objects.filter(
        case__in=population, released_on__gte=params.since, released_on__lte=params.until
    )
    moves = Transfer.objects.filter(
        case__in=population,
        status=TransferStatus.ACCEPTED,
        answered_on__gte=params.since,
        answered_on__lte=params.until,
    ).exclude(pk__in=ReleasePlan.objects.filter(transfer__isnull=False).values("transfer_id"))
    if params.service_id:  # the service sending or receiving
        plans = plans.filter(
            Q(case__service_id=params.service_id) | Q(home_service_id=params.service_id)
        )
        moves = moves.filter(
            Q(from_service_id=params.service_id) | Q(to_service_id=params.service_id)
        )
    if params.antenna_id:
        plans = plans.filter(
            Q(case__antenna_id=params.antenna_id) | Q(home_antenna_id=params.antenna_id)
        )
        moves = moves.filter(
            Q(case__antenna_id=params.antenna_id) | Q(to_antenna_id=params.antenna_id)
        )
    released: list[dict[str, Any]] = [
        dict(row)
        for row in plans.values(
            "id",
            "case_id",
            "transfer__new_case_id",
            "released_on",
            "booked_on",
            "convocation_id",
            "home_service__code",
            "home_service__name",
        )
    ]
    contacts = _contacts_within(released, timezone.localdate()) if released else {}
    accepted = list(
        moves.values_list(
            "requested_on", "answered_on", "auto_accepted", "to_service__code", "to_service__name"
        )
    )
    services: dict[str, str] = {p["home_service__code"]: p["home_service__name"] for p in released}
    services.update({t[3]: t[4] for t in accepted})
    return {
        **_figures(released, contacts, accepted),
        "since": params.since,
        "until": params.until,
        "services": [
            {
                "code": code,
                "label": services[code],
                **_figures(
                    [p for p in released if p["home_service__code"] == code],
                    contacts,
                    [t for t in accepted if t[3] == code],
                ),
            }
            for code in sorted(services)
        ],
    }
