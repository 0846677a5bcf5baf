"""Importing a service's caseload from the national application's export.

One path decides what each row means, for the dry run and for the import alike:
``_Run.plan`` reads the database (never writes) and says, per person found in the file,
which person, file, measures and appointment it creates, finds or updates; ``_Run.apply``
writes that plan, batch by batch, each batch in one transaction with its audit rows
("import"), so a batch that fails leaves nothing behind and says so.

Matching (the duplicates rules of ``cases.files.merges``):
- a person by national number, else by the same birth date, the same first first name
  and a name in common (birth or usage name, accents and case folded);
- their file: the open file of that person in the service;
- a measure: the same type and judgment date within that file;
- the next appointment: a booked convocation of the file at the same time.
Re-importing a file changes nothing; a newer export updates what changed and adds what
is new, never a second person or a second open file.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.agenda.services import notifications_plan_many
from cases.alerts.services import alerts_follow_owner
from cases.choices import (
    OPEN_STATUSES,
    Attendance,
    CaseSetting,
    CaseStatus,
    ConvocationType,
    InterviewKind,
    IssuedFrom,
)
from cases.files.contacts import first_contact_refresh
from cases.files.merges import same_person_rule
from cases.files.services import birth_date_check, person_key
from cases.imports.models import CaseloadImport, ImportStatus
from cases.imports.reading import Row, RowError, read
from cases.models import Case, Convocation, Interview, Person
from measures.choices import FollowedBy, Setting
from measures.models import ImposedObligation, Measure, MeasureType, ObligationType
from measures.services import measure_terms_check
from spip.access import scope_for
from spip.audit import audit_many, snapshot
from spip.choices import AuditAction, Role
from spip.models import Agent, Antenna, Court, Service
from spip.normalize import search_key

logger = logging.getLogger(__name__)

# Persons per transaction: large enough for set-based writes, small enough that a
# failed batch costs little to fix and replay.
BATCH_PERSONS = 500

PERSON_COLUMNS = (
    "numero_national",
    "nom_naissance",
    "nom_usage",
    "prenoms",
    "sexe",
    "date_naissance",
    "lieu_naissance",
    "adresse",
    "code_postal",
    "commune",
    "telephone",
    "courriel",
)
CASE_COLUMNS = ("service", "antenne", "referent", "date_ouverture", "dernier_entretien")
# Columns of the file -> fields of a person, in the order a form shows them.
PERSON_FIELDS = {
    "nom_naissance": "birth_name",
    "nom_usage": "usage_name",
    "prenoms": "first_names",
    "sexe": "sex",
    "date_naissance": "birth_date",
    "lieu_naissance": "birth_place",
    "adresse": "address",
    "code_postal": "postal_code",
    "commune": "commune",
    "telephone": "phone",
    "courriel": "email",
    "numero_national": "national_number",
}
# What a newer export may change on a person already known (never their identity).
PERSON_UPDATABLE = (
    "usage_name",
    "birth_place",
    "address",
    "postal_code",
    "commune",
    "phone",
    "email",
    "national_number",
)
MEASURE_FIELDS = {
    "reference_jugement": "judgment_reference",
    "execution_provisoire": "provisionally_enforceable",
    "date_debut": "start_date",
    "date_fin_prevue": "planned_end_date",
    "date_fin": "actual_end_date",
    "motif_fin": "end_reason",
    "heures_tig": "tig_hours",
    "delai_tig": "tig_deadline",
}

OUTCOMES = ("new", "updated", "matched", "rejected")


# --- Reference data: what a row's codes and names are checked against -----------------


@dataclass
class Reference:
    service: Service
    zone: ZoneInfo
    today: date
    antennas: dict[str, Antenna]
    agents_by_name: dict[str, list[Agent]]
    agents_by_number: dict[str, Agent]
    courts: dict[str, Court]
    measure_types: dict[str, list[MeasureType]]
    obligation_types: dict[str, ObligationType]

    @classmethod
    def of(cls, service: Service) -> Reference:
        today = timezone.localdate(timezone=ZoneInfo(service.time_zone))
        agents_by_name: dict[str, list[Agent]] = defaultdict(list)
        agents_by_number = {}
        cpips = (
            Agent.objects.filter(service=service, role=Role.CPIP)
            .active(on=today)
            .select_related("user", "antenna")
        )
        for agent in cpips:
            last, first = agent.user.last_name, agent.user.first_name
            for key in {search_key(last, first), search_key(first, last)}:
                agents_by_name[key].append(agent)
            if agent.registration_number:
                agents_by_number[agent.registration_number.upper()] = agent
        types: dict[str, list[MeasureType]] = defaultdict(list)
        for measure_type in MeasureType.objects.all():
            types[measure_type.code.upper()].append(measure_type)
            if measure_type.legacy_code:
                types[measure_type.legacy_code.upper()].append(measure_type)
        return cls(
            service=service,
            zone=ZoneInfo(service.time_zone),
            today=today,
            antennas={search_key(a.name): a for a in Antenna.objects.filter(service=service)},
            agents_by_name=agents_by_name,
            agents_by_number=agents_by_number,
            courts={search_key(c.name): c for c in Court.objects.all()},
            measure_types=types,
            obligation_types={o.code.upper(): o for o in ObligationType.objects.all()},
        )

    def measure_type(self, code: str, on: date) -> MeasureType | None:
        """The type a code names on a judgment date: its own code first, then a legacy
        code (SME names the probation sentence from 24 March 2020)."""
        candidates = [
            t
            for t in self.measure_types.get(code.upper(), [])
            if t.valid_from <= on and (t.valid_to is None or on <= t.valid_to)
        ]
        candidates.sort(key=lambda t: t.code.upper() != code.upper())
        return candidates[0] if candidates else None


# --- Checking rows against the reference ------------------------------------------------


def _check(row: Row, ref: Reference) -> None:
    """The row's meaning for the service, each problem a line of the report. Resolved
    objects go into ``row.values`` under keys starting with "_"."""
    v = row.values
    if v.get("service") and v["service"].upper() != ref.service.code.upper():
        row.refuse(
            "service",
            _("Ligne du service %(other)s : ce fichier est importé pour le service %(code)s.")
            % {"other": v["service"], "code": ref.service.code},
        )
    if v.get("date_naissance"):
        try:
            birth_date_check(v["date_naissance"], today=ref.today)
        except ValidationError as error:
            row.refuse("date_naissance", " ".join(error.messages))
    _check_referent(row, ref)
    _check_measure(row, ref)
    for column in ("date_ouverture", "date_jugement", "date_debut", "dernier_entretien"):
        if v.get(column) and v[column] > ref.today:
            row.refuse(column, _("Date dans le futur."))


def _check_referent(row: Row, ref: Reference) -> None:
    v = row.values
    referent = None
    if v.get("referent"):
        text = v["referent"]
        referent = ref.agents_by_number.get(text.upper())
        if referent is None:
            found = ref.agents_by_name.get(search_key(text), [])
            if len(found) > 1:
                row.refuse(
                    "referent",
                    _("Plusieurs CPIP du service portent ce nom : indiquez leur matricule."),
                )
                return
            referent = found[0] if found else None
        if referent is None:
            row.refuse(
                "referent",
                _(
                    "Aucun CPIP en poste dans le service ne porte ce nom ou ce matricule : "
                    "créez son compte ou laissez la colonne vide (dossier à attribuer)."
                ),
            )
            return
    antenna = None
    if v.get("antenne"):
        antenna = ref.antennas.get(search_key(v["antenne"]))
        if antenna is None:
            row.refuse("antenne", _("Antenne inconnue dans ce service."))
            return
        if referent is not None and referent.antenna_id not in (None, antenna.pk):
            row.refuse(
                "referent",
                _(
                    "Ce CPIP n'est pas de l'antenne « %(antenna)s » : un dossier est suivi "
                    "dans l'antenne de son référent."
                )
                % {"antenna": antenna.name},
            )
            return
    elif referent is not None and referent.antenna_id:
        antenna = referent.antenna
    elif len(ref.antennas) == 1:
        antenna = next(iter(ref.antennas.values()))
    else:
        row.refuse("antenne", _("Précisez l'antenne : le service en a plusieurs."))
        return
    v["_referent"], v["_antenna"] = referent, antenna


def _check_measure(row: Row, ref: Reference) -> None:
    v = row.values
    judgment = v.get("date_jugement")
    if v.get("code_mesure") and judgment:
        measure_type = ref.measure_type(v["code_mesure"], judgment)
        if measure_type is None:
            known = v["code_mesure"].upper() in ref.measure_types
            row.refuse(
                "code_mesure",
                _("Ce type de mesure n'était pas en vigueur à la date du jugement.")
                if known
                else _("Code de mesure inconnu (voir le référentiel des mesures)."),
            )
        elif measure_type.setting == Setting.CLOSED:
            row.refuse(
                "code_mesure",
                _("Suivi en milieu fermé : ce format n'importe que le milieu ouvert."),
            )
        else:
            v["_measure_type"] = measure_type
            try:
                measure_terms_check(
                    measure_type=measure_type,
                    judgment_date=judgment,
                    tig_hours=v.get("heures_tig"),
                    tig_deadline=v.get("delai_tig"),
                )
            except ValidationError as error:
                columns = {"tig_hours": "heures_tig", "tig_deadline": "delai_tig"}
                for name, messages in error.message_dict.items():
                    row.refuse(columns.get(name, "code_mesure"), " ".join(messages))
    if v.get("juridiction"):
        court = ref.courts.get(search_key(v["juridiction"]))
        if court is None:
            row.refuse("juridiction", _("Juridiction inconnue du référentiel."))
        v["_court"] = court
    obligations = []
    for code in v.get("obligations") or []:
        obligation = ref.obligation_types.get(code.upper())
        if obligation is None:
            row.refuse("obligations", _("Obligation inconnue : %(code)s.") % {"code": code})
        else:
            obligations.append(obligation)
    v["_obligations"] = obligations
    dates = {
        "judgment_date": judgment,
        "start_date": v.get("date_debut"),
        "planned_end_date": v.get("date_fin_prevue"),
        "actual_end_date": v.get("date_fin"),
        "end_reason": v.get("motif_fin"),
    }
    for column, reason in _date_problems(dates):
        row.refuse(column, reason)


def _date_problems(m: dict, *, stored: bool = False) -> list[tuple[str, str]]:
    """The measure table's date rules (its check constraints), in Python so that a line of
    the file is refused with its column instead of failing its batch. ``m``: the fields'
    values; ``stored``: some of them are those already recorded, and the message says so."""
    start, judgment = m["start_date"], m["judgment_date"]
    problems = []
    if start and judgment and start < judgment:
        problems.append(("date_debut", _("La mesure ne peut pas commencer avant le jugement.")))
    for column, name, plain, recorded in (
        (
            "date_fin_prevue",
            "planned_end_date",
            _("La fin prévue doit suivre le début."),
            _("La fin prévue doit suivre le début enregistré."),
        ),
        (
            "date_fin",
            "actual_end_date",
            _("La fin effective doit suivre le début."),
            _("La fin effective doit suivre le début enregistré."),
        ),
    ):
        if start and m[name] and m[name] < start:
            problems.append((column, recorded if stored else plain))
    if bool(m["actual_end_date"]) != bool(m["end_reason"]):
        problems.append(
            (
                "motif_fin" if m["actual_end_date"] else "date_fin",
                _("Une mesure terminée a une date de fin et un motif de fin, l'un avec l'autre."),
            )
        )
    return problems


# --- Grouping: one person, all their rows -----------------------------------------------


@dataclass
class Group:
    """The rows of one person in the file (one row per measure)."""

    rows: list[Row]
    national: str | None
    keys: set[tuple]
    # Found in the application by national number (not only by names and birth date).
    by_number: bool = False

    @property
    def first(self) -> Row:
        return self.rows[0]


def _name_keys(v: dict) -> set[tuple]:
    first = (search_key(v.get("prenoms") or "").split(" ") or [""])[0]
    names = {search_key(v.get("nom_naissance") or ""), search_key(v.get("nom_usage") or "")}
    return {(name, first, v.get("date_naissance")) for name in names if name}


def _group(rows: list[Row]) -> list[Group]:
    """Rows by person: the same national number, or (without one) the same birth date,
    first first name and a name in common. A person's rows must agree on the person and
    the file; the same measure twice is refused."""
    groups: list[Group] = []
    by_national: dict[str, Group] = {}
    by_key: dict[tuple, list[Group]] = defaultdict(list)
    for row in rows:
        if row.errors:
            continue
        v = row.values
        national = (v.get("numero_national") or "").upper() or None
        keys = _name_keys(v)
        group = by_national.get(national) if national else None
        if group is None:
            near = {id(g): g for k in keys for g in by_key.get(k, [])}
            candidates = [g for g in near.values() if not national or not g.national]
            if len(candidates) > 1:
                lines = ", ".join(str(g.first.line) for g in candidates)
                row.refuse(
                    "numero_national",
                    _(
                        "Plusieurs personnes du fichier correspondent (lignes %(lines)s) : "
                        "indiquez le n° national."
                    )
                    % {"lines": lines},
                )
                continue
            group = candidates[0] if candidates else None
        if group is None:
            group = Group(rows=[], national=national, keys=set())
            groups.append(group)
        elif not _agrees(row, group):
            continue
        group.rows.append(row)
        if national and not group.national:
            group.national = national
        if group.national:
            by_national[group.national] = group
        for key in keys - group.keys:
            by_key[key].append(group)
        group.keys |= keys
    return groups


def _agrees(row: Row, group: Group) -> bool:
    """Whether ``row`` says the same as its person's first row, and is not the same
    measure again; otherwise the row is refused."""
    first = group.first
    for column in (*PERSON_COLUMNS, *CASE_COLUMNS):
        mine, theirs = row.raw.get(column, ""), first.raw.get(column, "")
        if column == "numero_national" and not (mine and theirs):
            continue  # a number given on some of the person's rows only
        if mine != theirs:
            row.refuse(
                column,
                _(
                    "La même personne figure ligne %(line)s avec une autre valeur "
                    "(« %(other)s ») : une personne, une seule version de ses données."
                )
                % {"line": first.line, "other": theirs},
            )
            return False
    for other in group.rows:
        if (
            other.values.get("_measure_type") == row.values.get("_measure_type")
            and other.values["date_jugement"] == row.values["date_jugement"]
        ):
            row.refuse(
                "code_mesure",
                _("Même mesure, même date de jugement qu'à la ligne %(line)s.")
                % {"line": other.line},
            )
            return False
    return True


# --- Planning: what each person's rows create, find or update ---------------------------


@dataclass
class MeasurePlan:
    row: Row
    measure: Measure
    new: bool
    changes: dict
    obligations: list[ObligationType]
    convocation: Convocation | None = None
    # The row's next appointment is already in the agenda (counted as found).
    appointment_found: bool = False


@dataclass
class PersonPlan:
    group: Group
    person: Person
    person_new: bool
    person_changes: dict
    case: Case
    case_new: bool
    case_changes: dict
    measures: list[MeasurePlan] = field(default_factory=list)
    interview: Interview | None = None
    interview_found: bool = False

    def outcome(self, plan: MeasurePlan) -> str:
        if self.person_new or self.case_new or plan.new or plan.convocation is not None:
            return "new"
        first = plan.row is self.group.first
        if (
            plan.changes
            or plan.obligations
            or (first and (self.person_changes or self.case_changes or self.interview))
        ):
            return "updated"
        return "matched"


class _Run:
    """One pass over a file for one service, as ``actor``: ``plan`` reads what a batch of
    persons means (the dry run stops there), ``apply`` writes a batch's plan."""

    def __init__(self, record: CaseloadImport, *, actor):
        self.record = record
        self.actor = actor
        self.ref = Reference.of(record.service)
        self.claimed: dict[int, int] = {}  # person id -> first line of the group using it
        self.numbers_held: set[str] = set()
        self.interviewed: set[tuple[int, date]] = set()
        self.now = timezone.now()

    # Planning reads only.
    def plan(self, groups: list[Group]) -> list[PersonPlan]:
        nationals = [g.national for g in groups if g.national]
        dates = {g.first.values["date_naissance"] for g in groups}
        known = Person.objects.filter(merged_into__isnull=True)
        by_national = {}
        for p in Person.objects.filter(national_number__in=nationals).select_related("merged_into"):
            # A record merged into another keeps its number: the person is the kept one.
            by_national[(p.national_number or "").upper()] = p.merged_into or p
        self.numbers_held = set(by_national)
        by_date: dict[date, list[Person]] = defaultdict(list)
        for p in known.filter(birth_date__in=dates):
            by_date[p.birth_date].append(p)
        resolved: list[tuple[Group, Person | None]] = []
        for group in groups:
            person = self._resolve(group, by_national, by_date)
            if person is not False:
                resolved.append((group, person))  # type: ignore[arg-type]
        person_ids = [p.pk for _g, p in resolved if p is not None]
        cases = {
            c.person_id: c
            for c in Case.objects.filter(
                person_id__in=person_ids, service=self.ref.service, status__in=OPEN_STATUSES
            ).select_related("referent__user", "person", "service", "antenna")
        }
        measures: dict[tuple, Measure] = {}
        obligations: dict[int, set[int]] = defaultdict(set)
        case_ids = [c.pk for c in cases.values()]
        for m in Measure.objects.filter(case_id__in=case_ids).select_related("measure_type"):
            measures[(m.case_id, m.measure_type_id, m.judgment_date)] = m
        for measure_id, type_id in ImposedObligation.objects.filter(
            measure__case_id__in=case_ids
        ).values_list("measure_id", "obligation_type_id"):
            obligations[measure_id].add(type_id)
        # Any appointment of the file from now on, whatever became of it: one the CPIP
        # cancelled is not booked again by a later import of the same export.
        booked = set(
            Convocation.objects.filter(case_id__in=case_ids, starts_at__gte=self.now).values_list(
                "case_id", "starts_at"
            )
        )
        self.interviewed = {
            (case_id, timezone.localtime(held_at, self.ref.zone).date())
            for case_id, held_at in Interview.objects.filter(case_id__in=case_ids).values_list(
                "case_id", "held_at"
            )
        }
        plans = [
            self._plan_person(group, person, cases, measures, obligations, booked)
            for group, person in resolved
        ]
        return [p for p in plans if p.measures]

    def _resolve(self, group: Group, by_national, by_date) -> Person | None | bool:
        """The person the group is (None: a new one), or False when refused."""
        v = group.first.values
        person = by_national.get(group.national) if group.national else None
        if person is not None and person.birth_date != v["date_naissance"]:
            # Nothing about that other person is told: the number is checked, not shown.
            self._refuse_group(
                group,
                "numero_national",
                _(
                    "Ce n° national est déjà celui d'une personne née un autre jour : "
                    "vérifiez le numéro et la date de naissance."
                ),
            )
            return False
        group.by_number = person is not None
        if person is None:
            probe = self._person(v)
            matches = [
                p
                for p in by_date.get(v["date_naissance"], [])
                if same_person_rule(p, probe) == "names_birth"
                and not (p.national_number and group.national)
            ]
            if len(matches) > 1:
                self._refuse_group(
                    group,
                    "nom_naissance",
                    _(
                        "Plusieurs fiches de l'application correspondent à cette personne : "
                        "fusionnez les doublons (Dossiers › Doublons) puis relancez l'import."
                    ),
                )
                return False
            person = matches[0] if matches else None
        if person is not None:
            line = self.claimed.setdefault(person.pk, group.first.line)
            if line != group.first.line:
                self._refuse_group(
                    group,
                    "nom_naissance",
                    _("Même personne qu'à la ligne %(line)s (retrouvée dans l'application).")
                    % {"line": line},
                )
                return False
        return person

    def _refuse_group(self, group: Group, column: str, reason: str) -> None:
        for row in group.rows:
            row.refuse(column, reason)

    def _person(self, v: dict) -> Person:
        person = Person(
            **{field: v.get(column) or "" for column, field in PERSON_FIELDS.items()},
            created_by=self.actor,
        )
        person.birth_date = v["date_naissance"]
        person.national_number = v.get("numero_national") or None
        person.search_key = person_key(person)
        return person

    def _plan_person(self, group, person, cases, measures, obligations, booked) -> PersonPlan:
        v = group.first.values
        person_new = person is None
        changes: dict = {}
        if person_new:
            person = self._person(v)
        elif group.by_number:
            # Contact details are rewritten only for the person the national number names;
            # a person found by names and birth date alone is linked, never rewritten.
            for column, name in PERSON_FIELDS.items():
                value = v.get(column)
                if name in PERSON_UPDATABLE and value and getattr(person, name) != value:
                    if name == "national_number" and (
                        person.national_number or value.upper() in self.numbers_held
                    ):
                        continue  # a number is never replaced, nor taken from a merged record
                    changes[name] = [getattr(person, name), value]
        referent = v.get("_referent")
        case_changes: dict = {}
        case = None if person_new else cases.get(person.pk)
        case_new = case is None
        if case is None:
            opened = v.get("date_ouverture") or min(r.values["date_jugement"] for r in group.rows)
            case = Case(
                person=person,
                service=self.ref.service,
                antenna=v["_antenna"],
                referent=referent,
                setting=CaseSetting.OPEN,
                status=CaseStatus.ACTIVE if referent else CaseStatus.AWAITING_ALLOCATION,
                opened_on=opened,
                allocated_on=opened if referent else None,
                created_by=self.actor,
            )
        elif referent is not None and case.referent_id != referent.pk:
            case_changes["referent_id"] = [case.referent_id, referent.pk]
            if case.status == CaseStatus.AWAITING_ALLOCATION:
                case_changes["status"] = [case.status, CaseStatus.ACTIVE]
                case_changes["allocated_on"] = [case.allocated_on, self.ref.today]
        plan = PersonPlan(group, person, person_new, changes, case, case_new, case_changes)
        for row in group.rows:
            measure_plan = self._plan_measure(plan, row, measures, obligations, booked)
            if measure_plan is not None:
                plan.measures.append(measure_plan)
        last = v.get("dernier_entretien")
        holder = referent or case.referent
        plan.interview_found = bool(last) and (case.pk, last) in self.interviewed
        if last and holder is not None and not plan.interview_found:
            plan.interview = Interview(
                case=case,
                agent=holder,
                held_at=timezone.make_aware(datetime.combine(last, time(12, 0)), self.ref.zone),
                kind=InterviewKind.OFFICE,
                duration_minutes=IMPORTED_INTERVIEW_MINUTES,
                attendance=Attendance.PRESENT,
            )
        return plan

    def _plan_measure(
        self, plan: PersonPlan, row: Row, measures, obligations, booked
    ) -> MeasurePlan | None:
        v = row.values
        measure_type = v["_measure_type"]
        existing = None
        if not plan.case_new:
            existing = measures.get((plan.case.pk, measure_type.pk, v["date_jugement"]))
        wanted = {name: v.get(column) for column, name in MEASURE_FIELDS.items()}
        if existing is None:
            measure = Measure(
                case=plan.case,
                measure_type=measure_type,
                court=v["_court"],
                judgment_date=v["date_jugement"],
                followed_by=FollowedBy.SERVICE,
                created_by=self.actor,
                **{
                    name: value if value is not None else ("" if name in TEXTS else None)
                    for name, value in wanted.items()
                    if name != "provisionally_enforceable"
                },
                provisionally_enforceable=bool(wanted["provisionally_enforceable"]),
            )
            result = MeasurePlan(row, measure, True, {}, list(v["_obligations"]))
        else:
            changes = {
                name: [getattr(existing, name), value]
                for name, value in wanted.items()
                if value not in (None, "") and getattr(existing, name) != value
            }
            if existing.court_id != v["_court"].pk:
                changes["court_id"] = [existing.court_id, v["_court"].pk]
            problems = _measure_problems(existing, changes)
            for column, reason in problems:
                row.refuse(column, reason)
            if problems:
                return None
            missing = [o for o in v["_obligations"] if o.pk not in obligations[existing.pk]]
            result = MeasurePlan(row, existing, False, changes, missing)
        when = v.get("prochain_rdv")
        if when is not None:
            starts_at = timezone.make_aware(when, self.ref.zone)
            key = (plan.case.pk or id(plan.case), starts_at)
            result.appointment_found = key in booked
            if starts_at > self.now and not result.appointment_found:
                first = plan.case_new and not any(m.convocation for m in plan.measures)
                result.convocation = Convocation(
                    case=plan.case,
                    measure=result.measure,
                    kind=ConvocationType.FIRST_FOLLOW_UP if first else ConvocationType.FOLLOW_UP,
                    antenna=plan.case.antenna,
                    starts_at=starts_at,
                    issued_from=IssuedFrom.SPIP,
                    issued_by=self.actor,
                )
                booked.add(key)
        return result

    # Writing: one batch, one transaction.
    def apply(self, plans: list[PersonPlan]) -> Counter:
        counts: Counter = Counter()
        audit: list[dict] = []
        service_id = self.ref.service.pk

        def note(obj, changes, kind: str, outcome: str):
            counts[f"{kind}_{outcome}"] += 1
            if changes is not None:
                audit.append(
                    {
                        "actor": self.actor,
                        "action": AuditAction.IMPORT,
                        "obj": obj,
                        "service_id": service_id,
                        "changes": {"import": self.record.pk, **changes},
                    }
                )

        new_persons = [p.person for p in plans if p.person_new]
        Person.objects.bulk_create(new_persons)
        changed_persons = []
        for p in plans:
            if p.person_new:
                note(p.person, _created(p.person, p.group.first), "persons", "created")
            elif p.person_changes:
                for name, (_old, new) in p.person_changes.items():
                    setattr(p.person, name, new)
                p.person.search_key = person_key(p.person)
                changed_persons.append(p.person)
                note(p.person, p.person_changes, "persons", "updated")
            else:
                note(p.person, None, "persons", "matched")
        if changed_persons:
            Person.objects.bulk_update(changed_persons, [*PERSON_UPDATABLE, "search_key"])
        Case.objects.bulk_create([p.case for p in plans if p.case_new])
        reassigned = []
        for p in plans:
            if p.case_new:
                note(p.case, _created(p.case, p.group.first), "cases", "created")
            elif p.case_changes:
                for name, (_old, new) in p.case_changes.items():
                    setattr(p.case, name, new)
                p.case.version += 1
                reassigned.append(p.case)
                note(p.case, p.case_changes, "cases", "updated")
            else:
                note(p.case, None, "cases", "matched")
        if reassigned:
            Case.objects.bulk_update(
                reassigned, ["referent_id", "status", "allocated_on", "version"]
            )
            alerts_follow_owner(case_ids=[c.pk for c in reassigned])
        measure_plans = [m for p in plans for m in p.measures]
        Measure.objects.bulk_create([m.measure for m in measure_plans if m.new])
        changed_measures = []
        for m in measure_plans:
            if m.new:
                created = _created(m.measure, m.row)
                created["obligations"] = [o.code for o in m.obligations]
                note(m.measure, created, "measures", "created")
            elif m.changes or m.obligations:
                for name, (_old, new) in m.changes.items():
                    setattr(m.measure, name, new)
                if m.changes:
                    changed_measures.append(m.measure)
                added = {"obligations": [o.code for o in m.obligations]} if m.obligations else {}
                note(m.measure, {**m.changes, **added}, "measures", "updated")
            else:
                note(m.measure, None, "measures", "matched")
        if changed_measures:
            Measure.objects.bulk_update(changed_measures, [*MEASURE_FIELDS.values(), "court_id"])
        imposed = [
            ImposedObligation(measure=m.measure, obligation_type=o)
            for m in measure_plans
            for o in m.obligations
        ]
        ImposedObligation.objects.bulk_create(imposed)
        counts["obligations_created"] += len(imposed)
        # Related objects saved above lend their new ids to these rows (bulk_create
        # reads them from the instances).
        booked = [(m.row, m.convocation) for m in measure_plans if m.convocation is not None]
        Convocation.objects.bulk_create([convocation for _row, convocation in booked])
        counts["appointments_matched"] += sum(1 for m in measure_plans if m.appointment_found)
        counts["interviews_matched"] += sum(1 for p in plans if p.interview_found)
        for row, convocation in booked:
            note(convocation, _created(convocation, row), "appointments", "created")
        # The persons already hold these appointments: only their reminders are queued.
        notifications_plan_many([c for _row, c in booked], events=("reminder",))
        interviews = [(p, p.interview) for p in plans if p.interview is not None]
        Interview.objects.bulk_create([interview for _p, interview in interviews])
        for p, interview in interviews:
            # What was said is not in the export: the journal records that one was held.
            note(interview, _created(interview, p.group.first), "interviews", "created")
        audit_many(audit)
        touched = {m.measure.case_id for m in measure_plans if m.new or m.changes}
        touched |= {p.case.pk for p, _interview in interviews}
        if touched:
            first_contact_refresh(case_ids=touched)
        for p in plans:
            for m in p.measures:
                counts[f"rows_{p.outcome(m)}"] += 1
        return counts


TEXTS = {"judgment_reference", "end_reason"}
# The export gives the day of the last interview, not its length.
IMPORTED_INTERVIEW_MINUTES = 30


def _created(obj, row: Row) -> dict:
    """A created object's audit changes: its fields, and the line it came from."""
    return {**snapshot(obj), "ligne": row.line}


def _measure_problems(measure: Measure, changes: dict) -> list[tuple[str, str]]:
    """What a measure already known would become with ``changes``, checked as its table's
    constraints will (a newer export's end date before the stored start, fewer TIG hours
    than already done): each problem with the column of the file that causes it."""
    after = {name: getattr(measure, name) for name in (*MEASURE_FIELDS.values(), "judgment_date")}
    after.update({name: new for name, (_old, new) in changes.items()})
    problems = _date_problems(after, stored=True)
    hours = after["tig_hours"]
    if hours is not None and hours < measure.tig_hours_done:
        problems.append(
            (
                "heures_tig",
                _("%(done)s heures de TIG sont déjà effectuées : pas moins d'heures prononcées.")
                % {"done": measure.tig_hours_done},
            )
        )
    return problems


# --- The steps a user goes through ------------------------------------------------------


def _may_import(actor, service: Service) -> None:
    s = scope_for(actor)
    if s.is_admin or (s.role == Role.DSPIP and s.service_id == service.pk):
        return
    raise PermissionDenied(_("L'import d'un portefeuille est réservé au directeur du service."))


@transaction.atomic
def import_upload(*, actor, service: Service, name: str, data: bytes) -> CaseloadImport:
    """Keep the uploaded export (in the storage, as proofs are) for its dry run."""
    _may_import(actor, service)
    record = CaseloadImport(
        service=service,
        filename=name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        created_by=actor,
    )
    record.file.save("export.csv", ContentFile(data), save=False)
    record.save()
    audit_many(
        [
            {
                "actor": actor,
                "action": AuditAction.CREATE,
                "obj": record,
                "service_id": service.pk,
                "changes": {"fichier": record.filename, "empreinte": record.sha256},
            }
        ]
    )
    return record


def _rows_and_groups(record: CaseloadImport, run: _Run) -> tuple[list[Row], list[Group], list]:
    with record.file.open("rb") as handle:
        data = handle.read()
    parsed = read(data)
    code = run.ref.service.code.upper()
    named = {(row.values.get("service") or "").upper() for row in parsed.rows if not row.errors}
    if named and code not in named:
        # The wrong service chosen, or another service's export: one line says so.
        others = ", ".join(sorted(named))
        reason = _(
            "Aucune ligne de ce fichier n'est du service %(code)s (il est du service "
            "%(others)s) : vérifiez le service choisi ou le fichier."
        ) % {"code": run.ref.service.code, "others": others}
        return [], [], [RowError(0, "service", others, reason)]
    for row in parsed.rows:
        if not row.errors:
            _check(row, run.ref)
    return parsed.rows, _group(parsed.rows), parsed.errors


def _batches(groups: list[Group]) -> Iterable[list[Group]]:
    for start in range(0, len(groups), BATCH_PERSONS):
        yield groups[start : start + BATCH_PERSONS]


def _report(rows: list[Row], file_errors: list[RowError]) -> list[list]:
    errors = [*file_errors, *(e for row in rows for e in row.errors)]
    return [[e.line, e.column, e.value, e.reason] for e in errors]


def import_check(record: CaseloadImport, *, actor) -> CaseloadImport:
    """The dry run: every row checked and matched as the import would, nothing written
    but the outcome counts and the error report on the import itself."""
    run = _Run(record, actor=actor)
    rows, groups, file_errors = _rows_and_groups(record, run)
    CaseloadImport.objects.filter(pk=record.pk).update(rows_total=len(rows), rows_done=0)
    outcomes: Counter = Counter()
    done = 0
    for batch in _batches(groups):
        for plan in run.plan(batch):
            for m in plan.measures:
                outcomes[plan.outcome(m)] += 1
        done += sum(len(g.rows) for g in batch)
        CaseloadImport.objects.filter(pk=record.pk).update(rows_done=done)
    outcomes["rejected"] = sum(1 for row in rows if row.errors)
    record.refresh_from_db()
    record.dry_run = {k: outcomes.get(k, 0) for k in OUTCOMES}
    record.errors = _report(rows, file_errors)
    record.rows_total = len(rows)
    record.rows_done = len(rows)
    record.status = ImportStatus.CHECKED
    record.save(update_fields=["dry_run", "errors", "rows_total", "rows_done", "status"])
    return record


def import_check_failed(record: CaseloadImport) -> None:
    """A dry run that crashed (not a bad file: that is a report) ends as failed."""
    CaseloadImport.objects.filter(pk=record.pk, status=ImportStatus.CHECKING).update(
        status=ImportStatus.FAILED,
        finished_at=timezone.now(),
        errors=[
            [
                0,
                "",
                "",
                _(
                    "La vérification s'est arrêtée sur une erreur inattendue : déposez le "
                    "fichier à nouveau ; si l'erreur persiste, l'administrateur en a la trace."
                ),
            ]
        ],
    )


@transaction.atomic
def import_confirm(*, actor, record: CaseloadImport) -> CaseloadImport:
    """The user confirms after reading the dry run: the import may start (once)."""
    record = CaseloadImport.objects.select_for_update().get(pk=record.pk)
    _may_import(actor, record.service)
    if record.status != ImportStatus.CHECKED:
        raise ValidationError(_("Cet import n'attend pas de confirmation."))
    if not (record.dry_run.get("new") or record.dry_run.get("updated")):
        raise ValidationError(_("Ce fichier n'apporte rien de nouveau : rien à importer."))
    running = CaseloadImport.objects.filter(
        service=record.service, status=ImportStatus.RUNNING
    ).exclude(pk=record.pk)
    if running.exists():
        raise ValidationError(
            _("Un autre import de ce service est en cours : attendez qu'il se termine.")
        )
    record.status = ImportStatus.RUNNING
    record.rows_done = 0
    record.result = {"batches_done": [], "counts": {}, "failed": []}
    record.save(update_fields=["status", "rows_done", "result"])
    return record


@transaction.atomic
def import_abandon(*, actor, record: CaseloadImport) -> CaseloadImport:
    record = CaseloadImport.objects.select_for_update().get(pk=record.pk)
    _may_import(actor, record.service)
    if record.status not in (ImportStatus.CHECKED, ImportStatus.FAILED):
        raise ValidationError(_("Cet import ne peut plus être abandonné."))
    record.status = ImportStatus.ABANDONED
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "finished_at"])
    _forget_file(record)
    return record


def _forget_file(record: CaseloadImport) -> None:
    """The export holds a whole caseload: it leaves the storage once the import is over."""
    name = record.file.name
    if name:
        transaction.on_commit(lambda: record.file.storage.delete(name), robust=True)


def import_run(
    record: CaseloadImport, *, actor, progress: Callable[[int], None] | None = None
) -> CaseloadImport:
    """The import, batch by batch. Each batch is one transaction that records, inside it,
    the persons it wrote (by the first line of their rows): a task redelivered after a
    crash skips them and goes on. A batch that fails is rolled back whole, each of its
    lines reported, and the others go on."""
    run = _Run(record, actor=actor)
    rows, groups, file_errors = _rows_and_groups(record, run)
    done = set(record.result.get("persons_done", []))
    done_rows = sum(len(g.rows) for g in groups if g.first.line in done)
    remaining = [g for g in groups if g.first.line not in done]
    for index, batch in enumerate(_batches(remaining)):
        size = sum(len(g.rows) for g in batch)
        done_rows += size
        try:
            with transaction.atomic():
                locked = CaseloadImport.objects.select_for_update().get(pk=record.pk)
                counts = run.apply(run.plan(batch))
                result = locked.result
                result["persons_done"] = [
                    *result.get("persons_done", []),
                    *(g.first.line for g in batch),
                ]
                total = Counter(result.get("counts", {}))
                total.update(counts)
                result["counts"] = dict(total)
                locked.rows_done = done_rows
                locked.save(update_fields=["result", "rows_done"])
        except (ValidationError, DatabaseError, ValueError) as error:
            logger.warning("caseload import %s: batch %s failed", record.pk, index)
            with transaction.atomic():
                locked = CaseloadImport.objects.select_for_update().get(pk=record.pk)
                result = locked.result
                result["failed"] = [
                    *result.get("failed", []),
                    {
                        "batch": index,
                        "lines": sorted(r.line for g in batch for r in g.rows),
                        "rows": size,
                        "reason": _failure(error),
                    },
                ]
                locked.rows_done = done_rows
                locked.save(update_fields=["result", "rows_done"])
        if progress:
            progress(done_rows)
    with transaction.atomic():
        locked = CaseloadImport.objects.select_for_update().get(pk=record.pk)
        locked.errors = _report(rows, file_errors)
        for failure in locked.result.get("failed", []):
            reason = _(
                "Lot %(batch)s rejeté en entier (%(rows)s lignes, rien n'en a été écrit) : "
                "%(reason)s"
            ) % {
                "batch": failure["batch"] + 1,
                "rows": failure["rows"],
                "reason": failure["reason"],
            }
            locked.errors += [[line, "", "", reason] for line in failure["lines"]]
        counts = Counter(locked.result.get("counts", {}))
        counts["rows_rejected"] = sum(1 for row in rows if row.errors)
        locked.result["counts"] = dict(counts)
        locked.result["rows_in_file"] = len(rows)
        locked.rows_done = len(rows)
        locked.status = ImportStatus.FAILED if locked.result.get("failed") else ImportStatus.DONE
        locked.finished_at = timezone.now()
        locked.save(update_fields=["errors", "result", "rows_done", "status", "finished_at"])
        if locked.status == ImportStatus.DONE:
            _forget_file(locked)
    return locked


def import_run_failed(record: CaseloadImport) -> None:
    """An import stopped by something else than a batch's data (a time limit, a bug): it
    ends as failed rather than running for ever, which would hold the service's next
    import back. What its batches wrote stays, and a new import of the file completes it."""
    CaseloadImport.objects.filter(pk=record.pk, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED, finished_at=timezone.now()
    )


# The tables an import writes: a constraint violation is told with the constraint's words.
WRITTEN = (Person, Case, Measure, ImposedObligation, Convocation, Interview)


def _failure(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    message = str(error)
    for model in WRITTEN:
        for constraint in model._meta.constraints:
            if constraint.name in message:
                return str(constraint.get_violation_error_message())
    return _("la base a refusé une écriture (une contrainte d'intégrité) ; corrigez et relancez.")


RECONCILIATION = (
    ("persons", _("Personnes")),
    ("cases", _("Dossiers")),
    ("measures", _("Mesures")),
    ("appointments", _("Prochains rendez-vous")),
    ("interviews", _("Derniers entretiens")),
)


def reconciliation(record: CaseloadImport) -> dict:
    """What the file held against what the import wrote: per kind of object, created,
    matched, updated; rows imported and rejected."""
    counts = record.result.get("counts", {})
    table = [
        {
            "label": label,
            "created": counts.get(f"{kind}_created", 0),
            "updated": counts.get(f"{kind}_updated", 0),
            "matched": counts.get(f"{kind}_matched", 0),
        }
        for kind, label in RECONCILIATION
    ]
    for line in table:
        line["total"] = line["created"] + line["updated"] + line["matched"]
    return {
        "table": table,
        "rows_in_file": record.result.get("rows_in_file", record.rows_total),
        "rows": {k: counts.get(f"rows_{k}", 0) for k in OUTCOMES},
        "obligations_created": counts.get("obligations_created", 0),
        "failed": record.result.get("failed", []),
    }


def import_now(record: CaseloadImport, *, actor) -> CaseloadImport:
    """Dry run then import in this process (the command line; tests)."""
    import_check(record, actor=actor)
    record.refresh_from_db()
    import_confirm(actor=actor, record=record)
    return import_run(record, actor=actor)


def imports_purge(*, older_than_days: int = 7, report_days: int = 30) -> int:
    """The imports' personal data, on a short schedule: an export never confirmed is
    abandoned after a week and its file deleted; an import still "running" a day later
    (its worker lost) ends as failed; the error reports (they quote the file's cells) are
    erased a month after the import ended, their number kept."""
    now = timezone.now()
    stale = CaseloadImport.objects.filter(
        status__in=[ImportStatus.CHECKING, ImportStatus.CHECKED, ImportStatus.FAILED],
        created_at__lt=now - timedelta(days=older_than_days),
    )
    count = 0
    for record in stale:
        with transaction.atomic():
            CaseloadImport.objects.filter(pk=record.pk).update(
                status=ImportStatus.ABANDONED, finished_at=now
            )
            _forget_file(record)
        count += 1
    CaseloadImport.objects.filter(
        status=ImportStatus.RUNNING, created_at__lt=now - timedelta(days=1)
    ).update(status=ImportStatus.FAILED, finished_at=now)
    for record in CaseloadImport.objects.filter(
        finished_at__lt=now - timedelta(days=report_days)
    ).exclude(errors=[]):
        record.result["errors_erased"] = len(record.errors)
        record.errors = []
        record.save(update_fields=["errors", "result"])
    return count


def line_errors(record: CaseloadImport) -> list[list]:
    return sorted(record.errors, key=lambda e: (e[0], e[1]))
