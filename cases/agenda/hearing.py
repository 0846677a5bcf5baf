"""The BEX desk's booking at the end of a hearing: one transaction from the person to the
SPIP and JAP convocations (a service of its own: it writes files, measures and bookings)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.agenda import services as booking
from cases.choices import CaseStatus, ConvocationType, IssuedFrom
from cases.files.contacts import first_contact_refresh
from cases.files.models import PERSON_CONTACT_FIELDS
from cases.files.services import case_open, person_create
from cases.models import Agenda, Case, Convocation, Slot
from measures.models import ObligationType
from measures.services import measure_record

# The person's fields the desk records.
DESK_PERSON_FIELDS = (
    "birth_name",
    "usage_name",
    "first_names",
    "sex",
    "birth_date",
    *PERSON_CONTACT_FIELDS,
)


@transaction.atomic
def hearing_convocation_book(
    *, actor, clerk, data: dict, antenna, persons, duplicate_note: dict | None = None
) -> Convocation:
    """The BEX desk's booking at the end of a hearing, everything or nothing: the person
    (one of ``persons``, or a new one), the file, the measure and its obligations, the SPIP
    convocation and the JAP's. ``data``: the desk form's cleaned data."""
    user = actor
    done = booking.replayed_booking(user, data.get("request_token"))
    if done is not None:  # the same form sent twice (double click): nothing more is written
        return done
    if data.get("person"):
        person = persons.filter(pk=data["person"]).first()
        if person is None:
            raise ValidationError(
                _("Cette personne n'est pas accessible : recherchez-la à nouveau.")
            )
    else:
        person = person_create(
            actor=user,
            service_id=antenna.service_id,
            note=duplicate_note,
            **{f: data[f] for f in DESK_PERSON_FIELDS},
        )
    case = Case.objects.filter(
        person=person,
        service=antenna.service,
        status__in=[CaseStatus.AWAITING_ALLOCATION, CaseStatus.ACTIVE, CaseStatus.SUSPENDED],
    ).first()
    if case is None:
        case = case_open(actor=user, person=person, antenna=antenna)
    elif case.measures.filter(
        measure_type=data["measure_type"], judgment_date=data["judgment_date"]
    ).exists():
        # The same sentence recorded twice (a second clerk, the back button): one is enough.
        raise ValidationError(
            _(
                "Cette mesure (%(measure)s, jugement du %(day)s) est déjà enregistrée pour "
                "cette personne : réimprimez sa convocation depuis l'accueil."
            )
            % {
                "measure": data["measure_type"].code,
                "day": data["judgment_date"].strftime("%d/%m/%Y"),
            }
        )
    obligations = list(ObligationType.objects.filter(family="general")) + list(data["obligations"])
    measure = measure_record(
        actor=user,
        case=case,
        measure_type=data["measure_type"],
        court=clerk.court,
        judgment_date=data["judgment_date"],
        judgment_reference=data["judgment_reference"],
        provisionally_enforceable=data["provisionally_enforceable"],
        obligations=obligations,
        tig_hours=data.get("tig_hours"),
        tig_deadline=data.get("tig_deadline"),
    )
    # A second sentence for a person already followed: contacts since its judgment count.
    first_contact_refresh(measure_ids=[measure.pk])
    slot = Slot.objects.visible_to(user).filter(pk=data["slot"], agenda__antenna=antenna).first()
    if slot is None:
        raise ValidationError({"slot": _("Ce créneau n'appartient pas à l'antenne proposée.")})
    lead = timedelta(minutes=antenna.service.desk_lead_minutes)
    if slot.starts_at < timezone.now() + lead:
        raise ValidationError(
            {
                "slot": _(
                    "Ce créneau est trop proche pour que la personne s'y rende : choisissez-en un plus tard."
                )
            }
        )
    convocation = booking.convocation_book(
        actor=user,
        case=case,
        slot=slot,
        kind=ConvocationType.END_OF_HEARING,
        measure=measure,
        issued_from=IssuedFrom.BEX,
        beyond_reason=data.get("beyond_reason", ""),
        request_token=data.get("request_token") or None,
    )
    jap = booking.deadline_for(
        measure.measure_type,
        measure.judgment_date,
        target="jap_convocation",
        subdivision=case.service.holiday_subdivision,
    )
    sap = (
        Agenda.objects.visible_to(user)
        .filter(court=clerk.court, kind="sap", is_active=True)
        .first()
    )
    if jap and sap:
        # The earliest SAP slot with a seat left, found in one query.
        candidate = booking.free_slots(agenda=sap, days=jap.rule.amount).first()
        if candidate is not None:
            booking.convocation_book(
                actor=user,
                case=case,
                slot=candidate,
                kind=ConvocationType.JAP,
                measure=measure,
                issued_from=IssuedFrom.BEX,
                notify=True,
            )
    return convocation
