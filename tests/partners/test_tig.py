"""TIG: placing a measure on a post, recording sessions (alone, in a group, twice), the
hours ledger and its projection with figures written by hand, and the alerts it feeds."""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.alerts.services import alerts_refresh
from cases.models import Alert
from measures.models import Measure, MeasureType
from partners import tig
from partners.models import PartnerBody, TigPlacement, TigPost, TigSession
from spip.models import AuditEntry
from tests.factories import CaseFactory, MeasureFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 30)
NOON = timezone.make_aware(timezone.datetime(2026, 3, 30, 12, 0))


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def post(world):
    host = PartnerBody.objects.get(name="Association Le Relais")
    host.services.add(world.service)
    return TigPost.objects.create(
        partner=host,
        title="Espaces verts",
        place="Parc de Gerland",
        weekly_hours=6,
        places=2,
        tutor_name="Marc Perrin",
    )


def tig_measure(case, hours=35, deadline=date(2026, 6, 1), judged=date(2026, 1, 5)):
    return MeasureFactory(
        case=case,
        court=case.antenna.service.courts.first(),
        measure_type=MeasureType.objects.get(code="TIG"),
        judgment_date=judged,
        start_date=judged,
        tig_hours=hours,
        tig_deadline=deadline,
    )


@pytest.fixture
def placed(world, post, clock):
    measure = tig_measure(world.cases["mine"])
    return tig.tig_place(
        actor=world.users["cpip"], measure=measure, post=post, starts_on=date(2026, 3, 1)
    )


def record(actor, placement, on, start=9, end=12, outcome="done", **extra):
    ((session, created),) = tig.tig_sessions_record(
        actor=actor,
        on=on,
        starts_at=time(start, 0),
        ends_at=time(end, 0),
        rows=[tig.SessionInput(placement=placement, outcome=outcome, **extra)],
    )
    return session, created


# --- The ledger, by hand ---------------------------------------------------------------


def test_before_any_session_the_pace_is_the_posts_weekly_hours(world, placed):
    book = tig.ledger(placed.measure, TODAY)
    # 35 h ordered = 2,100 min; 6 h a week = 360 min; 2,100 × 7 / 360 = 40.8 → 41 days.
    assert (book.ordered_minutes, book.done_minutes, book.remaining_minutes) == (2100, 0, 2100)
    assert book.weekly_minutes == 360
    assert book.projected_end == date(2026, 5, 10)
    assert not book.at_risk  # 10 May is before the 1 June deadline


def test_the_ledger_counts_sessions_done_and_projects_from_the_pace_kept(world, placed):
    tutor = world.users["partner"]
    record(tutor, placed, date(2026, 3, 3))  # 3 h done
    record(tutor, placed, date(2026, 3, 10))  # 3 h done
    record(tutor, placed, date(2026, 3, 17), outcome="unexcused")  # nothing credited
    record(tutor, placed, date(2026, 3, 24), outcome="sent_home")  # nothing credited
    record(tutor, placed, date(2026, 3, 26), start=14, end=17)  # 3 h done
    book = tig.ledger(placed.measure, TODAY)
    # 3 × 180 = 540 min done; 2,100 − 540 = 1,560 left. Since 3 March: 28 days (first
    # day included), 540 × 7 / 28 = 135 min a week; 1,560 × 7 / 135 = 80.9 → 81 days.
    assert (book.done_minutes, book.remaining_minutes) == (540, 1560)
    assert book.weekly_minutes == 135
    assert book.projected_end == date(2026, 6, 19)
    assert book.at_risk  # after the 1 June deadline
    assert book.percent == 25  # 540 / 2,100
    placed.measure.refresh_from_db()
    assert placed.measure.tig_hours_done == 9


def test_a_first_good_week_is_not_taken_for_a_trend(world, placed):
    record(world.users["partner"], placed, date(2026, 3, 29), start=8, end=14)  # 6 h yesterday
    book = tig.ledger(placed.measure, TODAY)
    # Two days observed count as seven: 360 × 7 / 7 = 360 min a week, not 1,260.
    assert book.weekly_minutes == 360
    assert book.projected_end == TODAY + timedelta(days=34)  # 1,740 × 7 / 360 = 33.8 → 34


def test_hours_beyond_the_ordered_total_are_refused_with_what_is_left(world, post, clock):
    measure = tig_measure(world.cases["mine"], hours=20)
    placement = tig.tig_place(
        actor=world.users["cpip"], measure=measure, post=post, starts_on=date(2026, 3, 1)
    )
    for day in (2, 3):
        record(world.users["partner"], placement, date(2026, 3, day), start=8, end=16)  # 8 h
    with pytest.raises(ValidationError) as refused:
        record(world.users["partner"], placement, date(2026, 3, 4), start=8, end=13)  # 5 h
    assert "reste 4 h" in str(refused.value)
    assert TigSession.objects.count() == 2
    record(world.users["partner"], placement, date(2026, 3, 4), start=8, end=12)
    assert tig.ledger(measure, TODAY).complete


# --- Recording sessions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "start", "end", "field"),
    [
        (date(2026, 3, 31), 9, 12, "on"),  # tomorrow
        (date(2026, 2, 27), 9, 12, "on"),  # before the placement
        (date(2026, 3, 20), 12, 9, "ends_at"),  # ends before it starts
    ],
)
def test_a_session_out_of_bounds_is_refused(world, placed, on, start, end, field):
    with pytest.raises(ValidationError) as refused:
        record(world.users["partner"], placed, on, start=start, end=end)
    assert field in refused.value.message_dict
    assert not TigSession.objects.exists()


def test_sending_the_same_session_twice_records_it_once(world, placed):
    first, created = record(world.users["partner"], placed, date(2026, 3, 20), note="Ponctuel")
    again, created_again = record(
        world.users["partner"], placed, date(2026, 3, 20), note="Ponctuel"
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert TigSession.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="partners.tigsession").count() == 1
    with pytest.raises(ValidationError):  # another outcome at the same start: not a repeat
        record(world.users["partner"], placed, date(2026, 3, 20), outcome="excused")
    with pytest.raises(ValidationError):  # overlapping the one recorded
        record(world.users["partner"], placed, date(2026, 3, 20), start=11, end=13)


def test_a_group_session_is_recorded_whole_or_not_at_all(world, post, placed):
    other = tig_measure(world.cases["colleague"], hours=20)
    second = tig.tig_place(
        actor=world.users["cpip2"], measure=other, post=post, starts_on=date(2026, 3, 1)
    )
    rows = [
        tig.SessionInput(placement=placed, outcome="done", behaviour="good"),
        tig.SessionInput(placement=second, outcome="done"),
    ]
    with pytest.raises(ValidationError):  # 21 h for the second: beyond its 20 h
        tig.tig_sessions_record(
            actor=world.users["partner"],
            on=date(2026, 3, 20),
            starts_at=time(0, 0),
            ends_at=time(21, 0),
            rows=rows,
        )
    assert not TigSession.objects.exists()
    results = tig.tig_sessions_record(
        actor=world.users["partner"],
        on=date(2026, 3, 20),
        starts_at=time(9, 0),
        ends_at=time(12, 0),
        rows=rows,
    )
    assert [created for _s, created in results] == [True, True]
    assert set(TigSession.objects.values_list("placement_id", "minutes")) == {
        (placed.pk, 180),
        (second.pk, 180),
    }


def test_only_the_host_or_the_spip_following_the_case_records_a_session(world, placed):
    stranger = PartnerBody.objects.create(name="Autre structure", kind="tig_host")
    world.agents["partner"].partner = stranger
    world.agents["partner"].save()
    for key in ("partner", "cpip_other", "bex", "dspip_other"):
        user = type(world.users[key]).objects.get(pk=world.users[key].pk)  # fresh scope
        with pytest.raises(PermissionDenied):
            record(user, placed, date(2026, 3, 20))
    record(world.users["cpip"], placed, date(2026, 3, 20))  # the CPIP may record it too
    assert TigSession.objects.count() == 1


# --- Placing ------------------------------------------------------------------------------


def test_placing_checks_the_measure_the_post_and_the_person(world, post, clock):
    cpip = world.users["cpip"]
    measure = tig_measure(world.cases["mine"])
    with pytest.raises(ValidationError) as refused:  # after the deadline
        tig.tig_place(actor=cpip, measure=measure, post=post, starts_on=date(2026, 6, 2))
    assert "starts_on" in refused.value.message_dict
    not_tig = Measure.objects.get(case=world.cases["mine"], tig_hours__isnull=True)
    with pytest.raises(ValidationError) as refused:
        tig.tig_place(actor=cpip, measure=not_tig, post=post, starts_on=date(2026, 3, 1))
    assert "measure" in refused.value.message_dict
    tig.tig_place(actor=cpip, measure=measure, post=post, starts_on=date(2026, 3, 1))
    second = tig_measure(world.cases["mine"])  # the same person: one placement at a time
    with pytest.raises(ValidationError) as refused:
        tig.tig_place(actor=cpip, measure=second, post=post, starts_on=date(2026, 3, 15))
    assert "déjà un placement" in str(refused.value)
    with pytest.raises(PermissionDenied):  # the host does not place
        tig.tig_place(
            actor=world.users["partner"], measure=second, post=post, starts_on=date(2026, 3, 15)
        )
    assert TigPlacement.objects.count() == 1


def test_a_full_post_takes_nobody_else(world, post, clock):
    for key, cpip in (("mine", "cpip"), ("colleague", "cpip2")):
        tig.tig_place(
            actor=world.users[cpip],
            measure=tig_measure(world.cases[key]),
            post=post,
            starts_on=date(2026, 3, 1),
        )
    third = tig_measure(CaseFactory(antenna=world.antenna, referent=world.agents["cpip"]))
    with pytest.raises(ValidationError) as refused:
        tig.tig_place(actor=world.users["cpip"], measure=third, post=post, starts_on=TODAY)
    assert "complet" in refused.value.message_dict["post"][0]


# --- Alerts -------------------------------------------------------------------------------


def test_an_unexcused_absence_reaches_the_cpip_at_once(
    world, placed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(world.users["partner"], placed, date(2026, 3, 26), outcome="unexcused")
    alert = Alert.objects.get(alert_type="tig_absence", closed_at__isnull=True)
    assert alert.case == world.cases["mine"]
    assert alert.agent == world.agents["cpip"]
    assert "26/03/2026" in alert.rule
    record(world.users["partner"], placed, date(2026, 3, 28))  # back on the post
    alerts_refresh(types=["tig_absence"])
    assert not Alert.objects.filter(alert_type="tig_absence", closed_at__isnull=True).exists()


def test_a_pace_that_misses_the_deadline_opens_the_tig_alert(world, placed):
    Measure.objects.filter(pk=placed.measure_id).update(tig_deadline=date(2026, 12, 1))
    alerts_refresh(types=["tig_at_risk"])
    # At the post's 6 h a week the end is 10 May, long before 1 December: no alert.
    assert not Alert.objects.filter(alert_type="tig_at_risk").exists()
    record(world.users["partner"], placed, date(2026, 3, 3), start=9, end=10)  # 1 h in 4 weeks
    alerts_refresh(types=["tig_at_risk"])
    alert = Alert.objects.get(alert_type="tig_at_risk", closed_at__isnull=True)
    # 60 × 7 / 28 = 15 min a week; 2,040 × 7 / 15 = 952 days → 6 November 2028.
    assert alert.rule == "TIG : 34 h restantes, au rythme actuel, fin prévue le 06/11/2028"
    assert alert.case == world.cases["mine"]
