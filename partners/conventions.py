"""Conventions: what is in force, what is about to end, and how full each partner is.

A partner's capacity is the places of its conventions in force; what uses it is the
people it follows now: referrals accepted and not ended, measures entrusted to it and
not ended, pre-sentencing mandates not ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, Sum

from measures.models import Measure
from partners.choices import ConventionKind, MandateKind, ReferralStatus
from partners.models import Convention, PartnerBody, PresentencingMandate, Referral

# A referral still waiting for an answer does not hold a place yet; one accepted does.
HOLDING_REFERRAL_STATUSES = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.FIRST_CONTACT,
    ReferralStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class Capacity:
    places: int | None
    used: int

    @property
    def full(self) -> bool:
        return self.places is not None and self.used >= self.places


def in_force_q(day: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}starts_on__lte": day}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": day})
    )


def capacities(partner_ids, day: date) -> dict[int, Capacity]:
    """Each partner's places and use, in four queries whatever their number."""
    ids = list(partner_ids)
    rows = PartnerBody.objects.filter(pk__in=ids).annotate(
        places=Sum(
            "conventions__places",
            filter=in_force_q(day, "conventions__"),
        ),
    )
    used: dict[int, int] = {}
    for queryset in (
        Referral.objects.filter(partner_id__in=ids, status__in=HOLDING_REFERRAL_STATUSES),
        Measure.objects.filter(partner_id__in=ids, actual_end_date__isnull=True),
        PresentencingMandate.objects.filter(partner_id__in=ids).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=day)
        ),
    ):
        for pk, n in queryset.values_list("partner_id").annotate(n=Count("id")).order_by():
            used[pk] = used.get(pk, 0) + n
    return {p.pk: Capacity(p.places, used.get(p.pk, 0)) for p in rows}


def capacity(partner: PartnerBody, day: date) -> Capacity:
    return capacities([partner.pk], day)[partner.pk]


def expiring(queryset, day: date, days: int):
    """Conventions in force that end within ``days`` (the director's warning), soonest
    first."""
    return (
        queryset.filter(in_force_q(day), ends_on__lte=day + timedelta(days=days))
        .select_related("partner")
        .order_by("ends_on", "partner__name")
    )


def status(convention: Convention, day: date, days: int) -> str:
    if convention.starts_on > day:
        return "future"
    if convention.ends_on is not None and convention.ends_on < day:
        return "expired"
    if convention.ends_on is not None and convention.ends_on <= day + timedelta(days=days):
        return "expiring"
    return "in_force"


def follow_up_partners(service_id: int, day: date):
    """Associations a court may keep for a measure's follow-up (471 CPP) in this service:
    a convention for it in force that day, serving the service."""
    return (
        PartnerBody.objects.filter(
            in_force_q(day, "conventions__"),
            conventions__kind=ConventionKind.JUDICIAL_MANDATE,
            conventions__mandate=MandateKind.DOMESTIC_VIOLENCE,
            services=service_id,
        )
        .distinct()
        .order_by("name")
    )
