"""Agendas, slots and the booking chain (DOMAIN.md §5 and §7).

- Slots are generated ahead from weekly templates, skipping the service's public holidays
  (Alsace-Moselle and overseas calendars) and closures; generation only inserts (ON
  CONFLICT DO NOTHING on agenda + start), so rerunning never duplicates or drops a slot.
- Booking locks the slot row, takes the lowest free seat and inserts; the partial unique
  index on (slot, seat) for live bookings is the guarantee below it.
- Deadline rules are data: a slot is "within the legal deadline" when its local date is
  on or before judgment date + the rule's delay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import (
    ConvocationStatus,
    ConvocationType,
    IssuedFrom,
    MissedReaction,
)
from cases.files.contacts import first_contact_refresh
from cases.models import (
    Agenda,
    Case,
    Convocation,
    Notification,
    NotificationStatus,
    Slot,
)
from measures import deadlines
from measures.choices import DeadlineTarget, DeadlineTrigger
from measures.models import DeadlineRule, MeasureType
from spip.audit import audit_write, diff, snapshot
from spip.choices import AuditAction
from spip.communes import department_of_postal_code
from spip.models import Antenna, Service
from spip.validation import create_audited

LIVE = [ConvocationStatus.BOOKED, ConvocationStatus.HONOURED]
HEARING_CATEGORIES = ("sentence",)


# --- Competence and deadlines ------------------------------------------------------


def service_for_postal_code(postal_code: str) -> Service:
    """The competent service follows the person's residence (DOMAIN.md §2)."""
    department = department_of_postal_code(postal_code)
    if department is None:
        raise ValidationError({"postal_code": _("Code postal inconnu : cinq chiffres attendus.")})
    service = Service.objects.filter(code=department).first()
    if service is None:
        raise ValidationError({"postal_code": _("Aucun SPIP n'est compétent pour ce code postal.")})
    return service


@dataclass(frozen=True)
class Deadline:
    rule: DeadlineRule
    last_day: date

    @property
    def label(self) -> str:
        return f"{self.rule.label} ({self.rule.amount} jours, {self.rule.legal_reference})"


def deadline_for(
    measure_type: MeasureType,
    judgment_date: date,
    *,
    enforceable: bool = False,
    target: str = DeadlineTarget.SPIP_CONVOCATION,
    subdivision: str = "",
) -> Deadline | None:
    """The statutory deadline of the first convocation, from the rules in force, run to the
    next working day of the service's calendar (``subdivision``) per art. 801 CPP."""
    rules = (
        DeadlineRule.objects.valid_on(judgment_date)
        .filter(
            trigger=DeadlineTrigger.SENTENCE_FREE,
            target=target,
            unit="days",
            measure_types=measure_type,
        )
        .filter(
            Q(provisionally_enforceable__isnull=True) | Q(provisionally_enforceable=enforceable)
        )
    )
    rule = rules.order_by("amount").first()
    if rule is None:
        return None
    return Deadline(rule=rule, last_day=deadlines.last_day(rule, judgment_date, subdivision))


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


# --- Slots -----------------------------------------------------------------------


def holiday_calendar(service: Service, years):
    return holidays.France(subdiv=service.holiday_subdivision or None, years=years)


def slots_generate(*, agenda_ids: list[int] | None = None, today: date | None = None) -> int:
    """Create the slots of the coming weeks from the templates. Idempotent; never deletes."""
    agendas = (
        Agenda.objects.filter(is_active=True)
        .select_related("antenna__service", "court")
        .prefetch_related("templates", "closures")
    )
    if agenda_ids:
        agendas = agendas.filter(pk__in=agenda_ids)
    created = 0
    for agenda in agendas:
        service: Service | None
        if agenda.antenna is not None:
            service = agenda.antenna.service
        else:
            service = agenda.court.services.first() if agenda.court is not None else None
        zone = ZoneInfo(service.time_zone if service else "Europe/Paris")
        start = today or timezone.now().astimezone(zone).date()
        days = [start + timedelta(days=i) for i in range(agenda.weeks_ahead * 7)]
        off = holiday_calendar(service, {d.year for d in days}) if service else {}
        closures = list(agenda.closures.all())
        rows = []
        for day in days:
            if day in off or any(c.starts_on <= day <= c.ends_on for c in closures):
                continue
            for template in agenda.templates.all():
                if template.weekday == day.weekday():
                    rows.append(
                        Slot(
                            agenda=agenda,
                            starts_at=datetime.combine(day, template.start_time, tzinfo=zone),
                            duration_minutes=template.duration_minutes,
                            capacity=template.capacity,
                        )
                    )
        before = Slot.objects.filter(agenda=agenda).count()
        Slot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        created += Slot.objects.filter(agenda=agenda).count() - before
    return created


def free_slots(
    *,
    antenna: Antenna | None = None,
    agenda: Agenda | None = None,
    kind: str = "spip",
    days: int = 60,
    now: datetime | None = None,
):
    """Slots of an antenna's agenda, or of one agenda (a court's SAP), with a seat left,
    earliest first. One query."""
    now = now or timezone.now()
    slots = Slot.objects.filter(
        starts_at__gte=now, starts_at__lt=now + timedelta(days=days), agenda__is_active=True
    )
    if agenda is not None:
        slots = slots.filter(agenda=agenda)
    else:
        slots = slots.filter(agenda__antenna=antenna, agenda__kind=kind)
    return (
        slots.annotate(booked=Count("convocations", filter=Q(convocations__status__in=LIVE)))
        .filter(booked__lt=F("capacity"))
        .select_related("agenda")
        .order_by("starts_at")
    )


def label_slots(slots, deadline: Deadline | None, zone: str) -> list[dict]:
    return [
        {
            "slot": s,
            "within": deadline is None or local_date(s.starts_at, zone) <= deadline.last_day,
            "local": s.starts_at.astimezone(ZoneInfo(zone)),
        }
        for s in slots
    ]


# --- Booking -----------------------------------------------------------------------


class SlotFull(ValidationError):
    pass


def replayed_booking(
    actor, request_token: str | None, *, case=None, slot=None
) -> Convocation | None:
    """The convocation ``actor`` already booked with ``request_token``. Tokens are the
    caller's own: another user's token is a new request, never their convocation. The same
    token sent with another file or slot is refused: it would not book what it asks."""
    if not request_token or not getattr(actor, "is_authenticated", False):
        return None
    existing = Convocation.objects.filter(issued_by=actor, request_token=request_token).first()
    if existing is not None and (
        (case is not None and existing.case_id != case.pk)
        or (slot is not None and existing.slot_id != slot.pk)
    ):
        raise ValidationError(
            {
                "request_token": _(
                    "Ce jeton de requête a déjà servi pour une autre réservation : "
                    "générez-en un nouveau."
                )
            }
        )
    return existing


@transaction.atomic
def convocation_book(
    *,
    actor,
    case: Case,
    slot: Slot,
    kind: str,
    measure=None,
    issued_from: str = IssuedFrom.BEX,
    beyond_reason: str = "",
    request_token: str | None = None,
    now: datetime | None = None,
    notify: bool = True,
    home_service_id: int | None = None,
) -> Convocation:
    """Book a seat of ``slot`` for ``case``. Exactly one booking wins the last seat.
    ``home_service_id``: a release handed to another service books in that service's
    agenda (the case follows at release)."""
    now = now or timezone.now()
    existing = replayed_booking(actor, request_token, case=case, slot=slot)
    if existing is not None:  # the same form sent twice (double click): same answer
        return existing
    slot = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("agenda__antenna", "agenda__court")
        .get(pk=slot.pk)
    )
    # A replay that waited for the slot's lock finds the booking its twin just made.
    existing = replayed_booking(actor, request_token, case=case, slot=slot)
    if existing is not None:
        return existing
    if slot.starts_at <= now:
        raise ValidationError({"slot": _("Ce créneau est passé.")})
    agenda = slot.agenda
    if agenda.antenna is not None and agenda.antenna.service_id not in (
        case.service_id,
        home_service_id,
    ):
        raise ValidationError({"slot": _("Ce créneau appartient à un autre service.")})
    taken = set(
        Convocation.objects.filter(slot=slot, status__in=LIVE).values_list("seat", flat=True)
    )
    seat = next((n for n in range(1, slot.capacity + 1) if n not in taken), None)
    if seat is None:
        raise SlotFull({"slot": _("Ce créneau vient d'être pris. Choisissez le suivant.")})
    # A release's first appointment has its own rule (741-1 CPP), checked by its service.
    if measure is not None and kind not in (ConvocationType.JAP, ConvocationType.RELEASE_741_1):
        deadline = deadline_for(
            measure.measure_type,
            measure.judgment_date,
            enforceable=measure.provisionally_enforceable,
            subdivision=case.service.holiday_subdivision,
        )
        zone = case.service.time_zone
        if (
            deadline
            and local_date(slot.starts_at, zone) > deadline.last_day
            and not beyond_reason.strip()
        ):
            raise ValidationError(
                {
                    "beyond_reason": _(
                        "Ce créneau dépasse le délai légal (%(label)s) : indiquez pourquoi."
                    )
                    % {"label": deadline.label}
                }
            )
    convocation = Convocation(
        case=case,
        measure=measure,
        kind=kind,
        antenna=agenda.antenna,
        slot=slot,
        seat=seat,
        starts_at=slot.starts_at,
        duration_minutes=slot.duration_minutes,
        issued_from=issued_from,
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
        deadline_exceeded_reason=beyond_reason.strip()[:255],
        request_token=request_token,
    )
    try:
        with transaction.atomic():
            convocation.save()
    except IntegrityError as exc:  # the database's own guard: seat taken meanwhile
        existing = replayed_booking(actor, request_token, case=case, slot=slot)
        if existing is not None:  # ... or the same request booked meanwhile
            return existing
        raise SlotFull({"slot": _("Ce créneau vient d'être pris. Choisissez le suivant.")}) from exc
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=convocation,
        changes=snapshot(convocation),
        service_id=case.service_id,
    )
    if notify:
        notifications_plan(convocation, events=("booked", "reminder"))
    return convocation


@transaction.atomic
def convocation_set_outcome(
    *, actor, convocation: Convocation, status: str, reason: str = "", at: datetime | None = None
) -> Convocation:
    if status == ConvocationStatus.BOOKED:
        raise ValidationError(
            {"status": _("Choisissez une issue : honorée, non honorée, excusée ou annulée.")}
        )
    if status == ConvocationStatus.EXCUSED and not reason:
        raise ValidationError({"outcome_reason": _("Une absence excusée demande un motif.")})
    convocation = Convocation.objects.select_for_update().get(pk=convocation.pk)
    # Honoured or missed is known on the day, not before (excused or cancelled may be).
    held = status in (ConvocationStatus.HONOURED, ConvocationStatus.MISSED)
    if held and timezone.localdate(convocation.starts_at) > timezone.localdate(
        at or timezone.now()
    ):
        raise ValidationError(
            {"status": _("Cette convocation est à venir : elle sera honorée ou non le jour venu.")}
        )
    before = snapshot(convocation, ["status", "outcome_reason"])
    convocation.status = status
    convocation.outcome_reason = reason
    convocation.outcome_recorded_at = at or timezone.now()
    convocation.save(update_fields=["status", "outcome_reason", "outcome_recorded_at"])
    # Honoured, or no longer: the case's measures may have met the person earlier or later.
    first_contact_refresh(case_ids=[convocation.case_id])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=convocation,
        changes=diff(before, snapshot(convocation, before)),
        service_id=convocation.case.service_id,
    )
    return convocation


@transaction.atomic
def convocation_cancel(
    *, actor, convocation: Convocation, reason: str, notify: bool = True
) -> Convocation:
    """Cancel: the seat is freed (a cancelled booking holds no seat), history is kept."""
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif de l'annulation.")})
    convocation = convocation_set_outcome(
        actor=actor, convocation=convocation, status=ConvocationStatus.CANCELLED, reason=reason
    )
    Notification.objects.filter(convocation=convocation, status="queued").update(status="cancelled")
    if notify:
        notifications_plan(convocation, events=("cancelled",))
    return convocation


@transaction.atomic
def convocation_reschedule(
    *, actor, convocation: Convocation, slot: Slot, reason: str
) -> Convocation:
    new = convocation_book(
        actor=actor,
        case=convocation.case,
        slot=slot,
        kind=convocation.kind,
        measure=convocation.measure,
        issued_from=IssuedFrom.SPIP,
        beyond_reason=reason,
        notify=False,
    )
    convocation_cancel(actor=actor, convocation=convocation, reason=reason, notify=False)
    new.rescheduled_from = convocation
    new.save(update_fields=["rescheduled_from"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=new,
        service_id=new.case.service_id,
        changes={"rescheduled_from": [None, convocation.pk]},
    )
    notifications_plan(new, events=("rescheduled", "reminder"))
    return new


# --- Notifications ----------------------------------------------------------------


MOBILE = re.compile(r"^(?:\+33\s?|0)[67](?:[\s.]?\d{2}){4}$")


def is_french_mobile(phone: str) -> bool:
    return bool(MOBILE.match((phone or "").strip()))


# The judge's convocation is not the SPIP's: its own words, its own place.
JAP_MESSAGES = {
    "booked": _(
        "Juge de l'application des peines : vous êtes convoqué(e) le {date} à {heure}, "
        "{lieu}, {adresse}. Tél. {telephone}."
    ),
    "reminder": _(
        "Rappel : juge de l'application des peines le {date} à {heure}, {lieu}, {adresse}."
    ),
    "cancelled": _(
        "Votre convocation devant le juge de l'application des peines du {date} est annulée. "
        "Une nouvelle convocation vous sera adressée."
    ),
    "rescheduled": _(
        "Juge de l'application des peines : vous êtes convoqué(e) le {date} à {heure}, "
        "{lieu}, {adresse}. Tél. {telephone}."
    ),
}


def convocation_place(convocation: Convocation) -> dict[str, str]:
    """Where the person goes: the antenna for the SPIP, the court for the judge."""
    service = convocation.case.service
    antenna = convocation.antenna
    slot = convocation.slot
    court = slot.agenda.court if slot is not None and slot.agenda.court_id else None
    if antenna is not None:
        return {
            "lieu": antenna.name,
            "adresse": f"{antenna.address}, {antenna.city}",
            "telephone": antenna.phone or service.phone,
        }
    if court is not None:
        return {
            "lieu": court.name,
            "adresse": ", ".join(p for p in (court.address, court.city) if p),
            "telephone": court.phone or "—",
        }
    return {"lieu": service.name, "adresse": service.seat_address, "telephone": service.phone}


def notifications_plan(convocation: Convocation, *, events) -> int:
    """Queue the messages of a convocation's events, per channel the person accepts.
    Unique per (convocation, event, channel): planning twice queues nothing more."""
    return notifications_plan_many([convocation], events=events)


def notifications_plan_many(convocations, *, events) -> int:
    """``notifications_plan`` for many convocations, in one insert (their case, person and
    service already loaded)."""
    rows = [row for c in convocations for row in _notification_rows(c, events)]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _notification_rows(convocation: Convocation, events) -> list[Notification]:
    person = convocation.case.person
    if not person.accepts_messages:
        return []
    service = convocation.case.service
    zone = ZoneInfo(service.time_zone)
    local = convocation.starts_at.astimezone(zone)
    values = {
        "date": f"{local:%d/%m/%Y}",
        "heure": f"{local:%H:%M}",
        **convocation_place(convocation),
    }
    if convocation.kind == ConvocationType.JAP:
        templates = JAP_MESSAGES
    else:
        templates = {
            "booked": service.message_booked,
            "reminder": service.message_reminder,
            "cancelled": service.message_cancelled,
            "rescheduled": service.message_booked,
        }
    channels = []
    if is_french_mobile(person.phone):
        channels.append(("sms", person.phone))
    if person.email:
        channels.append(("email", person.email))
    rows = []
    for event in events:
        send_after = timezone.now()
        if event == "reminder":
            day = local.date() - timedelta(days=service.reminder_days_before)
            send_after = datetime.combine(day, time(10, 0), tzinfo=zone)
            if send_after <= timezone.now():
                continue
        body = templates[event].format(**values)
        rows += [
            Notification(
                convocation=convocation,
                event=event,
                channel=channel,
                recipient=to,
                body=body,
                send_after=send_after,
            )
            for channel, to in channels
        ]
    return rows


@transaction.atomic
def convocation_create(
    *,
    actor,
    case: Case,
    kind: str,
    starts_at: datetime,
    issued_from: str = IssuedFrom.SPIP,
    antenna: Antenna | None = None,
    duration_minutes: int = 30,
    measure=None,
    allow_past: bool = False,
) -> Convocation:
    """An appointment at a free time (slot booking with capacity comes with the agendas)."""
    if not allow_past and starts_at < timezone.now():
        raise ValidationError({"starts_at": _("La convocation ne peut pas être dans le passé.")})
    convocation = Convocation(
        case=case,
        measure=measure,
        kind=kind,
        antenna=antenna or case.antenna,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        issued_from=issued_from,
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    create_audited(
        actor=actor,
        obj=convocation,
        changes=snapshot(convocation),
        service_id=case.service_id,
    )
    return convocation


@transaction.atomic
def convocation_react(
    *, actor, convocation: Convocation, reaction: str, new_at: datetime | None = None
) -> Convocation:
    """What was done after a missed convocation (the alert jobs chase those without)."""

    convocation = (
        Convocation.objects.select_for_update().select_related("case").get(pk=convocation.pk)
    )
    if convocation.status != ConvocationStatus.MISSED:
        raise ValidationError(_("Seule une convocation non honorée appelle une suite."))
    if reaction not in MissedReaction.values:
        raise ValidationError({"reaction": _("Choisissez une suite.")})
    if reaction == MissedReaction.NEW_CONVOCATION:
        if new_at is None:
            raise ValidationError({"new_at": _("Indiquez la date de la nouvelle convocation.")})
        convocation_create(
            actor=actor,
            case=convocation.case,
            kind=ConvocationType.FOLLOW_UP,
            starts_at=new_at,
            issued_from=IssuedFrom.SPIP,
            measure=convocation.measure,
        )
    convocation.reaction = reaction
    convocation.reaction_at = timezone.now()
    convocation.save(update_fields=["reaction", "reaction_at"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=convocation,
        service_id=convocation.case.service_id,
        changes={"reaction": ["", reaction]},
    )
    return convocation


@transaction.atomic
def convocation_send(*, actor, convocation: Convocation) -> list[str]:
    """Send (or send again) a booked convocation to the person, by SMS and email as they
    accept: the confirmation now, the reminder before the day. A confirmation already sent
    or failed is queued again with today's text. Returns the channels used."""
    convocation = (
        Convocation.objects.select_for_update(of=("self",))
        .select_related("case__person", "case__service", "antenna")
        .get(pk=convocation.pk)
    )
    if convocation.status != ConvocationStatus.BOOKED or convocation.starts_at <= timezone.now():
        raise ValidationError(_("Seule une convocation à venir peut être envoyée."))
    person = convocation.case.person
    if not person.accepts_messages:
        raise ValidationError(_("La personne n'a pas accepté de recevoir des messages."))
    if not (is_french_mobile(person.phone) or person.email):
        raise ValidationError(_("Aucun numéro de mobile ni courriel pour cette personne."))
    # The earlier confirmations make way for the new one; the audit row keeps when they went.
    earlier = convocation.notifications.filter(event="booked").exclude(
        status=NotificationStatus.QUEUED
    )
    previously = [f"{n.channel} {n.sent_at or n.send_after:%d/%m/%Y %H:%M}" for n in earlier]
    earlier.delete()
    notifications_plan(convocation, events=["booked", "reminder"])
    channels = sorted(
        convocation.notifications.filter(event="booked").values_list("channel", flat=True)
    )
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=convocation,
        service_id=convocation.case.service_id,
        changes={"message": channels, "previously": previously},
    )
    return channels
