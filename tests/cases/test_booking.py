"""The booking chain: deadlines, slot generation, the BEX desk, concurrency, messages, PDF."""

import re
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.html import escape

from cases.agenda import services as booking
from cases.agenda.notify import FakeSMS, notifications_send_due
from cases.models import (
    Agenda,
    AgendaClosure,
    Case,
    Convocation,
    Notification,
    Person,
    Slot,
    SlotTemplate,
)
from measures.models import MeasureType
from spip.models import Service
from tests.conftest import needs_postgres
from tests.factories import AntennaFactory, CaseFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def sms(settings):
    settings.SPIP_SMS_BACKEND = "cases.agenda.notify.FakeSMS"
    FakeSMS.outbox = []
    FakeSMS.fail_next = 0
    return FakeSMS


def agenda_for(antenna, *hours, capacity=1, weekdays=range(5)):
    agenda = Agenda.objects.create(name=f"Agenda {antenna}", antenna=antenna, weeks_ahead=2)
    for weekday in weekdays:
        for hour in hours:
            SlotTemplate.objects.create(
                agenda=agenda, weekday=weekday, start_time=time(hour), capacity=capacity
            )
    return agenda


# --- deadlines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "enforceable", "days"),
    [
        ("SP", False, 45),
        ("TIG", False, 45),
        ("SPR", True, 8),
        ("SPR", False, 15),
        ("LC", False, None),
    ],
)
def test_deadline_rules_per_measure_type(reference, code, enforceable, days):
    deadline = booking.deadline_for(
        MeasureType.objects.get(code=code), date(2026, 3, 1), enforceable=enforceable
    )
    assert (deadline.last_day if deadline else None) == (
        date(2026, 3, 1) + timedelta(days=days) if days else None
    )


def test_slot_labels_use_the_local_date_across_dst(reference):
    """Judged 1 March: the last day is 15 April. A slot at 00:30 on 16 April in Paris
    (22:30 UTC on the 15th, summer time) is beyond; 23:30 on the 15th is within."""
    deadline = booking.deadline_for(MeasureType.objects.get(code="SP"), date(2026, 3, 1))
    antenna = AntennaFactory()
    agenda = Agenda.objects.create(name="a", antenna=antenna)
    late = Slot.objects.create(agenda=agenda, starts_at=datetime(2026, 4, 16, 0, 30, tzinfo=PARIS))
    early = Slot.objects.create(
        agenda=agenda, starts_at=datetime(2026, 4, 15, 23, 30, tzinfo=PARIS)
    )
    labels = {
        row["slot"].pk: row["within"]
        for row in booking.label_slots([late, early], deadline, "Europe/Paris")
    }
    assert labels == {late.pk: False, early.pk: True}


def test_slot_labels_for_an_overseas_service(reference):
    """The same instant is the 16th in Nouméa (beyond) and the 15th in Paris (within)."""
    deadline = booking.deadline_for(MeasureType.objects.get(code="SP"), date(2026, 3, 1))
    agenda = Agenda.objects.create(
        name="a", antenna=AntennaFactory(service=Service.objects.get(code="988"))
    )
    slot = Slot.objects.create(
        agenda=agenda, starts_at=datetime(2026, 4, 15, 14, 0, tzinfo=ZoneInfo("UTC"))
    )
    assert booking.label_slots([slot], deadline, "Pacific/Noumea")[0]["within"] is False
    assert booking.label_slots([slot], deadline, "Europe/Paris")[0]["within"] is True


@pytest.mark.parametrize(
    ("postal_code", "service"),
    [
        ("69003", "69"),
        ("20000", "2A"),
        ("20200", "2B"),
        ("97400", "974"),
        ("98800", "988"),
        ("75015", "75"),
    ],
)
def test_competent_service_from_the_postal_code(reference, postal_code, service):
    assert booking.service_for_postal_code(postal_code).code == service


@pytest.mark.parametrize("postal_code", ["6900", "ABCDE", "99999", ""])
def test_unknown_postal_codes_are_refused_in_french(reference, postal_code):
    with pytest.raises(ValidationError) as exc:
        booking.service_for_postal_code(postal_code)
    assert exc.value.message_dict["postal_code"][0].startswith(
        ("Code postal inconnu", "Aucun SPIP")
    )


# --- slots -------------------------------------------------------------------------


def test_slot_generation_skips_holidays_and_closures_and_is_idempotent(reference):
    antenna = AntennaFactory()
    agenda = agenda_for(antenna, 9, 14)
    AgendaClosure.objects.create(
        agenda=agenda, starts_on=date(2026, 12, 22), ends_on=date(2026, 12, 22), reason="Formation"
    )
    # Two weeks from Mon 14 Dec 2026: 10 weekdays, minus Christmas (Fri 25) and the closure (Tue 22).
    created = booking.slots_generate(today=date(2026, 12, 14))
    assert created == 8 * 2
    days = sorted(
        {s.starts_at.astimezone(PARIS).date() for s in Slot.objects.filter(agenda=agenda)}
    )
    assert date(2026, 12, 25) not in days and date(2026, 12, 22) not in days
    assert booking.slots_generate(today=date(2026, 12, 14)) == 0
    assert Slot.objects.filter(agenda=agenda).count() == 16


def test_alsace_moselle_skips_good_friday_and_26_december(reference):
    moselle = agenda_for(AntennaFactory(service=Service.objects.get(code="57"), city="Metz"), 9)
    lyon = agenda_for(AntennaFactory(), 9)
    booking.slots_generate(today=date(2027, 3, 22))  # Good Friday 2027: 26 March
    friday = datetime(2027, 3, 26, 9, tzinfo=PARIS)
    assert not Slot.objects.filter(agenda=moselle, starts_at=friday).exists()
    assert Slot.objects.filter(agenda=lyon, starts_at=friday).exists()


def test_regeneration_keeps_booked_slots(world):
    agenda = agenda_for(world.antenna, 9)
    booking.slots_generate(today=timezone.localdate() + timedelta(days=1))
    slot = Slot.objects.filter(agenda=agenda).first()
    booking.convocation_book(
        actor=world.users["bex"], case=world.cases["arrival"], slot=slot, kind="end_of_hearing"
    )
    SlotTemplate.objects.filter(agenda=agenda).delete()
    booking.slots_generate()
    assert Slot.objects.filter(pk=slot.pk).exists()


def test_free_slots_hide_full_ones_and_come_earliest_first(world):
    agenda = agenda_for(world.antenna, 9, 10)
    booking.slots_generate(today=timezone.localdate() + timedelta(days=1))
    first = booking.free_slots(antenna=world.antenna)[0]
    booking.convocation_book(
        actor=world.users["bex"], case=world.cases["arrival"], slot=first, kind="end_of_hearing"
    )
    remaining = list(booking.free_slots(antenna=world.antenna))
    assert first not in remaining
    assert remaining == sorted(remaining, key=lambda s: s.starts_at)
    assert all(s.agenda == agenda for s in remaining)


# --- booking -----------------------------------------------------------------------


def future_slot(antenna, days=3, capacity=1):
    agenda = Agenda.objects.get_or_create(antenna=antenna, kind="spip", defaults={"name": "a"})[0]
    return Slot.objects.create(
        agenda=agenda, starts_at=timezone.now() + timedelta(days=days), capacity=capacity
    )


def test_the_last_seat_goes_to_one_booking(world):
    slot = future_slot(world.antenna, capacity=2)
    other = CaseFactory(antenna=world.antenna)
    third = CaseFactory(antenna=world.antenna)
    a = booking.convocation_book(
        actor=None, case=world.cases["arrival"], slot=slot, kind="end_of_hearing"
    )
    b = booking.convocation_book(actor=None, case=other, slot=slot, kind="end_of_hearing")
    assert (a.seat, b.seat) == (1, 2)
    with pytest.raises(booking.SlotFull) as exc:
        booking.convocation_book(actor=None, case=third, slot=slot, kind="end_of_hearing")
    assert "Choisissez le suivant" in exc.value.messages[0]
    booking.convocation_cancel(actor=None, convocation=a, reason="Erreur de saisie")
    assert (
        booking.convocation_book(actor=None, case=third, slot=slot, kind="end_of_hearing").seat == 1
    )


@pytest.mark.parametrize(
    ("when", "message"),
    [(-1, "Ce créneau est passé.")],
)
def test_a_past_slot_is_refused(world, when, message):
    slot = future_slot(world.antenna)
    Slot.objects.filter(pk=slot.pk).update(starts_at=timezone.now() + timedelta(days=when))
    with pytest.raises(ValidationError) as exc:
        booking.convocation_book(
            actor=None, case=world.cases["arrival"], slot=slot, kind="end_of_hearing"
        )
    assert exc.value.message_dict["slot"] == [message]


def test_a_slot_of_another_service_is_refused(world):
    slot = future_slot(world.other_antenna)
    with pytest.raises(ValidationError) as exc:
        booking.convocation_book(
            actor=None, case=world.cases["arrival"], slot=slot, kind="end_of_hearing"
        )
    assert exc.value.message_dict["slot"] == ["Ce créneau appartient à un autre service."]


def test_beyond_the_deadline_needs_a_reason_which_is_kept(world):
    measure = world.cases["arrival"].measures.get()
    measure.judgment_date = timezone.localdate() - timedelta(days=44)
    measure.save()
    slot = future_slot(world.antenna, days=5)
    with pytest.raises(ValidationError) as exc:
        booking.convocation_book(
            actor=None,
            case=world.cases["arrival"],
            slot=slot,
            kind="end_of_hearing",
            measure=measure,
        )
    assert "dépasse le délai légal" in exc.value.message_dict["beyond_reason"][0]
    conv = booking.convocation_book(
        actor=None,
        case=world.cases["arrival"],
        slot=slot,
        kind="end_of_hearing",
        measure=measure,
        beyond_reason="Aucun créneau plus tôt (antenne fermée)",
    )
    assert conv.deadline_exceeded_reason == "Aucun créneau plus tôt (antenne fermée)"


def test_rescheduling_frees_the_old_seat_and_keeps_history(world, sms):
    old_slot, new_slot = future_slot(world.antenna, days=3), future_slot(world.antenna, days=6)
    conv = booking.convocation_book(
        actor=None, case=world.cases["arrival"], slot=old_slot, kind="end_of_hearing"
    )
    new = booking.convocation_reschedule(
        actor=world.users["dpip"], convocation=conv, slot=new_slot, reason="Demande de la personne"
    )
    conv.refresh_from_db()
    assert conv.status == "cancelled" and new.rescheduled_from == conv
    assert booking.free_slots(antenna=world.antenna).filter(pk=old_slot.pk).exists()


@needs_postgres()
@pytest.mark.django_db(transaction=True)
def test_twenty_clerks_booking_the_last_seat_at_once(reference):
    antenna = AntennaFactory()
    slot = future_slot(antenna)
    cases = [CaseFactory(antenna=antenna) for _ in range(20)]
    barrier = threading.Barrier(20)
    outcomes = []

    def book(case):
        try:
            barrier.wait()
            booking.convocation_book(
                actor=None, case=case, slot=slot, kind="end_of_hearing", notify=False
            )
            outcomes.append("booked")
        except booking.SlotFull:
            outcomes.append("full")
        except Exception as exc:  # noqa: BLE001 - anything else is a failure of the test
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["booked"] + ["full"] * 19
    assert Convocation.objects.filter(slot=slot, status="booked").count() == 1


# --- messages ------------------------------------------------------------------------


def test_booking_queues_a_message_and_a_reminder_two_days_before_at_ten(world, sms):
    person = world.cases["arrival"].person
    person.phone, person.email = "06 12 34 56 78", "p@example.org"
    person.save()
    slot = future_slot(world.antenna, days=6)
    conv = booking.convocation_book(
        actor=None, case=world.cases["arrival"], slot=slot, kind="end_of_hearing"
    )
    rows = {(n.event, n.channel): n for n in Notification.objects.filter(convocation=conv)}
    assert set(rows) == {
        ("booked", "sms"),
        ("booked", "email"),
        ("reminder", "sms"),
        ("reminder", "email"),
    }
    local = slot.starts_at.astimezone(PARIS)
    expected = datetime.combine(local.date() - timedelta(days=2), time(10), tzinfo=PARIS)
    assert rows[("reminder", "sms")].send_after == expected
    assert f"{local:%d/%m/%Y} à {local:%H:%M}" in rows[("booked", "sms")].body
    assert booking.notifications_plan(conv, events=("booked", "reminder")) == 4  # planned again…
    assert Notification.objects.filter(convocation=conv).count() == 4  # …but nothing more queued


def test_no_message_without_consent_or_without_a_mobile(world, sms):
    person = world.cases["arrival"].person
    person.phone = "04 72 00 00 00"  # a landline
    person.save()
    conv = booking.convocation_book(
        actor=None,
        case=world.cases["arrival"],
        slot=future_slot(world.antenna),
        kind="end_of_hearing",
    )
    assert not Notification.objects.filter(convocation=conv).exists()
    person.phone, person.accepts_messages = "06 12 34 56 78", False
    person.save()
    assert booking.notifications_plan(conv, events=("booked",)) == 0


def test_sending_twice_sends_once_and_failures_are_retried_with_backoff(world, sms):
    person = world.cases["arrival"].person
    person.phone = "0612345678"
    person.save()
    booking.convocation_book(
        actor=None,
        case=world.cases["arrival"],
        slot=future_slot(world.antenna, days=10),
        kind="end_of_hearing",
    )
    sms.fail_next = 1
    now = timezone.now()
    assert notifications_send_due(now=now) == {"sent": 0, "failed": 0, "retry": 1}
    retry = Notification.objects.get(event="booked")
    assert (retry.status, retry.attempts, retry.send_after) == (
        "queued",
        1,
        now + timedelta(minutes=2),
    )
    assert notifications_send_due(now=now + timedelta(minutes=3)) == {
        "sent": 1,
        "failed": 0,
        "retry": 0,
    }
    assert notifications_send_due(now=now + timedelta(minutes=4)) == {
        "sent": 0,
        "failed": 0,
        "retry": 0,
    }
    assert [to for to, _ in sms.outbox] == ["0612345678"]


def test_cancelling_drops_the_reminder_and_tells_the_person(world, sms):
    person = world.cases["arrival"].person
    person.phone = "0712345678"
    person.save()
    conv = booking.convocation_book(
        actor=None,
        case=world.cases["arrival"],
        slot=future_slot(world.antenna, days=9),
        kind="end_of_hearing",
    )
    booking.convocation_cancel(actor=None, convocation=conv, reason="Juge indisponible")
    states = dict(Notification.objects.filter(convocation=conv).values_list("event", "status"))
    assert states == {"booked": "cancelled", "reminder": "cancelled", "cancelled": "queued"}


# --- the desk -----------------------------------------------------------------------


@pytest.fixture
def desk(world, client_for):
    agenda_for(world.antenna, 9, 10, 11, 14, weekdays=range(7))
    booking.slots_generate(today=timezone.localdate())
    return client_for(world.users["bex"])


def desk_data(**kw):
    data = {
        "request_token": "t-1",
        "birth_name": "Lefèvre",
        "first_names": "Zoé",
        "sex": "F",
        "birth_date": "1991-02-03",
        "postal_code": "69003",
        "commune": "Lyon",
        "phone": "06 11 22 33 44",
        "accepts_messages": "on",
        "measure_type": MeasureType.objects.get(code="SP").pk,
        "judgment_date": timezone.localdate().isoformat(),
        "action": "preview",
    }
    return {**data, **kw}


def test_the_desk_proposes_slots_within_the_deadline_then_books_once(world, desk):
    page = desk.post("/bex/", desk_data()).content.decode()
    assert page.count("dans le délai légal") >= 4
    slot = re.search(r'name="slot" value="(\d+)"', page).group(1)
    first = desk.post("/bex/", desk_data(action="book", slot=slot))
    again = desk.post("/bex/", desk_data(action="book", slot=slot))  # double click
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    person = Person.objects.get(birth_name="Lefèvre")
    case = Case.objects.get(person=person)
    assert (case.status, case.service, case.created_by) == (
        "awaiting",
        world.service,
        world.users["bex"],
    )
    assert Convocation.objects.filter(case=case).count() == 1
    measure = case.measures.get()
    assert measure.obligations.filter(obligation_type__family="general").count() == 6


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"phone": "04 72 00 00 00"}, "Ce n'est pas un numéro de portable français (06 ou 07)."),
        ({"postal_code": "99999"}, "Aucun SPIP n'est compétent pour ce code postal."),
        (
            {"postal_code": "13001"},
            "Le SPIP compétent pour cette adresse n'est pas destinataire de votre tribunal.",
        ),
        ({"judgment_date": "2099-01-01"}, "La date du jugement ne peut pas être dans le futur."),
        ({"birth_name": ""}, "Champ requis pour une nouvelle personne."),
    ],
)
def test_bad_input_gets_a_french_message_and_writes_nothing(world, desk, changes, field_message):
    response = desk.post("/bex/", desk_data(action="book", slot="1", **changes))
    assert response.status_code == 400
    assert escape(field_message) in response.content.decode()
    assert not Person.objects.filter(birth_name="Lefèvre").exists()


def test_a_measure_not_pronounced_at_the_hearing_is_refused(world, desk):
    lc = MeasureType.objects.get(code="LC").pk
    response = desk.post("/bex/", desk_data(measure_type=lc))
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tig_hours": "500"}, "entre 20 et 400"),
        ({"tig_hours": ""}, "Indiquez le nombre d&#x27;heures de TIG"),
        ({"tig_hours": "70", "tig_deadline": "2020-01-01"}, "doit suivre la date du jugement"),
        ({"tig_hours": "70", "tig_deadline": "2099-01-01"}, "18 mois"),
    ],
)
def test_impossible_tig_terms_are_refused_before_any_slot_is_offered(world, desk, changes, message):
    tig = MeasureType.objects.get(code="TIG").pk
    response = desk.post("/bex/", desk_data(measure_type=tig, **changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'name="slot"' not in page
    response = desk.post("/bex/", desk_data(measure_type=tig, action="book", slot="1", **changes))
    assert response.status_code == 400
    assert not Person.objects.filter(birth_name="Lefèvre").exists()


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [
        ("2031-01-01", "dans le futur"),
        ("1850-06-01", "invraisemblable"),
        ("2020-01-01", "invraisemblable"),
    ],
)
def test_an_impossible_birth_date_is_refused_at_once(world, desk, birth_date, message):
    response = desk.post("/bex/", desk_data(birth_date=birth_date))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_desk_offers_nothing_before_the_services_lead_time_and_pages_forward(
    world, desk, client_for
):
    """At 09:23 (Paris) on a Wednesday, the service's 2 hours of lead time: the first slot
    offered is 14:00 (9, 10 and 11 are too close); "Créneaux suivants" goes on from the
    last one shown."""
    with time_machine.travel(datetime(2026, 12, 2, 9, 23, tzinfo=PARIS), tick=False):
        booking.slots_generate(today=date(2026, 12, 2))
        desk = client_for(world.users["bex"])  # signed in on that day
        page = desk.post("/bex/", desk_data()).content.decode()
        first = re.search(r'name="slot" value="(\d+)"', page).group(1)
        starts = Slot.objects.get(pk=first).starts_at.astimezone(PARIS)
        assert (starts.date(), starts.hour) == (date(2026, 12, 2), 14)
        shown = re.findall(r'name="slot" value="(\d+)"', page)
        after = re.search(r'name="after" value="([^"]+)"', page).group(1)
        later = desk.post("/bex/", desk_data(action="later", after=after)).content.decode()
        more = re.findall(r'name="slot" value="(\d+)"', later)
        assert more and not set(more) & set(shown)
        last_shown = max(Slot.objects.filter(pk__in=shown).values_list("starts_at", flat=True))
        assert (
            min(Slot.objects.filter(pk__in=more).values_list("starts_at", flat=True)) > last_shown
        )
        # Booking a slot inside the lead time is refused by the service too.
        too_soon = (
            Slot.objects.filter(
                agenda__antenna=world.antenna,
                starts_at__lt=datetime(2026, 12, 2, 11, 23, tzinfo=PARIS),
            )
            .order_by("starts_at")
            .last()
        )
        response = desk.post("/bex/", desk_data(action="book", slot=str(too_soon.pk)))
        assert response.status_code == 400
        assert "trop proche" in response.content.decode()


def test_the_reason_for_a_slot_beyond_the_deadline_is_asked_only_when_one_is_offered(world, desk):
    page = desk.post("/bex/", desk_data()).content.decode()
    assert "dans le délai légal" in page
    assert "Motif du dépassement" not in page  # every slot offered is within 45 days


def test_a_likely_duplicate_is_shown_before_creating(world, desk):
    from cases.files.services import person_create

    person_create(
        actor=world.users["bex"],
        birth_name="LEFEVRE",
        first_names="Zoe",
        sex="F",
        birth_date=date(1991, 2, 3),
    )
    page = desk.post("/bex/", desk_data()).content.decode()
    assert 'data-testid="duplicates"' in page
    assert "LEFEVRE Zoe" in page


def test_the_desk_is_for_bex_clerks(world, client_for):
    for persona in ("cpip", "dspip", "sap", "disp"):
        assert client_for(world.users[persona]).get("/bex/").status_code == 403


def test_the_convocation_pdf_has_the_person_and_the_local_time(world, desk):
    from django.template.loader import render_to_string

    slot = future_slot(world.antenna, days=4)
    conv = booking.convocation_book(
        actor=world.users["bex"],
        case=world.cases["arrival"],
        slot=slot,
        kind="end_of_hearing",
        measure=world.cases["arrival"].measures.get(),
    )
    response = desk.get(f"/bex/convocations/{conv.pk}/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    local = slot.starts_at.astimezone(PARIS)
    html = render_to_string(
        "cases/convocation_pdf.html", {"c": conv, "time": local, "obligations": []}
    )
    assert world.cases["arrival"].person.full_name in html
    assert f"à {local:%H:%M}" in html
    # Another BEX clerk's convocation stays closed to this one.
    assert desk.get(f"/bex/convocations/{conv.pk + 999}/pdf/").status_code == 404


def test_the_spip_sees_the_arrival_at_once(world, desk, client_for):
    page = desk.post("/bex/", desk_data()).content.decode()
    slot = re.search(r'name="slot" value="(\d+)"', page).group(1)
    desk.post("/bex/", desk_data(action="book", slot=slot))
    arrivals = client_for(world.users["dpip"]).get("/arrivees/").content.decode()
    assert "LEFÈVRE Zoé" in arrivals


# --- API -------------------------------------------------------------------------------


def test_api_slots_say_whether_they_are_within_the_deadline(world, api_for):
    early, late = future_slot(world.antenna, days=3), future_slot(world.antenna, days=50)
    judged = timezone.localdate().isoformat()
    body = (
        api_for(world.users["bex"])
        .get(
            f"/api/v1/slots/?antenna={world.antenna.pk}&free=true&measure_type=SP&judgment_date={judged}"
        )
        .json()
    )
    assert [(row["id"], row["within_deadline"], row["free_seats"]) for row in body["results"]] == [
        (early.pk, True, 1),
        (late.pk, False, 1),
    ]


def test_api_book_cancel_reschedule_and_outcome(world, api_for, sms):
    api = api_for(world.users["dpip"])
    slot, other, third = (future_slot(world.antenna, days=d) for d in (3, 4, 5))
    case = world.cases["arrival"]
    response = api.post(
        "/api/v1/convocations/", {"case": case.pk, "slot": slot.pk, "kind": "first"}, format="json"
    )
    assert response.status_code == 201
    conv = response.json()["id"]
    full = api.post(
        "/api/v1/convocations/", {"case": world.cases["mine"].pk, "slot": slot.pk}, format="json"
    )
    assert full.status_code == 400 and "Choisissez le suivant" in full.json()["slot"][0]
    moved = api.post(
        f"/api/v1/convocations/{conv}/reschedule/",
        {"slot": other.pk, "reason": "Demande"},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["rescheduled_from"] == conv
    new = moved.json()["id"]
    assert api.post(f"/api/v1/convocations/{new}/cancel/", {}, format="json").status_code == 400
    assert (
        api.post(f"/api/v1/convocations/{new}/cancel/", {"reason": "Erreur"}, format="json").json()[
            "status"
        ]
        == "cancelled"
    )
    again = api.post(
        "/api/v1/convocations/", {"case": case.pk, "slot": third.pk}, format="json"
    ).json()["id"]
    bad = api.post(f"/api/v1/convocations/{again}/outcome/", {"status": "excused"}, format="json")
    assert bad.status_code == 400 and "outcome_reason" in bad.json()
    pdf = api.get(f"/api/v1/convocations/{again}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_api_booking_on_a_case_out_of_scope_is_404(world, api_for):
    slot = future_slot(world.other_antenna)
    response = api_for(world.users["dpip"]).post(
        "/api/v1/convocations/", {"case": world.cases["other"].pk, "slot": slot.pk}, format="json"
    )
    assert response.status_code == 404


def test_slot_search_uses_a_constant_number_of_queries(
    world, api_for, django_assert_max_num_queries
):
    for day in range(1, 40):
        future_slot(world.antenna, days=day)
    with django_assert_max_num_queries(
        5
    ):  # agent (scope), court services (scope), count, page, + 1 slack
        body = (
            api_for(world.users["bex"])
            .get(f"/api/v1/slots/?antenna={world.antenna.pk}&page_size=100")
            .json()
        )
    assert body["count"] == 39


def test_a_head_of_antenna_publishes_the_agenda_in_the_admin(world, client_for):
    from django.contrib.auth.models import Permission

    user = world.users["dpip"]
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_agenda", "change_agenda"])
    )
    mine = agenda_for(world.antenna, 9)
    agenda_for(world.other_antenna, 9)
    response = client_for(user).get("/admin/cases/agenda/")
    assert [a.pk for a in response.context["cl"].result_list] == [mine.pk]
    response = client_for(user).post(
        "/admin/cases/agenda/", {"action": "generate_slots", "_selected_action": [mine.pk]}
    )
    assert response.status_code == 302
    assert Slot.objects.filter(agenda=mine).count() > 0


def test_tampered_ids_get_an_answer_not_an_error(world, desk, client_for):
    assert desk.get("/bex/?personne=abc").status_code == 200
    response = desk.post("/bex/", desk_data(person="999999"))
    assert response.status_code in (200, 400)
    conv = Convocation.objects.create(
        case=world.cases["mine"],
        kind="follow_up",
        issued_from="spip",
        starts_at=timezone.now() - timedelta(hours=1),
        status="missed",
        outcome_recorded_at=timezone.now(),
    )
    row = client_for(world.users["cpip"]).post(
        f"/dossiers/convocations/{conv.pk}/issue/",
        {"reaction": "new_convocation", "new_at": "2026-13-45T10:00"},
        HTTP_HX_REQUEST="true",
    )
    assert "Indiquez la date de la nouvelle convocation." in row.content.decode()


def test_a_likely_duplicate_needs_an_explicit_answer_which_is_journalled(world, desk):
    from cases.files.services import person_create
    from spip.models import AuditEntry

    known = person_create(
        actor=world.users["bex"],
        birth_name="LEFEVRE",
        first_names="Zoe",
        sex="F",
        birth_date=date(1991, 2, 3),
    )
    page = desk.post("/bex/", desk_data()).content.decode()
    assert 'data-testid="duplicates"' in page
    slot = re.search(r'name="slot" value="(\d+)"', page).group(1)
    refused = desk.post("/bex/", desk_data(action="book", slot=slot))
    assert refused.status_code == 400
    assert "semble déjà connue" in refused.content.decode()
    assert Person.objects.filter(search_key__startswith="LEFEVRE ZOE").count() == 1
    booked = desk.post(
        "/bex/",
        desk_data(
            action="book",
            slot=slot,
            not_duplicate="on",
            not_duplicate_reason="Autre lieu de naissance (Alger)",
        ),
    )
    assert booked.status_code == 302
    new = Person.objects.exclude(pk=known.pk).get(birth_name="Lefèvre")
    entry = AuditEntry.objects.get(action="create", object_type="cases.person", object_id=new.pk)
    assert entry.changes["distincte_de"] == [known.pk]
    assert entry.changes["motif"] == "Autre lieu de naissance (Alger)"


def test_a_past_convocation_is_reprinted_from_the_desk_home_and_the_case_file(
    world, desk, client_for
):
    page = desk.post("/bex/", desk_data()).content.decode()
    slot = re.search(r'name="slot" value="(\d+)"', page).group(1)
    desk.post("/bex/", desk_data(action="book", slot=slot))
    conv = Convocation.objects.get(slot_id=slot)
    pdf_url = f"/bex/convocations/{conv.pk}/pdf/"
    assert pdf_url in desk.get("/").content.decode()
    conv.case.referent = world.agents["cpip"]
    conv.case.status = "active"
    conv.case.save()
    case_file = client_for(world.users["cpip"]).get(f"/dossiers/{conv.case_id}/")
    # The CPIP's own address of the same document (the case file sits under /dossiers/).
    cpip_pdf_url = f"/dossiers/convocations/{conv.pk}/pdf/"
    assert cpip_pdf_url in case_file.content.decode()
    assert client_for(world.users["cpip"]).get(cpip_pdf_url).status_code == 200
    assert client_for(world.users["cpip_other"]).get(cpip_pdf_url).status_code == 404


def test_obligations_follow_the_order_of_the_code_under_their_article():
    from measures.models import ObligationType, in_legal_order

    articles = ["132-45 14° CP", "138 CPP", "132-45-1 CP", "132-45 4° CP", "132-44 2° CP"]
    types = [ObligationType(code=a, article=a, label=a) for a in articles]
    grouped = [(heading, [o.article for o in items]) for heading, items in in_legal_order(types)]
    assert grouped == [
        ("article 132-44 du code pénal", ["132-44 2° CP"]),
        ("article 132-45 du code pénal", ["132-45 4° CP", "132-45 14° CP"]),
        ("article 132-45-1 du code pénal", ["132-45-1 CP"]),
        ("article 138 du code de procédure pénale", ["138 CPP"]),
    ]


def test_the_judges_convocation_has_its_own_place_words_and_subject_and_is_printed_too(
    world, desk, sms, mailoutbox
):
    from django.template.loader import render_to_string

    from cases.agenda.notify import notifications_send_due

    Court = type(world.court)
    Court.objects.filter(pk=world.court.pk).update(
        address="67 rue Servient", city="Lyon", phone="04 72 60 70 12"
    )
    sap = Agenda.objects.create(name="SAP de Lyon", kind="sap", court=world.court)
    jap_slot = Slot.objects.create(
        agenda=sap, starts_at=timezone.now() + timedelta(days=12), capacity=1
    )
    case = world.cases["arrival"]
    Person.objects.filter(pk=case.person_id).update(
        phone="06 11 22 33 44", email="p@example.invalid", accepts_messages=True
    )
    case.person.refresh_from_db()
    measure = case.measures.get()
    spip = booking.convocation_book(
        actor=world.users["bex"],
        case=case,
        slot=future_slot(world.antenna),
        kind="end_of_hearing",
        measure=measure,
    )
    jap = booking.convocation_book(
        actor=world.users["bex"], case=case, slot=jap_slot, kind="jap", measure=measure
    )
    body = Notification.objects.get(convocation=jap, event="booked", channel="sms").body
    assert body.startswith("Juge de l'application des peines : vous êtes convoqué(e)")
    assert "Tribunal judiciaire de Lyon, 67 rue Servient, Lyon. Tél. 04 72 60 70 12." in body
    notifications_send_due()
    subjects = {m.subject for m in mailoutbox}
    assert "Votre convocation devant le juge de l'application des peines" in subjects
    assert "Votre convocation au SPIP" in subjects
    assert desk.get(f"/bex/convocations/{spip.pk}/pdf/").status_code == 200
    html = render_to_string(
        "cases/convocation_pdf.html",
        {
            "c": spip,
            "time": spip.starts_at,
            "obligations": [],
            "jap": jap,
            "jap_time": jap.starts_at,
            "jap_place": booking.convocation_place(jap),
        },
    )
    assert "juge de l'application des peines" in html and "67 rue Servient" in html


def test_the_same_sentence_for_a_known_person_is_not_booked_twice(world, desk):
    """A second booking of the same measure (same type, same judgment day) for the person
    found at the desk is refused with a French message; nothing more is written."""
    page = desk.post("/bex/", desk_data()).content.decode()
    slot = re.search(r'name="slot" value="(\d+)"', page).group(1)
    desk.post("/bex/", desk_data(action="book", slot=slot))
    person = Person.objects.get(birth_name="Lefèvre")
    before = Convocation.objects.count()
    again = desk_data(request_token="t-2", person=person.pk)
    page = desk.post("/bex/", again).content.decode()
    slot = re.search(r'name="slot" value="(\d+)"', page).group(1)
    refused = desk.post("/bex/", {**again, "action": "book", "slot": slot})
    assert refused.status_code == 400
    assert "déjà enregistrée pour cette personne" in refused.content.decode()
    assert Convocation.objects.count() == before
    assert Case.objects.get(person=person).measures.count() == 1
