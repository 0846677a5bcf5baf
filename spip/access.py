"""Who sees what: the one place that decides.

Every model that reaches a user has a ``visible_to(user)`` queryset method, and each
of those calls one function here. Views, API viewsets, exports, search and the admin
use ``visible_to``; nothing else filters by role.

Rules (DOMAIN.md §1 and §9, need-to-know):

- CPIP: their own caseload, plus read access to the cases of their antenna.
- DPIP, secretary, psychologist: their antenna (their service if they have no antenna).
- DSPIP, electronic-monitoring officer: their service.
- Court clerks (BEX, SAP): the persons, cases, measures and convocations they recorded;
  anyone else known to the court's services only through the identity search (identity
  fields, at most ten, audited); never interview notes.
- DISP, DAP: aggregates only, no personal data (their services / the nation).
- Partner staff: only referrals addressed to their body.
- Administrator (and Django superusers): everything.

Indicators (``counted_for(user)``) count a population wider than what a user may read row
by row: a DISP's figures cover every case of their region although they read none of them.
``statistics_q`` decides that population; what leaves it is numbers, never rows.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from spip.choices import Role


def _model(label: str):
    """A model of an app above this one, by name. The scoping rules filter on cases and
    measures with subqueries, yet the base layer imports no upper app: this lookup, done
    at call time through Django's registry, is the one documented exception to the layer
    contract (ARCHITECTURE.md)."""
    return apps.get_model(label)


class ScopedQuerySet(models.QuerySet):
    """Every model's ``visible_to(user)``: the rows its scoping rule below lets the user
    see, reached through ``path`` when the rule is about a related model."""

    rule: ClassVar[Callable[..., Q]]
    path: ClassVar[str | None] = None
    distinct_rows: ClassVar[bool] = False

    def visible_to(self, user):
        q = type(self).rule(user) if self.path is None else type(self).rule(user, self.path)
        rows = self.filter(q)
        return rows.distinct() if self.distinct_rows else rows


NOTHING = Q(pk__in=[])
EVERYTHING = Q()

ANTENNA_ROLES = {Role.DPIP, Role.SECRETARY, Role.PSYCHOLOGIST}
SERVICE_ROLES = {Role.DSPIP, Role.EM_OFFICER}
SPIP_ROLES = {Role.CPIP} | ANTENNA_ROLES | SERVICE_ROLES
AGGREGATE_ROLES = {Role.DISP, Role.DAP}
COURT_ROLES = {Role.BEX_CLERK, Role.SAP_CLERK}


@dataclass(frozen=True)
class Scope:
    """What one user is, resolved once per request and cached on the user object."""

    user_id: int | None
    role: str | None = None
    is_admin: bool = False
    agent_id: int | None = None
    service_id: int | None = None
    antenna_id: int | None = None
    interregional_unit_id: int | None = None
    court_id: int | None = None
    partner_id: int | None = None
    court_service_ids: tuple[int, ...] = field(default_factory=tuple)
    time_zone: str | None = None
    covered_agent_ids: tuple[int, ...] = field(default_factory=tuple)

    @property
    def sees_personal_data(self) -> bool:
        return self.is_admin or self.role in SPIP_ROLES or self.role in COURT_ROLES

    @property
    def sees_interview_notes(self) -> bool:
        return self.is_admin or self.role in SPIP_ROLES

    @property
    def sees_audit(self) -> bool:
        return self.is_admin or self.role == Role.DSPIP

    @property
    def allocates(self) -> bool:
        """Heads of antenna and directors allocate arrivals (within what they see)."""
        return self.is_admin or self.role in (Role.DPIP, Role.DSPIP)

    @property
    def reads_reports(self) -> bool:
        """Dashboards and indicators: heads of antenna and service, DISP, DAP."""
        return self.is_admin or self.role in (Role.DPIP, Role.DSPIP, Role.DISP, Role.DAP)

    @property
    def sees_agents_by_name(self) -> bool:
        """Per-agent figures name a colleague: they stay within the service."""
        return self.is_admin or self.role in (Role.DPIP, Role.DSPIP)

    @property
    def records_interviews(self) -> bool:
        return self.is_admin or self.role in (Role.CPIP, Role.DPIP, Role.PSYCHOLOGIST)


def scope_for(user) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(user_id=None)
    cached = getattr(user, "_spip_scope", None)
    if cached is not None:
        return cached
    from spip.models import Agent  # cycle: the models' visible_to methods call this module

    agent = (
        Agent.objects.filter(user_id=user.pk).select_related("service", "antenna", "court").first()
    )
    user._spip_agent = agent
    if agent is None:
        scope = Scope(user_id=user.pk, is_admin=user.is_superuser)
    else:
        court_services: tuple[int, ...] = ()
        if agent.court_id:
            court_services = tuple(
                agent.court.services.values_list("id", flat=True)  # type: ignore[union-attr]
            )
        scope = Scope(
            user_id=user.pk,
            role=agent.role,
            is_admin=user.is_superuser or agent.role == Role.ADMIN,
            agent_id=agent.pk,
            service_id=agent.service_id,
            antenna_id=agent.antenna_id,
            interregional_unit_id=agent.interregional_unit_id,
            court_id=agent.court_id,
            partner_id=agent.partner_id,
            court_service_ids=court_services,
            time_zone=agent.service.time_zone if agent.service else None,
            # A literal list rather than a subquery: the caseload's OR of indexed columns
            # then stays an index scan on PostgreSQL.
            covered_agent_ids=tuple(covered_agents(agent.pk)) if agent.role == Role.CPIP else (),
        )
    user._spip_scope = scope
    return scope


def agent_of(user):
    """The user's agent record (service, antenna and court joined), read with the scope:
    no second query for a page that needs both."""
    scope_for(user)
    return getattr(user, "_spip_agent", None)


def _q(prefix: str, **lookups) -> Q:
    return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})


# --- Reference data -------------------------------------------------------------------


def admins_read_all(rule: Callable[..., Q]) -> Callable[..., Q]:
    """Administrators read everything a rule scopes; the rule itself speaks of the others."""

    @functools.wraps(rule)
    def scoped(user, *args, **kwargs) -> Q:
        if scope_for(user).is_admin:
            return EVERYTHING
        return rule(user, *args, **kwargs)

    return scoped


def reference_q(user) -> Q:
    """Reference catalogues and settings (measure types, policies): every signed-in user."""
    return EVERYTHING if user is not None and user.is_authenticated else NOTHING


# --- Organisation ------------------------------------------------------------------


def service_q(user, prefix: str = "") -> Q:
    """Services (or rows hanging off a service, through ``prefix``) the user may see."""
    s = scope_for(user)
    if s.is_admin or s.role == Role.DAP:
        return EVERYTHING
    if s.role == Role.DISP:
        return _q(prefix, interregional_unit_id=s.interregional_unit_id)
    if s.role in COURT_ROLES:
        return _q(prefix, id__in=s.court_service_ids)
    if s.role in SPIP_ROLES and s.service_id:
        return _q(prefix, id=s.service_id)
    return NOTHING


def interregional_q(user) -> Q:
    s = scope_for(user)
    if s.is_admin or s.role == Role.DAP:
        return EVERYTHING
    if s.role == Role.DISP:
        return Q(id=s.interregional_unit_id)
    if s.role in SPIP_ROLES or s.role in COURT_ROLES:
        from spip.models import Service  # cycle: as above

        return Q(id__in=Service.objects.filter(service_q(user)).values("interregional_unit_id"))
    return NOTHING


def court_q(user) -> Q:
    s = scope_for(user)
    if s.is_admin or s.role == Role.DAP:
        return EVERYTHING
    if s.role in COURT_ROLES:
        return Q(id=s.court_id)
    if s.role == Role.DISP:
        return Q(services__interregional_unit_id=s.interregional_unit_id)
    if s.role in SPIP_ROLES:
        return Q(services__id=s.service_id)
    return NOTHING


@admins_read_all
def agent_q(user, prefix: str = "") -> Q:
    """Agents: the colleagues of one's service. Above the service (DISP, DAP) figures are
    anonymous: no agent row but one's own."""
    s = scope_for(user)
    if s.role in SPIP_ROLES:
        return _q(prefix, service_id=s.service_id)
    if s.user_id:
        return _q(prefix, user_id=s.user_id)
    return NOTHING


@admins_read_all
def snapshot_q(user) -> Q:
    """Workload snapshots. Agent rows name a person (an agent), so they stay within the
    service; DISP and DAP read the antenna, service, regional and national rows."""
    s = scope_for(user)
    if s.role == Role.DAP:
        return ~Q(entity_type="agent")
    if s.role == Role.DISP:
        return Q(interregional_unit_id=s.interregional_unit_id) & ~Q(entity_type="agent") | Q(
            entity_type="nation"
        )
    if s.role == Role.CPIP:
        return Q(agent_id=s.agent_id) | Q(antenna_id=s.antenna_id, entity_type="antenna")
    if s.role in ANTENNA_ROLES and s.antenna_id:
        return Q(antenna_id=s.antenna_id) | Q(service_id=s.service_id, entity_type="service")
    if s.role in SPIP_ROLES:
        return Q(service_id=s.service_id)
    return NOTHING


@admins_read_all
def delays_snapshot_q(user) -> Q:
    """The stored twelve-month delays (figures only): the DAP reads the nation's and every
    region's, a DISP their region's."""
    s = scope_for(user)
    if s.role == Role.DAP:
        return EVERYTHING
    if s.role == Role.DISP and s.interregional_unit_id:
        return Q(interregional_unit_id=s.interregional_unit_id)
    return NOTHING


def _report_bounds(s: Scope) -> Q | None:
    """Where every indicator's scope starts: nothing without the right to read reports,
    everything for administrators and the DAP; None: the rule goes on."""
    if not s.reads_reports:
        return NOTHING
    if s.is_admin or s.role == Role.DAP:
        return EVERYTHING
    return None


def statistics_q(user, prefix: str = "") -> Q:
    """The cases an indicator counts for the user (``prefix`` reaches the case). Numbers
    only: DPIP their antenna, DSPIP their service, DISP their region, DAP the nation."""
    s = scope_for(user)
    if (bounds := _report_bounds(s)) is not None:
        return bounds
    if s.role == Role.DISP:
        return _q(prefix, service__interregional_unit_id=s.interregional_unit_id)
    if s.role == Role.DPIP and s.antenna_id:
        return _q(prefix, antenna_id=s.antenna_id)
    if s.service_id:
        return _q(prefix, service_id=s.service_id)
    return NOTHING


def snapshot_statistics_q(user) -> Q:
    """Snapshot rows an indicator may fold into numbers (agent rows included, for the
    distribution of persons per CPIP); their labels reach only ``snapshot_q`` readers."""
    s = scope_for(user)
    if (bounds := _report_bounds(s)) is not None:
        return bounds
    if s.role == Role.DISP:
        return Q(interregional_unit_id=s.interregional_unit_id)
    if s.role == Role.DPIP and s.antenna_id:
        return Q(antenna_id=s.antenna_id) | Q(service_id=s.service_id, entity_type="service")
    if s.service_id:
        return Q(service_id=s.service_id)
    return NOTHING


@admins_read_all
def agenda_q(user, prefix: str = "") -> Q:
    """Agendas (and their slots): the SPIP's of the visible services, the SAP's of the court."""
    s = scope_for(user)
    q = NOTHING
    if s.role in SPIP_ROLES or s.role == Role.BEX_CLERK:
        q = service_q(user, f"{prefix}antenna__service__")
    if s.role in COURT_ROLES:
        q |= _q(prefix, court_id=s.court_id)
    return q


@admins_read_all
def job_run_q(user) -> Q:
    """Job runs: administrators see all; a director follows the runs of their service and
    the national runs (counts only, no personal data)."""
    s = scope_for(user)
    own = Q(requested_by_id=s.user_id) if s.user_id else NOTHING
    if s.allocates and s.service_id:
        return Q(service_id=s.service_id) | Q(service__isnull=True, requested_by__isnull=True) | own
    return own


@admins_read_all
def audit_q(user) -> Q:
    """The audit journal: administrators read it all, a DSPIP the rows of their service
    (who read or changed what in it); nobody else."""
    s = scope_for(user)
    if s.role == Role.DSPIP and s.service_id:
        return Q(service_id=s.service_id)
    return NOTHING


# --- Personal data -------------------------------------------------------------------


@admins_read_all
def case_q(user, prefix: str = "") -> Q:
    """Case files the user may read. ``prefix`` reaches the case from a related model.

    A case handed over by an accepted transfer stays its sending service's (what happened
    while it held it) and is read, whole, by whoever reads the case it became.

    Built once per user object and prefix (a page asks a dozen times), like the scope it
    derives from: the user object lives for one request."""
    memo = user.__dict__.setdefault("_spip_case_q", {})
    if prefix not in memo:
        narrowed = user.__dict__.get("_spip_case_ids")
        memo[prefix] = _case_q(user, prefix) if narrowed is None else _q(prefix, id__in=narrowed)
    return memo[prefix]


@contextlib.contextmanager
def reading_person(user, person_id: int) -> Iterator[list[int]]:
    """A page about one person (the case file): within the block, the files the rule
    lets the user read are those of this person it lets them read, fetched once here
    through the rule itself, and every rule built on ``case_q`` filters on that list of
    ids. The same rows for anything about this person (rules with other branches, a
    transfer's services, keep them), never more than the rule gives: a case file reads a
    dozen models of the person's files, and each would otherwise plan the rule's union
    again (about 1.4 ms of PostgreSQL's time each). Yields the ids; blocks may nest."""
    Case = _model("cases.Case")
    saved_q = user.__dict__.pop("_spip_case_q", None)
    saved_ids = user.__dict__.pop("_spip_case_ids", None)
    try:
        # The whole rule (no narrowing of an enclosing block), then this person.
        ids = list(
            Case.objects.visible_to(user).filter(person_id=person_id).values_list("id", flat=True)
        )
        user.__dict__["_spip_case_ids"] = ids
        user.__dict__["_spip_case_q"] = {}
        yield ids
    finally:
        user.__dict__.pop("_spip_case_ids", None)
        if saved_ids is not None:
            user.__dict__["_spip_case_ids"] = saved_ids
        user.__dict__["_spip_case_q"] = saved_q if saved_q is not None else {}


def _case_q(user, prefix: str) -> Q:
    s = scope_for(user)
    if s.role not in SPIP_ROLES:
        return _held_case_q(user, prefix) & _not_archived(s, prefix)
    # The files held, and those read through a transfer (a sending file read so stays
    # readable once archived), as one list of ids: ``id IN (held UNION ALL received)``.
    # The same rows as the OR of the two, but PostgreSQL plans each half on its indexes,
    # where the OR made it scan (a service's files: 16 ms → 5 ms at 250,000 files). Even
    # with the files received listed by id, the OR of the row's own columns is planned as
    # a parallel scan of the whole table (a CPIP's page of the cases API: 18 → 43 ms).
    Case, Transfer = _model("cases.Case"), _model("cases.Transfer")
    held = Case.objects.filter(_held_case_q(user) & _not_archived(s, "")).order_by().values("id")
    received = (
        Transfer.objects.filter(
            status="accepted", new_case__in=Case.objects.filter(_held_case_q(user))
        )
        .order_by()
        .values("case_id")
    )
    union = held.union(received, all=True)
    return _q(prefix, id__in=_compiled(user, "_spip_case_union", union))


def _compiled(user, key: str, ids: models.QuerySet) -> RawSQL:
    """``ids`` (a query of ids) compiled to SQL once per user object, that is once per
    request: a case file asks a dozen models for the rows of the files the user reads,
    and each would otherwise compile the same union again (a third of the page's CPU
    went to compiling queries). The SQL and its bound values are Django's own."""
    memo = user.__dict__
    if key not in memo:
        sql, params = ids.query.get_compiler(using=ids.db).as_sql()
        memo[key] = RawSQL(sql, params)  # noqa: S611 - compiled by Django, values bound
    return memo[key]


def _not_archived(s: Scope, prefix: str) -> Q:
    """An archived file (retention: closed and inactive) is out of every list and page;
    only its service's director still reads it (an access request, a court's question)."""
    if s.role == Role.DSPIP:
        return EVERYTHING
    return ~_q(prefix, status="archived")


def tombstone_q(user) -> Q:
    """Traces of destroyed files (no personal data): a director's service, administrators."""
    s = scope_for(user)
    if s.is_admin:
        return EVERYTHING
    if s.role == Role.DSPIP and s.service_id:
        return Q(service_id=s.service_id)
    return NOTHING


def caseload_import_q(user) -> Q:
    """Caseload imports (their files hold personal data): administrators, who import for
    any service, and a service's director, who imports for theirs."""
    s = scope_for(user)
    if s.is_admin:
        return EVERYTHING
    if s.role == Role.DSPIP and s.service_id:
        return Q(service_id=s.service_id)
    return NOTHING


def _held_case_q(user, prefix: str = "") -> Q:
    s = scope_for(user)
    if s.role == Role.CPIP:
        return (
            _q(prefix, referent_id=s.agent_id)
            | _q(prefix, antenna_id=s.antenna_id or -1)
            | _q(prefix, referent_id__in=s.covered_agent_ids)
        )
    if s.role in ANTENNA_ROLES:
        if s.antenna_id:
            return _q(prefix, antenna_id=s.antenna_id)
        return _q(prefix, service_id=s.service_id)
    if s.role in SERVICE_ROLES:
        return _q(prefix, service_id=s.service_id)
    if s.role in COURT_ROLES:
        # Court clerks search, they do not browse: the files they opened themselves,
        # nothing else (a person already known is found through ``person_search_q``).
        return _q(prefix, created_by_id=s.user_id)
    return NOTHING


def covered_agents(agent_id):
    """Agents whose cases ``agent_id`` covers today (absence cover)."""

    return (
        _model("cases.Cover")
        .objects.active_on(timezone.localdate())
        .filter(covering_agent_id=agent_id)
        .values_list("absent_agent_id", flat=True)
    )


@admins_read_all
def person_q(user) -> Q:
    """Persons whose identity and contact details the user may read: those of the files
    they may read; a BEX clerk, the persons they recorded. Anyone else known to the
    court's services is only found through ``person_search_q`` (identity only)."""
    s = scope_for(user)
    if not s.sees_personal_data:
        return NOTHING
    q = Q(id__in=_model("cases.Case").objects.filter(case_q(user)).values("person_id"))
    if s.role in COURT_ROLES:
        q |= Q(created_by_id=s.user_id)
    return q


def person_merge_q(user) -> Q:
    """Merges: directors (and administrators) see those of persons they read."""
    s = scope_for(user)
    if not s.allocates:
        return NOTHING
    if s.is_admin:
        return EVERYTHING
    Person = _model("cases.Person")
    return Q(kept__in=Person.objects.filter(person_q(user)))


def person_search_q(user) -> Q:
    """Persons a user may *find* through the minimal identity search. For a court clerk:
    anyone known to the services the court sends to (to recognise the person at the
    hearing), never listed, only matched by name and birth date or first name."""
    s = scope_for(user)
    if s.role in COURT_ROLES:
        Case = _model("cases.Case")
        return Q(created_by_id=s.user_id) | Q(
            id__in=Case.objects.filter(service_id__in=s.court_service_ids).values("person_id")
        )
    return person_q(user)


def browses_persons(user) -> bool:
    """Court clerks search, they do not browse: lists of persons are closed to them."""
    return scope_for(user).role not in COURT_ROLES


def measure_q(user, prefix: str = "") -> Q:
    return case_q(user, f"{prefix}case__")


def case_activity_q(user, prefix: str = "") -> Q:
    """Convocations, assessments, incidents, transfers, alerts: follow the case."""
    return case_q(user, f"{prefix}case__")


def convocation_q(user) -> Q:
    s = scope_for(user)
    if s.role in COURT_ROLES:
        return Q(issued_by_id=s.user_id)
    return case_activity_q(user)


def interview_q(user) -> Q:
    """Interview notes: SPIP staff of the case only; never the court, partners or DISP/DAP."""
    s = scope_for(user)
    if not s.sees_interview_notes:
        return NOTHING
    return case_activity_q(user)


def transfer_q(user, prefix: str = "") -> Q:
    """Transfers: those of the cases the user reads; and, for the receiving service's
    directors and heads of antenna, those addressed to it (to answer them)."""
    s = scope_for(user)
    if s.allocates and s.service_id:
        return case_activity_q(user, prefix) | _q(prefix, to_service_id=s.service_id)
    return case_activity_q(user, prefix)


def release_q(user, prefix: str = "") -> Q:
    """Release plans: those of the cases the user reads; and, for the home service's
    directors and heads of antenna, those coming to it (to expect the arrival)."""
    s = scope_for(user)
    if s.allocates and s.service_id:
        return case_activity_q(user, prefix) | _q(prefix, home_service_id=s.service_id)
    return case_activity_q(user, prefix)


def referral_q(user, prefix: str = "") -> Q:
    """Referrals: partner staff, those addressed to their body (and nothing else of the
    case); SPIP staff, those of the cases they read; never the court."""
    s = scope_for(user)
    if s.role == Role.PARTNER:
        return _q(prefix, partner_id=s.partner_id) if s.partner_id else NOTHING
    if s.role in COURT_ROLES:
        return NOTHING
    return case_activity_q(user, prefix)


def partner_q(user, prefix: str = "") -> Q:
    """Partner bodies are a public directory for agents; partner staff see their own body."""
    s = scope_for(user)
    if s.is_admin or s.role in SPIP_ROLES or s.role in AGGREGATE_ROLES or s.role in COURT_ROLES:
        return EVERYTHING
    if s.role == Role.PARTNER and s.partner_id:
        return _q(prefix, id=s.partner_id)
    return NOTHING


def tig_placement_q(user, prefix: str = "") -> Q:
    """TIG placements and sessions: the host's staff, those on their posts (the person's
    name and the hours, nothing else of the file); SPIP staff, those of the cases they
    read; never the court."""
    s = scope_for(user)
    if s.role == Role.PARTNER:
        return _q(prefix, post__partner_id=s.partner_id) if s.partner_id else NOTHING
    if s.role in COURT_ROLES:
        return NOTHING
    return case_q(user, f"{prefix}measure__case__")


def presentencing_q(user, prefix: str = "") -> Q:
    """Pre-sentencing mandates: the association's own; SPIP staff, those handed over to a
    case they read (before that, only the proposal on a case they read names one)."""
    s = scope_for(user)
    if s.role == Role.PARTNER:
        return _q(prefix, partner_id=s.partner_id) if s.partner_id else NOTHING
    if s.role in COURT_ROLES:
        return NOTHING
    return case_q(user, f"{prefix}case__")
