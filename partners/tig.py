"""Travail d'intérêt général: placing a measure on a host's post, recording its sessions
(by the CPIP or by the host's tutor), and the hours ledger that projects its end.

The ledger, in minutes: ordered (the judgment's hours) − credited (the sessions done)
= remaining. Its pace is what the person has actually done per week since the first
session done (the post's weekly hours before any); remaining ÷ pace gives the projected
end, compared with the legal deadline."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from measures.models import Measure
from partners.choices import TigOutcome
from partners.models import TigPlacement, TigPost, TigSession
from spip.access import scope_for
from spip.audit import audit_write
from spip.choices import AuditAction, Role

# Sent after the commit of an unexcused absence: the alerts tell the CPIP at once.
tig_absence_recorded = Signal()

# Before any session is done, the pace is the post's weekly hours; after, the pace
# observed over at least this many days (one good first week is not a trend).
MIN_OBSERVED_DAYS = 7


@dataclass(frozen=True)
class Ledger:
    ordered_minutes: int
    done_minutes: int
    deadline: date | None
    projected_end: date | None
    weekly_minutes: int | None

    @property
    def remaining_minutes(self) -> int:
        return max(self.ordered_minutes - self.done_minutes, 0)

    @property
    def complete(self) -> bool:
        return self.ordered_minutes > 0 and self.remaining_minutes == 0

    @property
    def at_risk(self) -> bool:
        """Not done, and at the pace so far it ends after the deadline. No pace yet (not
        placed) is the late-start rule's business, not a projection."""
        if self.complete or self.deadline is None or self.projected_end is None:
            return False
        return self.projected_end > self.deadline

    @property
    def percent(self) -> int:
        if not self.ordered_minutes:
            return 0
        return min(100, self.done_minutes * 100 // self.ordered_minutes)


def hours_label(minutes: int) -> str:
    """'12 h', '12 h 30'."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def project(
    *,
    ordered_minutes: int,
    done_minutes: int,
    first_done_on: date | None,
    post_weekly_hours: int | None,
    today: date,
) -> tuple[date | None, int | None]:
    """The projected end and the weekly pace (minutes) it is drawn from."""
    remaining = ordered_minutes - done_minutes
    if first_done_on is not None and done_minutes > 0:
        days = max((today - first_done_on).days + 1, MIN_OBSERVED_DAYS)
        weekly = math.ceil(done_minutes * 7 / days)
    elif post_weekly_hours:
        weekly = post_weekly_hours * 60
    else:
        return (today if remaining <= 0 else None), None
    if remaining <= 0:
        return today, weekly
    return today + timedelta(days=math.ceil(remaining * 7 / weekly)), weekly


def ledgers(measure_ids: Iterable[int], today: date | None = None) -> dict[int, Ledger]:
    """The ledger of each TIG measure, in two queries whatever their number."""
    today = today or timezone.localdate()
    ids = list(measure_ids)
    done: dict[int, dict[str, Any]] = {
        row["placement__measure_id"]: dict(row)
        for row in TigSession.objects.filter(placement__measure_id__in=ids, outcome=TigOutcome.DONE)
        .values("placement__measure_id")
        .annotate(minutes=Sum("minutes"), first=Min("on"))
    }
    open_posts = dict(
        TigPlacement.objects.filter(measure_id__in=ids, ends_on__isnull=True)
        .order_by("starts_on")
        .values_list("measure_id", "post__weekly_hours")
    )
    result = {}
    for m in Measure.objects.filter(pk__in=ids, tig_hours__isnull=False).values(
        "id", "tig_hours", "tig_deadline"
    ):
        row = done.get(m["id"], {})
        ordered, minutes = (m["tig_hours"] or 0) * 60, row.get("minutes") or 0
        projected, weekly = project(
            ordered_minutes=ordered,
            done_minutes=minutes,
            first_done_on=row.get("first"),
            post_weekly_hours=open_posts.get(m["id"]),
            today=today,
        )
        result[m["id"]] = Ledger(ordered, minutes, m["tig_deadline"], projected, weekly)
    return result


def ledger(measure: Measure, today: date | None = None) -> Ledger | None:
    return ledgers([measure.pk], today).get(measure.pk)


# --- Writes -------------------------------------------------------------------------------


def _actor_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _hosts(actor, post: TigPost) -> bool:
    scope = scope_for(actor)
    return scope.role == Role.PARTNER and scope.partner_id == post.partner_id


def _follows(actor, measure: Measure) -> bool:
    scope = scope_for(actor)
    return (
        scope.records_interviews
        and Measure.objects.visible_to(actor).filter(pk=measure.pk).exists()
    )


@transaction.atomic
def tig_place(*, actor, measure: Measure, post: TigPost, starts_on: date) -> TigPlacement:
    """Place a TIG measure on a post: an open TIG measure, an open post with a place
    left, from a date within the measure's deadline, never overlapping another placement
    of the same person."""
    measure = Measure.objects.select_for_update().select_related("case").get(pk=measure.pk)
    if not _follows(actor, measure):
        raise PermissionDenied
    post = TigPost.objects.select_for_update().get(pk=post.pk)
    errors: dict[str, str] = {}
    if measure.tig_hours is None:
        errors["measure"] = _("Cette mesure n'est pas un travail d'intérêt général.")
    elif measure.actual_end_date is not None:
        errors["measure"] = _("Cette mesure est terminée.")
    if not post.active:
        errors["post"] = _("Ce poste n'est plus ouvert.")
    elif post.placements.filter(ends_on__isnull=True).count() >= post.places:
        errors["post"] = _("Ce poste est complet (%(n)s place(s) occupée(s)).") % {"n": post.places}
    if starts_on < measure.judgment_date:
        errors["starts_on"] = _("Le placement doit commencer après le jugement.")
    elif measure.tig_deadline and starts_on > measure.tig_deadline:
        errors["starts_on"] = _(
            "Le placement doit commencer avant la date limite d'exécution (%(day)s)."
        ) % {"day": f"{measure.tig_deadline:%d/%m/%Y}"}
    overlapping = TigPlacement.objects.filter(
        measure__case__person_id=measure.case.person_id,
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    if overlapping.exists():
        errors["starts_on"] = _(
            "Cette personne a déjà un placement en cours à cette date : terminez-le d'abord."
        )
    if errors:
        raise ValidationError(errors)
    placement = TigPlacement.objects.create(
        measure=measure, post=post, starts_on=starts_on, created_by=_actor_or_none(actor)
    )
    audit_write(
        actor=actor,
        action=AuditAction.CREATE,
        obj=placement,
        object_repr=str(measure.case),
        service_id=measure.case.service_id,
        changes={"post": post.title, "starts_on": starts_on.isoformat()},
    )
    return placement


@transaction.atomic
def tig_placement_end(*, actor, placement: TigPlacement, on: date) -> TigPlacement:
    placement = (
        TigPlacement.objects.select_for_update()
        .select_related("measure__case", "post")
        .get(pk=placement.pk)
    )
    if not (_follows(actor, placement.measure) or _hosts(actor, placement.post)):
        raise PermissionDenied
    if placement.ends_on is not None:
        raise ValidationError(_("Ce placement est déjà terminé."))
    last = placement.sessions.order_by("-on").values_list("on", flat=True).first()
    if on < placement.starts_on or (last and on < last):
        raise ValidationError(
            {"on": _("La fin du placement doit suivre son début et la dernière séance.")}
        )
    if on > timezone.localdate():
        raise ValidationError({"on": _("La fin ne peut pas être dans le futur.")})
    placement.ends_on = on
    placement.save(update_fields=["ends_on"])
    audit_write(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=placement,
        object_repr=str(placement.measure.case),
        service_id=placement.measure.case.service_id,
        changes={"ends_on": [None, on.isoformat()]},
    )
    return placement


def _minutes(starts_at: time, ends_at: time) -> int:
    day = date(2000, 1, 1)
    return int((datetime.combine(day, ends_at) - datetime.combine(day, starts_at)).seconds // 60)


@dataclass(frozen=True)
class SessionInput:
    placement: TigPlacement
    outcome: str
    behaviour: str = ""
    work_quality: str = ""
    note: str = ""


@transaction.atomic
def tig_sessions_record(
    *, actor, on: date, starts_at: time, ends_at: time, rows: list[SessionInput]
) -> list[tuple[TigSession, bool]]:
    """Record sessions held at the same time (one person, or a group on one post): all
    or none. Each returns (session, created): sending the same session again changes
    nothing; a different one at the same start is refused."""
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}

    def refuse(field, message):
        errors.setdefault(field, []).append(message)

    if not rows:
        refuse("rows", _("Choisissez au moins une personne."))
    if on > today:
        refuse("on", _("Une séance ne peut pas être dans le futur."))
    if ends_at <= starts_at:
        refuse("ends_at", _("La fin de la séance doit suivre son début."))
    if errors:
        raise ValidationError(errors)
    minutes_held = _minutes(starts_at, ends_at)
    results = []
    absences = []
    for row in rows:
        placement = (
            TigPlacement.objects.select_related("measure__case__person", "post")
            .filter(pk=row.placement.pk)
            .first()
        )
        if placement is None:
            raise PermissionDenied
        if not (_hosts(actor, placement.post) or _follows(actor, placement.measure)):
            raise PermissionDenied
        measure = Measure.objects.select_for_update().get(pk=placement.measure_id)
        who = str(placement.measure.case.person)
        if on < placement.starts_on or (placement.ends_on and on > placement.ends_on):
            refuse("on", _("%(who)s : la séance est hors des dates du placement.") % {"who": who})
            continue
        if row.outcome not in TigOutcome.values:
            refuse("outcome", _("%(who)s : issue inconnue.") % {"who": who})
            continue
        credited = minutes_held if row.outcome == TigOutcome.DONE else 0
        fields = {
            "ends_at": ends_at,
            "outcome": row.outcome,
            "behaviour": row.behaviour,
            "work_quality": row.work_quality,
            "note": row.note.strip(),
        }
        same = placement.sessions.filter(on=on, starts_at=starts_at).first()
        if same is not None:
            if all(getattr(same, k) == v for k, v in fields.items()):
                results.append((same, False))  # sent twice: already there
                continue
            refuse(
                "starts_at",
                _("%(who)s : une autre séance est déjà enregistrée ce jour à cette heure.")
                % {"who": who},
            )
            continue
        if placement.sessions.filter(on=on, starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
            refuse(
                "starts_at",
                _("%(who)s : cette séance chevauche une séance déjà enregistrée.") % {"who": who},
            )
            continue
        done = (
            TigSession.objects.filter(placement__measure_id=measure.pk).aggregate(
                total=Sum("minutes")
            )["total"]
            or 0
        )
        ordered = (measure.tig_hours or 0) * 60
        if done + credited > ordered:
            refuse(
                "ends_at",
                _("%(who)s : ces heures dépassent le total prononcé (reste %(left)s).")
                % {"who": who, "left": hours_label(max(ordered - done, 0))},
            )
            continue
        session = TigSession.objects.create(
            placement=placement, on=on, starts_at=starts_at, minutes=credited,
            created_by=_actor_or_none(actor), **fields,
        )  # fmt: skip
        measure.tig_hours_done = (done + credited) // 60
        measure.save(update_fields=["tig_hours_done"])
        audit_write(
            actor=actor,
            action=AuditAction.CREATE,
            obj=session,
            object_repr=who,
            service_id=placement.measure.case.service_id,
            changes={"outcome": row.outcome, "minutes": credited},
        )
        if row.outcome == TigOutcome.UNEXCUSED:
            absences.append(session.pk)
        results.append((session, True))
    if errors:
        raise ValidationError(errors)
    if absences:
        transaction.on_commit(
            lambda: tig_absence_recorded.send(sender=TigSession, session_ids=absences)
        )
    return results


def open_placements_on(post: TigPost, day: date):
    """Who is placed on the post that day (the group session's list)."""
    return (
        post.placements.filter(starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("measure__case__person")
        .order_by("measure__case__person__birth_name")
    )


def posts_with_occupancy(queryset):
    return queryset.annotate(
        occupied=Count("placements", filter=Q(placements__ends_on__isnull=True))
    )


def attach_tig(user, measures: list[Measure]) -> None:
    """Give each TIG measure of a case file its ledger (``ledger``, ``hours``) and its
    current placement (``tig_placement``): three queries for the whole file."""
    tig_measures = [m for m in measures if m.tig_hours is not None]
    if not tig_measures:
        return
    books = ledgers([m.pk for m in tig_measures])
    placements: dict[int, TigPlacement] = {}
    for p in (
        TigPlacement.objects.visible_to(user)
        .filter(measure__in=tig_measures)
        .select_related("post__partner")
        .order_by("starts_on", "id")
    ):
        placements[p.measure_id] = p  # the latest wins
    for m in tig_measures:
        book = books.get(m.pk)
        setattr(m, "ledger", book)  # noqa: B010 (page attributes, not model fields)
        setattr(m, "tig_placement", placements.get(m.pk))  # noqa: B010
        if book is not None:
            hours = {
                "done": hours_label(book.done_minutes),
                "remaining": hours_label(book.remaining_minutes),
            }
            setattr(m, "hours", hours)  # noqa: B010
