"""Demonstration data: three services, their teams and a believable caseload.

Idempotent: the organisation and the accounts are brought to the same state on every
run (passwords reset to the one given), the caseload is created once. Everything is
written through the service functions, so the demo has an audit trail like real data.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from datetime import time as t
from decimal import Decimal
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from faker import Faker

from cases.agenda import services as agenda_services
from cases.agenda.services import slots_generate
from cases.alerts.rules import add_months
from cases.choices import (
    OPEN_STATUSES,
    CaseSetting,
    ConvocationStatus,
    ConvocationType,
    Intensity,
    InterviewKind,
    IssuedFrom,
    ReportKind,
    RiskLevel,
)
from cases.files import releases as release_services
from cases.files import services as case_services
from cases.followup import services as followup_services
from cases.followup.services import PastAppointment
from cases.models import Agenda, Case, Convocation, Person, ReleasePlan, SlotTemplate
from cases.workload.models import CapacityReduction, ReductionKind
from cases.workload.selectors import policy_in_force, weight_expression_for
from measures import services as measure_services
from measures.choices import EndReason, FollowedBy
from measures.models import Measure, MeasureType, ObligationType
from partners import presentencing as presentencing_services
from partners import services as partner_services
from partners import tig as tig_services
from partners.choices import ConventionKind, Domain, MandateKind, PartnerKind
from partners.models import Convention, PartnerBody, Referral, TigPost
from spip import services as org_services
from spip.audit import audit_write, snapshot
from spip.choices import AntennaKind, AuditAction, PrisonKind, Role
from spip.models import Agent, Antenna, Court, InterregionalUnit, Prison, Service
from spip.normalize import search_key
from spip.validation import create_audited

DEMO_PREFIX = "DEMO-"
DEFAULT_PASSWORD = "spip-demo-2026"  # noqa: S105 - demonstration accounts only


@dataclass(frozen=True)
class SiteSpec:
    service_code: str
    antennas: list[tuple[str, str, str, str]]  # name, kind, address, city
    prisons: list[tuple[str, str, str]]  # name, kind, city
    courts: list[tuple[str, str]]  # name, city
    communes: list[tuple[str, str]]  # commune, postal code
    cpips_per_antenna: int
    cases: int


SITES = [
    SiteSpec(
        "69",
        [
            ("Antenne de Lyon", AntennaKind.MIXED, "12 rue Garibaldi", "Lyon"),
            (
                "Antenne de Villefranche-sur-Saône",
                AntennaKind.OPEN,
                "350 boulevard Gambetta",
                "Villefranche-sur-Saône",
            ),
        ],
        [
            ("Maison d'arrêt de Lyon-Corbas", PrisonKind.MAISON_ARRET, "Corbas"),
            (
                "Maison d'arrêt de Villefranche-sur-Saône",
                PrisonKind.MAISON_ARRET,
                "Villefranche-sur-Saône",
            ),
        ],
        [
            ("Tribunal judiciaire de Lyon", "Lyon"),
            ("Tribunal judiciaire de Villefranche-sur-Saône", "Villefranche-sur-Saône"),
        ],
        [
            ("Lyon", "69003"),
            ("Lyon", "69008"),
            ("Villeurbanne", "69100"),
            ("Vénissieux", "69200"),
            ("Vaulx-en-Velin", "69120"),
            ("Bron", "69500"),
            ("Villefranche-sur-Saône", "69400"),
            ("Tarare", "69170"),
            ("Givors", "69700"),
            ("Rillieux-la-Pape", "69140"),
        ],
        4,
        420,
    ),
    SiteSpec(
        "13",
        [
            ("Antenne de Marseille", AntennaKind.MIXED, "45 boulevard de Paris", "Marseille"),
            ("Antenne d'Aix-en-Provence", AntennaKind.OPEN, "8 avenue Pasteur", "Aix-en-Provence"),
        ],
        [("Centre pénitentiaire de Marseille", PrisonKind.CENTRE_PENITENTIAIRE, "Marseille")],
        [
            ("Tribunal judiciaire de Marseille", "Marseille"),
            ("Tribunal judiciaire d'Aix-en-Provence", "Aix-en-Provence"),
        ],
        [
            ("Marseille", "13001"),
            ("Marseille", "13013"),
            ("Marseille", "13015"),
            ("Aix-en-Provence", "13100"),
            ("Aubagne", "13400"),
            ("Martigues", "13500"),
            ("Salon-de-Provence", "13300"),
            ("Istres", "13800"),
        ],
        3,
        220,
    ),
    SiteSpec(
        "974",
        [("Antenne de Saint-Denis", AntennaKind.MIXED, "2 rue de la Victoire", "Saint-Denis")],
        [("Centre pénitentiaire du Port", PrisonKind.CENTRE_PENITENTIAIRE, "Le Port")],
        [("Tribunal judiciaire de Saint-Denis", "Saint-Denis")],
        [
            ("Saint-Denis", "97400"),
            ("Saint-Paul", "97460"),
            ("Saint-Pierre", "97410"),
            ("Le Tampon", "97430"),
            ("Saint-André", "97440"),
            ("Le Port", "97420"),
        ],
        3,
        110,
    ),
]

# In 2012: SME/SP 74 %, TIG 16 %, LC 3.5 %; the remainder spread over other measures.
MEASURE_MIX = [
    ("SP", 74),
    ("TIG", 16),
    ("LC", 3.5),
    ("SPR", 2),
    ("SSJ", 2),
    ("DDSE", 1.5),
    ("AJP", 1),
]
RISK_MIX = [
    (RiskLevel.HIGH, 12),
    (RiskLevel.MODERATE, 33),
    (RiskLevel.LOW, 45),
    (RiskLevel.NOT_ASSESSED, 10),
]
INTENSITY_FOR_RISK = {
    RiskLevel.HIGH: Intensity.REINFORCED,
    RiskLevel.MODERATE: Intensity.STANDARD,
    RiskLevel.LOW: Intensity.LIGHT,
    RiskLevel.NOT_ASSESSED: Intensity.STANDARD,
}
SPECIAL_OBLIGATIONS = [
    "S-TRAVAIL",
    "S-SOINS",
    "S-VICTIME",
    "S-RESIDENCE",
    "S-DEBITS",
    "S-VICTIME-CONTACT",
    "S-ARME",
]
GENERAL_OBLIGATIONS = [
    "G-CONVOC",
    "G-VISITES",
    "G-EMPLOI",
    "G-RESIDENCE",
    "G-AUTORISATION",
    "G-ETRANGER",
]

ACCOUNTS: list[tuple[str, str, str, str, str | None, int | None, dict[str, Any]]] = [
    # username, first name, last name, role, service code, antenna index, extra
    ("demo.cpip", "Camille", "Martin", Role.CPIP, "69", 0, {}),
    ("demo.cpip2", "Julien", "Bernard", Role.CPIP, "69", 0, {"quotite": Decimal("0.80")}),
    ("demo.cpip.autre", "Sarah", "Lambert", Role.CPIP, "13", 0, {}),
    ("demo.dpip", "Nadia", "Roux", Role.DPIP, "69", 0, {}),
    ("demo.dpip.autre", "Hugo", "Mercier", Role.DPIP, "13", 0, {}),
    ("demo.dspip", "Olivier", "Fontaine", Role.DSPIP, "69", None, {"is_staff": True}),
    (
        "demo.bex",
        "Léa",
        "Girard",
        Role.BEX_CLERK,
        "69",
        None,
        {"court": "Tribunal judiciaire de Lyon"},
    ),
    ("demo.disp", "Marc", "Chevalier", Role.DISP, None, None, {"unit": "LYON"}),
    ("demo.dap", "Hélène", "Morel", Role.DAP, None, None, {}),
    (
        "demo.partenaire",
        "Karim",
        "Benali",
        Role.PARTNER,
        None,
        None,
        {"partner": "Association Le Relais"},
    ),
    ("demo.admin", "Claire", "Dubois", Role.ADMIN, None, None, {"is_superuser": True}),
]


def _weighted(rng: random.Random, mix):
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def _assess(rng, case, referent, assessed_on) -> RiskLevel:
    """The initial risk assessment, drawn from the demo's mix (some cases not assessed);
    ``assessed_on()`` gives its date (drawn only when there is an assessment)."""
    risk = _weighted(rng, RISK_MIX)
    if risk != RiskLevel.NOT_ASSESSED:
        case_services.risk_assess(
            actor=None,
            case=case,
            level=risk,
            assessed_on=assessed_on(),
            assessor=referent,
            reason="Évaluation initiale",
        )
    return risk


def _mobile(rng: random.Random) -> str:
    return f"0{rng.choice('67')} " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))


class DemoSeeder:
    def __init__(self, password: str, stdout=None, scale: float = 1.0):
        self.password = password
        self.scale = scale
        self.rng = random.Random(2026)  # noqa: S311 - demonstration data, not security
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(2026)
        self.out = stdout

    def say(self, message: str) -> None:
        if self.out:
            self.out.write(message)

    # --- organisation -------------------------------------------------------------

    def organisation(self) -> dict:
        sites: dict[str, Any] = {}
        for spec in SITES:
            service = Service.objects.get(code=spec.service_code)
            if not service.phone:
                service.phone = "04 72 00 00 00" if spec.service_code == "69" else "04 91 00 00 00"
            antennas = [
                self._get_or_create(
                    Antenna,
                    {"service": service, "name": name},
                    {"kind": kind, "address": address, "city": city, "phone": service.phone},
                )
                for name, kind, address, city in spec.antennas
            ]
            prisons = [
                self._get_or_create(
                    Prison, {"service": service, "name": name}, {"kind": kind, "city": city}
                )
                for name, kind, city in spec.prisons
            ]
            if antennas[0].kind == AntennaKind.MIXED and not antennas[0].prisons.exists():
                antennas[0].prisons.set(prisons)
            courts = []
            for name, city in spec.courts:
                court = self._get_or_create(Court, {"name": name}, {"city": city})
                court.services.add(service)
                courts.append(court)
            sites[spec.service_code] = {
                "spec": spec,
                "service": service,
                "antennas": antennas,
                "prisons": prisons,
                "courts": courts,
            }
        partner = self._get_or_create(
            PartnerBody,
            {"name": "Association Le Relais"},
            {
                "kind": PartnerKind.ASSOCIATION,
                "domains": [Domain.HOUSING, Domain.EMPLOYMENT, Domain.JUDICIAL],
                "address": "5 place Bellecour, 69002 Lyon",
                "phone": "04 78 00 00 00",
            },
        )
        partner.services.add(sites["69"]["service"])
        if Domain.TIG not in partner.domains:
            partner.domains = [*partner.domains, Domain.TIG]
            partner.save(update_fields=["domains"])
        today = timezone.localdate()
        self._get_or_create(
            Convention,
            {"partner": partner, "kind": ConventionKind.SOCIAL_SUPPORT},
            {
                "service": sites["69"]["service"],
                "starts_on": today - timedelta(days=700),
                "places": 30,
                "funding": "Subvention DAP, 24 000 € par an",
            },
        )
        # Socio-educational judicial control for the court, ending within the director's
        # 60-day warning; the 471 CPP follow-up and social inquiries, open-ended.
        for mandate, ends_on, places, funding in (
            (MandateKind.SOCIO_EDUCATIONAL, today + timedelta(days=45), 40, "Frais de justice"),
            (MandateKind.DOMESTIC_VIOLENCE, None, 15, "Fonds interministériel, 18 000 €"),
            (MandateKind.SOCIAL_INQUIRY, None, None, "Frais de justice, à l'acte"),
        ):
            self._get_or_create(
                Convention,
                {"partner": partner, "kind": ConventionKind.JUDICIAL_MANDATE, "mandate": mandate},
                {
                    "court": sites["69"]["courts"][0],
                    "starts_on": today - timedelta(days=700),
                    "ends_on": ends_on,
                    "places": places,
                    "funding": funding,
                },
            )
        sites["partner"] = partner
        return sites

    def _get_or_create(self, model, lookup: dict, defaults: dict):
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **defaults)
            obj.full_clean()
            obj.save()
            audit_write(actor=None, action=AuditAction.CREATE, obj=obj, changes=snapshot(obj))
        return obj

    # --- accounts -----------------------------------------------------------------

    def accounts(self, sites: dict) -> dict[str, Agent]:
        agents = {}
        user_model = get_user_model()
        for username, first, last, role, code, antenna_index, extra in ACCOUNTS:
            existing = user_model.objects.filter(username=username).first()
            if existing is not None:
                agent = existing.agent
                if not existing.check_password(self.password) or not existing.is_active:
                    org_services.agent_set_password(actor=None, agent=agent, password=self.password)
                agents[username] = agent
                continue
            site = sites.get(code) if code else None
            agents[username] = org_services.agent_create(
                actor=None,
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@justice.example",
                role=role,
                password=self.password,
                service=site["service"] if site else None,
                antenna=site["antennas"][antenna_index]
                if site and antenna_index is not None
                else None,
                court=Court.objects.get(name=extra["court"]) if "court" in extra else None,
                interregional_unit=InterregionalUnit.objects.get(code=extra["unit"])
                if "unit" in extra
                else None,
                partner=sites["partner"] if "partner" in extra else None,
                quotite=extra.get("quotite", Decimal("1.00")),
                active_from=timezone.localdate() - timedelta(days=900),
                is_staff=extra.get("is_staff", False),
                is_superuser=extra.get("is_superuser", False),
            )
        self._direction_group(agents["demo.dspip"])
        self._agenda_group(agents["demo.dpip"])
        return agents

    def _agenda_group(self, dpip: Agent) -> None:
        """Heads of antenna publish their antenna's agenda in the admin (scoped to their service)."""
        group, _ = Group.objects.get_or_create(name="Gestion des agendas")
        codenames = [
            f"{verb}_{model}"
            for verb in ("view", "add", "change", "delete")
            for model in ("agenda", "slottemplate", "agendaclosure")
        ] + ["view_slot"]
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
        )
        dpip.user.groups.add(group)
        if not dpip.user.is_staff:
            dpip.user.is_staff = True
            dpip.user.save(update_fields=["is_staff"])

    def _direction_group(self, dspip: Agent) -> None:
        """DSPIPs may browse their service's organisation in the admin (read-only)."""
        group, _ = Group.objects.get_or_create(name="Direction de service")
        codenames = [
            "view_service",
            "view_antenna",
            "view_agent",
            "view_prison",
            "view_court",
            "view_auditentry",
        ]
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="spip", codename__in=codenames)
        )
        dspip.user.groups.add(group)

    def colleagues(self, sites: dict, agents: dict[str, Agent]) -> dict[str, list[Agent]]:
        """Enough CPIPs per antenna for a team, named accounts without a password."""
        teams: dict[str, list[Agent]] = {}
        user_model = get_user_model()
        for code, site in ((c, s) for c, s in sites.items() if c != "partner"):
            spec: SiteSpec = site["spec"]
            for a_index, antenna in enumerate(site["antennas"]):
                team = list(Agent.objects.filter(antenna=antenna, role=Role.CPIP).order_by("pk"))
                n = len(team)
                while n < spec.cpips_per_antenna:
                    username = f"cpip.{code}.{a_index + 1}.{n + 1}"
                    if not user_model.objects.filter(username=username).exists():
                        team.append(
                            org_services.agent_create(
                                actor=None,
                                username=username,
                                first_name=self.fake.first_name(),
                                last_name=self.fake.last_name(),
                                role=Role.CPIP,
                                service=site["service"],
                                antenna=antenna,
                                quotite=self.rng.choice(
                                    [
                                        Decimal("1.00"),
                                        Decimal("1.00"),
                                        Decimal("0.80"),
                                        Decimal("0.50"),
                                    ]
                                ),
                                active_from=timezone.localdate()
                                - timedelta(days=self.rng.randint(200, 3000)),
                            )
                        )
                    n += 1
                teams[antenna.name] = team
        return teams

    # --- caseload ------------------------------------------------------------------

    def caseload(self, sites: dict, teams: dict[str, list[Agent]], agents: dict[str, Agent]) -> int:
        if Person.objects.filter(national_number__startswith=DEMO_PREFIX).exists():
            return 0
        types = {t.code: t for t in MeasureType.objects.all()}
        obligations = {o.code: o for o in ObligationType.objects.all()}
        bex_user = agents["demo.bex"].user
        created = 0
        total = sum(
            max(1, round(s["spec"].cases * self.scale)) for c, s in sites.items() if c != "partner"
        )
        for code, site in ((c, s) for c, s in sites.items() if c != "partner"):
            spec: SiteSpec = site["spec"]
            tz = ZoneInfo(site["service"].time_zone)
            per_antenna: dict[int, int] = {}
            for i in range(max(1, round(spec.cases * self.scale))):
                antenna = site["antennas"][i % len(site["antennas"])]
                team = teams[antenna.name]
                rank = per_antenna[antenna.pk] = per_antenna.get(antenna.pk, -1) + 1
                # One transaction a case: its services' own atomic blocks become savepoints,
                # one commit instead of some thirty (the seed's time went to commits).
                with transaction.atomic():
                    self._one_case(
                        code,
                        i,
                        site,
                        antenna,
                        team[rank % len(team) :] + team,
                        types,
                        obligations,
                        tz,
                        bex_user,
                    )
                created += 1
                if created % max(total // 10, 1) == 0:
                    self.say(f"  {created} / {total} dossiers")
        return created

    def _one_case(self, code, i, site, antenna, team, types, obligations, tz, bex_user) -> None:
        rng, fake = self.rng, self.fake
        today = timezone.localdate()
        sex = rng.choice(["M", "M", "M", "M", "F"])
        commune, postal = rng.choice(site["spec"].communes)
        person = case_services.person_create(
            actor=None,
            birth_name=fake.last_name(),
            first_names=fake.first_name_male() if sex == "M" else fake.first_name_female(),
            sex=sex,
            birth_date=fake.date_of_birth(minimum_age=18, maximum_age=70),
            birth_place=fake.city(),
            address=fake.street_address(),
            postal_code=postal,
            commune=commune,
            phone=_mobile(rng) if rng.random() < 0.85 else "",
            email=fake.free_email() if rng.random() < 0.4 else "",
            accepts_messages=rng.random() < 0.9,
            national_number=f"{DEMO_PREFIX}{code}-{i + 1:05d}",
        )
        judgment = today - timedelta(days=rng.randint(10, 540))
        awaiting = i % 25 in (3, 4)  # a few arrivals still to allocate in each antenna
        in_custody = not awaiting and rng.random() < 0.12 and antenna.kind == AntennaKind.MIXED
        referent = None if awaiting else team[0]
        case = case_services.case_open(
            actor=None,
            person=person,
            antenna=antenna,
            opened_on=judgment + timedelta(days=rng.randint(0, 10))
            if not awaiting
            else today - timedelta(days=rng.randint(1, 12)),
            setting=CaseSetting.CLOSED if in_custody else CaseSetting.OPEN,
            prison=site["prisons"][0] if in_custody else None,
            referent=referent,
        )
        measure_code = "SP" if in_custody else _weighted(rng, MEASURE_MIX)
        measure_type = types[measure_code]
        start = judgment + timedelta(days=rng.randint(5, 40)) if not awaiting else None
        extra = {}
        if measure_code == "TIG":
            extra = {
                "tig_hours": rng.choice([35, 70, 105, 140, 210]),
                "tig_deadline": judgment + timedelta(days=540),
            }
        chosen = [obligations[c] for c in GENERAL_OBLIGATIONS] + [
            obligations[c] for c in rng.sample(SPECIAL_OBLIGATIONS, k=rng.randint(1, 3))
        ]
        if measure_code in ("TIG", "DDSE"):
            chosen = [obligations[c] for c in GENERAL_OBLIGATIONS]
        measure = measure_services.measure_record(
            actor=bex_user if awaiting and code == "69" else None,
            case=case,
            measure_type=measure_type,
            court=site["courts"][0],
            judgment_date=judgment,
            judgment_reference=f"{judgment.year % 100:02d}{rng.randint(100000, 999999)}",
            start_date=start,
            planned_end_date=(start + timedelta(days=rng.choice([365, 540, 730, 1095])))
            if start
            else None,
            obligations=chosen,
            **extra,
        )
        if awaiting:
            when = datetime.combine(
                today + timedelta(days=rng.randint(3, 30)),
                time(rng.choice([9, 10, 11, 14, 15]), 0),
                tzinfo=tz,
            )
            agenda_services.convocation_create(
                actor=bex_user if code == "69" else None,
                case=case,
                kind=ConvocationType.END_OF_HEARING,
                starts_at=when,
                issued_from=IssuedFrom.BEX,
                measure=measure,
            )
            return
        assert start is not None  # an allocated case has started
        risk = _assess(
            rng,
            case,
            referent,
            lambda: min(start + timedelta(days=rng.randint(20, 60)), timezone.localdate()),
        )
        intensity = INTENSITY_FOR_RISK[risk]
        if intensity != case.intensity:
            case_services.intensity_set(
                actor=None,
                case=case,
                intensity=intensity,
                on=min(start + timedelta(days=30), timezone.localdate()),
                agent=referent,
                reason="Intensité déduite de l'évaluation",
            )
        self._history(case, referent, start, tz, measure)
        self._reports(case, referent, start, measure)

    def _reports(self, case, referent, start, measure) -> None:
        """Most evaluation reports were sent on time; repeated absences were mostly reported."""

        today = timezone.localdate()
        due = add_months(start, 3)
        if due < today and self.rng.random() < 0.85:
            followup_services.report_record(
                actor=None,
                case=case,
                kind=ReportKind.EVALUATION,
                measure=measure,
                author=referent,
                body="Rapport d'évaluation.",
                sent_on=due - timedelta(days=self.rng.randint(0, 20)),
            )
        missed = list(
            Convocation.objects.filter(case=case, status=ConvocationStatus.MISSED).order_by(
                "starts_at"
            )
        )
        if len(missed) >= 2 and self.rng.random() < 0.7:
            followup_services.incident_record(
                actor=None,
                case=case,
                author=referent,
                noticed_on=missed[-1].starts_at.date(),
                measure=measure,
                facts=f"{len(missed)} convocations non honorées.",
            )

    def _history(self, case, referent, start, tz, measure) -> None:
        """Monthly convocations since the start: honoured (with an interview) or missed; the
        most recent sometimes without outcome; the next one booked. The past in one go."""
        rng = self.rng
        now = timezone.now()
        day = start + timedelta(days=rng.randint(3, 12))
        kind = ConvocationType.FIRST_FOLLOW_UP
        past: list[PastAppointment] = []
        while True:
            when = datetime.combine(
                day, time(rng.choice([9, 10, 11, 14, 15, 16]), rng.choice([0, 30])), tzinfo=tz
            )
            if when > now:
                if rng.random() < 0.9:  # some cases are left without a next appointment
                    agenda_services.convocation_create(
                        actor=None,
                        case=case,
                        kind=kind,
                        starts_at=when,
                        issued_from=IssuedFrom.SPIP,
                        measure=measure,
                    )
                break
            recent = (now - when).days < 10
            if recent and rng.random() < 0.35:
                past.append(PastAppointment(starts_at=when, kind=kind))  # outcome to record
            elif rng.random() < 0.12:
                past.append(
                    PastAppointment(
                        starts_at=when,
                        kind=kind,
                        status=ConvocationStatus.MISSED,
                        outcome_at=when + timedelta(hours=2),
                    )
                )
            else:
                past.append(
                    PastAppointment(
                        starts_at=when,
                        kind=kind,
                        status=ConvocationStatus.HONOURED,
                        outcome_at=when + timedelta(hours=1),
                        interview_kind=InterviewKind.IN_PRISON
                        if case.setting == CaseSetting.CLOSED
                        else InterviewKind.OFFICE,
                        duration_minutes=rng.choice([20, 30, 45, 60]),
                        notes=self.fake.paragraph(nb_sentences=4),
                    )
                )
            kind = ConvocationType.FOLLOW_UP
            day = day + timedelta(days=rng.randint(21, 40))
        followup_services.history_record(
            actor=None, case=case, agent=referent, appointments=past, measure=measure
        )

    def today_for(self, agent: Agent, sites: dict) -> None:
        """A few appointments today for the demo CPIP, so that the home page has a day."""

        assert agent.service is not None
        tz = ZoneInfo(agent.service.time_zone)
        today = timezone.now().astimezone(tz).date()
        if Convocation.objects.filter(case__referent=agent, starts_at__date=today).exists():
            return
        cases = list(Case.objects.filter(referent=agent, status="active").order_by("pk")[:3])
        for hour, case in zip((9, 11, 14), cases, strict=False):
            agenda_services.convocation_create(
                actor=None,
                case=case,
                kind=ConvocationType.FOLLOW_UP,
                starts_at=datetime.combine(today, time(hour, 0), tzinfo=tz),
                issued_from=IssuedFrom.SPIP,
                allow_past=True,
            )

    def referrals(self, sites: dict) -> None:
        """Referrals to the housing association at each step of the workflow, some of them
        waiting for an answer for weeks (the partner is reminded, the CPIP alerted)."""
        partner = sites["partner"]
        if Referral.objects.filter(partner=partner).exists():
            return
        partner_user = get_user_model().objects.get(username="demo.partenaire")
        today = timezone.localdate()
        cases = Case.objects.filter(
            service=sites["69"]["service"], status="active", referent__isnull=False
        ).select_related("referent__user", "person")
        # (days ago, steps the partner took)
        plan = [
            (21, []),
            (4, []),
            (15, ["accepted"]),
            (30, ["accepted", "contacted"]),
            (45, ["accepted", "contacted", "ongoing"]),
            (12, ["refused"]),
            (60, ["accepted", "contacted", "ongoing", "ended"]),
            (2, []),
        ]
        for case, (days, steps) in zip(cases.order_by("pk")[: len(plan)], plan, strict=False):
            assert case.referent is not None  # filtered above
            referral = partner_services.referral_propose(
                actor=case.referent.user,
                case=case,
                partner=partner,
                domain=Domain.HOUSING,
                reason="Recherche d'un hébergement stable",
                message="Sans solution de logement à la fin du mois ; joignable le matin.",
                sent_on=today - timedelta(days=days),
            )
            for step in steps:
                partner_services.referral_step(
                    actor=partner_user,
                    referral=referral,
                    to=step,
                    note="Plus de place avant le printemps" if step == "refused" else "",
                    on=today - timedelta(days=days // 2) if step == "contacted" else None,
                    attended=True if step == "ended" else None,
                    result="Hébergée en résidence sociale" if step == "ended" else "",
                )

    def partner_work(self, sites: dict) -> None:
        """The association's TIG posts with people placed on them (one on pace, one behind
        after an unexcused absence, one just placed), and its pre-sentencing records: one
        handed over to a demo.cpip case, one proposed in another's file, one never
        sentenced."""
        partner = sites["partner"]
        if TigPost.objects.filter(partner=partner).exists():
            return
        users = get_user_model().objects
        tutor, cpip = users.get(username="demo.partenaire"), users.get(username="demo.cpip")
        today = timezone.localdate()
        garden = self._get_or_create(
            TigPost,
            {"partner": partner, "title": "Entretien des espaces verts"},
            {
                "tasks": "Tonte, désherbage, ramassage des feuilles",
                "place": "Parc de Gerland, 69007 Lyon",
                "schedule": "Mardi et jeudi, 9 h – 12 h",
                "weekly_hours": 6,
                "places": 3,
                "tutor_name": "Marc Perrin",
                "tutor_phone": "06 22 33 44 55",
                "equipment": "Chaussures de sécurité fournies",
            },
        )
        self._get_or_create(
            TigPost,
            {"partner": partner, "title": "Atelier de réparation de vélos"},
            {
                "tasks": "Démontage, réglages, tri des pièces",
                "place": "12 rue Garibaldi, 69006 Lyon",
                "schedule": "Mercredi, 14 h – 18 h",
                "weekly_hours": 4,
                "places": 2,
                "tutor_name": "Nadia Benali",
                "tutor_phone": "06 33 44 55 66",
            },
        )
        measures = list(
            Measure.objects.filter(
                case__referent__user=cpip,
                case__status="active",
                tig_hours__gte=35,
                actual_end_date__isnull=True,
                judgment_date__lte=today - timedelta(days=70),
                tig_deadline__gt=today + timedelta(days=90),
            ).order_by("pk")[:3]
        )
        # (days since placed, sessions as (days ago, outcome))
        plans = [
            (60, [(d, "done") for d in (56, 49, 42, 35, 28, 21, 14, 7)]),
            (60, [(56, "done"), (49, "done"), (42, "excused"), (4, "unexcused")]),
            (2, []),
        ]
        for measure, (placed, sessions) in zip(measures, plans, strict=False):
            placement = tig_services.tig_place(
                actor=cpip, measure=measure, post=garden, starts_on=today - timedelta(days=placed)
            )
            for days, outcome in sessions:
                tig_services.tig_sessions_record(
                    actor=tutor,
                    on=today - timedelta(days=days),
                    starts_at=time(9, 0),
                    ends_at=time(12, 0),
                    rows=[
                        tig_services.SessionInput(
                            placement=placement,
                            outcome=outcome,
                            behaviour="good" if outcome == "done" else "",
                            work_quality="good" if outcome == "done" else "",
                        )
                    ],
                )
        recent = list(
            Case.objects.filter(referent__user=cpip, status="active")
            .select_related("person")
            .order_by("-opened_on", "-pk")[:2]
        )
        summary = (
            "Contrôle judiciaire socio-éducatif de six mois. Présentations régulières, "
            "démarches de soins engagées au CSAPA, recherche d'emploi accompagnée. "
            "Points d'attention : hébergement précaire, consommation d'alcool en baisse."
        )
        for n, case in enumerate(recent):
            person = case.person
            record = presentencing_services.presentencing_record(
                actor=tutor,
                mandate=MandateKind.SOCIO_EDUCATIONAL,
                # As the association wrote it: capitals, no accents, the first first name.
                birth_name=search_key(person.birth_name),
                first_names=person.first_names.split()[0],
                birth_date=person.birth_date,
                starts_on=max(case.opened_on - timedelta(days=200), today - timedelta(days=690)),
                ends_on=case.opened_on - timedelta(days=5),
                summary=summary,
            )
            if n == 0:
                presentencing_services.presentencing_handover(actor=cpip, record=record, case=case)
        presentencing_services.presentencing_record(
            actor=tutor,
            mandate=MandateKind.SOCIAL_INQUIRY,
            birth_name="Lambert",
            first_names="Inès",
            birth_date=datetime(2001, 9, 14).date(),
            starts_on=today - timedelta(days=20),
            summary="Enquête sociale rapide avant comparution immédiate : logée chez sa mère.",
        )

    def releases(self, sites: dict) -> None:
        """Two people in custody in Lyon going home to Marseille: one leaving in ten days,
        the first appointment booked at the Marseille antenna and its convocation ready to
        print; one released today, the file arrived in Marseille with its appointment."""
        if ReleasePlan.objects.exists():
            return
        custody = list(
            Case.objects.filter(
                service=sites["69"]["service"],
                setting="mf",
                status="active",
                referent__isnull=False,
                measures__actual_end_date__isnull=True,
            )
            .select_related("referent__user")
            .distinct()
            .order_by("referent__user__username", "pk")[:2]
        )
        today = timezone.localdate()
        for n, case in enumerate(custody):
            assert case.referent is not None  # filtered above
            cpip = case.referent.user
            plan = release_services.release_plan(
                actor=cpip,
                case=case,
                planned_on=today + timedelta(days=10 if n == 0 else 1),
                address="12 rue de Rome",
                postal_code="13001",
                commune="Marseille",
            )
            deadline, slots = release_services.release_slots(plan)
            within = [s["slot"] for s in slots if s["within"]]
            if within:
                release_services.release_book(actor=cpip, plan=plan, slot=within[0])
                release_services.release_checklist(
                    actor=cpip, plan=plan, address_checked=True, documents_ready=True
                )
            if n == 1:
                release_services.release_done(actor=cpip, plan=plan)

    def duplicates(self, sites: dict) -> None:
        """One man recorded twice in Lyon (the second time without the accent and with
        his phone): an old closed file on one record, an open one on the other."""
        number = f"{DEMO_PREFIX}69-DOUBLON"
        if Person.objects.filter(national_number=number).exists():
            return
        antenna = sites["69"]["antennas"][0]
        cpip = Agent.objects.filter(antenna=antenna, role=Role.CPIP).order_by("pk").first()
        first = case_services.person_create(
            actor=None,
            birth_name="Lefèvre",
            first_names="Jean-Pierre",
            sex="M",
            birth_date=datetime(1984, 3, 9).date(),
            commune="Lyon",
            postal_code="69008",
            national_number=number,
        )
        second = case_services.person_create(
            actor=None,
            birth_name="LEFEVRE",
            first_names="Jean Pierre",
            sex="M",
            birth_date=datetime(1984, 3, 9).date(),
            commune="Lyon",
            postal_code="69008",
            phone="06 45 67 89 01",
            note={"doublon": "enregistré sans l'accent"},
        )
        today = timezone.localdate()
        old = case_services.case_open(
            actor=None, person=first, antenna=antenna, opened_on=today - timedelta(days=900)
        )
        case_services.case_close(actor=None, case=old, on=today - timedelta(days=200))
        case_services.case_open(
            actor=None,
            person=second,
            antenna=antenna,
            opened_on=today - timedelta(days=20),
            referent=cpip,
        )

    def late_start_case(self, sites: dict, agents: dict[str, Agent]) -> None:
        """A sursis probatoire pronounced 50 days ago, never seen since: the late-start alert."""

        number = f"{DEMO_PREFIX}69-RETARD"
        if Person.objects.filter(national_number=number).exists():
            return
        cpip = agents["demo.cpip"]
        person = case_services.person_create(
            actor=None,
            birth_name="Garnier",
            first_names="Kevin",
            sex="M",
            birth_date=datetime(1996, 4, 2).date(),
            address="14 rue Paul Bert",
            postal_code="69003",
            commune="Lyon",
            phone="06 12 34 56 78",
            national_number=number,
        )
        judged = timezone.localdate() - timedelta(days=50)
        assert cpip.antenna is not None and cpip.service is not None
        case = case_services.case_open(
            actor=None,
            person=person,
            antenna=cpip.antenna,
            opened_on=judged + timedelta(days=2),
            referent=cpip,
        )
        measure = measure_services.measure_record(
            actor=None,
            case=case,
            measure_type=MeasureType.objects.get(code="SP"),
            court=sites["69"]["courts"][0],
            judgment_date=judged,
            start_date=judged,
            planned_end_date=judged + timedelta(days=730),
            obligations=list(
                ObligationType.objects.filter(code__in=GENERAL_OBLIGATIONS + ["S-SOINS"])
            ),
        )
        tz = ZoneInfo(cpip.service.time_zone)
        agenda_services.convocation_create(
            actor=None,
            case=case,
            kind=ConvocationType.FIRST_FOLLOW_UP,
            measure=measure,
            issued_from=IssuedFrom.SPIP,
            starts_at=datetime.combine(
                timezone.localdate() + timedelta(days=6), time(10, 0), tzinfo=tz
            ),
        )

    def reductions(self, teams: dict[str, list[Agent]]) -> None:

        team = teams["Antenne de Lyon"]
        if len(team) > 2 and not CapacityReduction.objects.filter(agent=team[2]).exists():
            self._reduction(team[2], ReductionKind.TRAINING, 20, -30, 60, "Formation de formateur")

    def _reduction(self, agent: Agent, kind: str, percent: int, start: int, end: int, note: str):
        """A capacity reduction from ``start`` to ``end`` days around today, audited."""

        today = timezone.localdate()
        create_audited(
            actor=None,
            obj=CapacityReduction(
                agent=agent,
                kind=kind,
                percent=percent,
                starts_on=today + timedelta(days=start),
                ends_on=today + timedelta(days=end),
                note=note,
            ),
            service_id=agent.service_id,
        )

    def overload(self, teams: dict[str, list[Agent]]) -> None:
        """The Lyon antenna's busiest CPIP went part-time five weeks ago: overloaded since."""

        team = teams["Antenne de Lyon"]
        policy = policy_in_force(timezone.localdate())
        busiest = (
            Agent.objects.filter(pk__in=[a.pk for a in team])
            .exclude(user__username__startswith="demo.")
            .exclude(reductions__isnull=False)
            .annotate(
                load=Sum(
                    weight_expression_for("cases__", policy),
                    filter=Q(cases__status__in=OPEN_STATUSES),
                )
            )
            .order_by(F("load").desc(nulls_last=True), "pk")
            .first()
        )
        if (
            busiest is None
            or CapacityReduction.objects.filter(kind=ReductionKind.PART_TIME).exists()
        ):
            return
        self._reduction(
            busiest, ReductionKind.PART_TIME, 50, -35, 90, "Temps partiel thérapeutique"
        )

    def ended_measures(self, sites: dict, teams: dict[str, list[Agent]]) -> int:
        """Measures ended in the past year (executed, revoked, new conviction), some of them
        followed by an association, so that the outcome tables have something to say."""

        if Person.objects.filter(national_number__startswith=f"{DEMO_PREFIX}END").exists():
            return 0
        rng, fake = self.rng, self.fake
        today = timezone.localdate()
        types = {t.code: t for t in MeasureType.objects.all()}
        obligations = [ObligationType.objects.get(code=c) for c in GENERAL_OBLIGATIONS]
        partner = PartnerBody.objects.order_by("pk").first()
        reasons = [
            (EndReason.COMPLETED, 62),
            (EndReason.REVOKED, 16),
            (EndReason.NEW_CONVICTION, 12),
            (EndReason.OTHER, 10),
        ]
        created = 0
        for code, site in ((c, s) for c, s in sites.items() if c != "partner"):
            for i in range(max(1, round(40 * self.scale))):
                antenna = site["antennas"][i % len(site["antennas"])]
                team = teams[antenna.name]
                referent = team[i % len(team)]
                end = today - timedelta(days=rng.randint(5, 360))
                judgment = end - timedelta(days=rng.randint(300, 900))
                person = case_services.person_create(
                    actor=None,
                    birth_name=fake.last_name(),
                    first_names=fake.first_name(),
                    sex=rng.choice(["M", "M", "M", "F"]),
                    birth_date=fake.date_of_birth(minimum_age=18, maximum_age=70),
                    national_number=f"{DEMO_PREFIX}END{code}-{i + 1:05d}",
                )
                case = case_services.case_open(
                    actor=None,
                    person=person,
                    antenna=antenna,
                    opened_on=judgment + timedelta(days=5),
                    setting=CaseSetting.OPEN,
                    referent=referent,
                )
                _assess(rng, case, referent, lambda day=judgment: day + timedelta(days=40))
                by_partner = partner is not None and rng.random() < 0.25
                measure_code = _weighted(rng, MEASURE_MIX)
                extra = {}
                if measure_code == "TIG":
                    extra = {"tig_hours": 70, "tig_deadline": judgment + timedelta(days=540)}
                measure = measure_services.measure_record(
                    actor=None,
                    case=case,
                    measure_type=types[measure_code],
                    court=site["courts"][0],
                    judgment_date=judgment,
                    start_date=judgment + timedelta(days=20),
                    planned_end_date=end + timedelta(days=rng.choice([0, 0, 60, 200])),
                    obligations=obligations,
                    followed_by=FollowedBy.PARTNER if by_partner else FollowedBy.SERVICE,
                    partner=partner if by_partner else None,
                    **extra,
                )
                measure_services.measure_end(
                    actor=None, measure=measure, end_date=end, reason=_weighted(rng, reasons)
                )
                case_services.case_close(actor=None, case=case, on=end)
                created += 1
        return created

    def _agenda(self, *, kind: str, name: str, antenna=None, court=None):

        existing = Agenda.objects.filter(antenna=antenna, court=court, kind=kind).first()
        if existing is not None:
            return existing, False
        return self._get_or_create(
            Agenda,
            {"antenna": antenna, "court": court, "kind": kind},
            {"name": name, "weeks_ahead": 9},
        ), True

    def agendas(self, sites: dict) -> None:
        """Each demo antenna publishes its weekly slots; the Lyon court's SAP too."""

        for site in (s for c, s in sites.items() if c != "partner"):
            for antenna in site["antennas"]:
                agenda, created = self._agenda(
                    antenna=antenna, kind="spip", name=f"Agenda — {antenna.name}"
                )
                if created:
                    for weekday in range(5):
                        for hour, minute in (
                            (9, 0),
                            (9, 30),
                            (10, 0),
                            (11, 0),
                            (14, 0),
                            (14, 30),
                            (15, 30),
                        ):
                            self._get_or_create(
                                SlotTemplate,
                                {
                                    "agenda": agenda,
                                    "weekday": weekday,
                                    "start_time": t(hour, minute),
                                },
                                {"capacity": 1, "kinds": ["end_of_hearing", "first", "follow_up"]},
                            )
            court = site["courts"][0]
            agenda, created = self._agenda(court=court, kind="sap", name=f"JAP — {court.name}")
            if created:
                for weekday in (1, 3):
                    self._get_or_create(
                        SlotTemplate,
                        {"agenda": agenda, "weekday": weekday, "start_time": t(14, 0)},
                        {"capacity": 3, "kinds": ["jap"]},
                    )
        slots_generate()

    @transaction.atomic
    def run(self) -> dict:
        with self.step("Organisation et comptes"):
            sites = self.organisation()
            agents = self.accounts(sites)
            teams = self.colleagues(sites, agents)
        with self.step("Dossiers"):
            created = self.caseload(sites, teams, agents)
        with self.step("Journée de demo.cpip, orientations, TIG, présentenciel, fins de mesure"):
            self.late_start_case(sites, agents)
            self.today_for(agents["demo.cpip"], sites)
            self.referrals(sites)
            self.partner_work(sites)
            self.reductions(teams)
            self.overload(teams)
            self.ended_measures(sites, teams)
        with self.step("Agendas et créneaux"):
            self.agendas(sites)
        with self.step("Sorties de détention, doublons"):
            self.releases(sites)
            self.duplicates(sites)
        return {"cases_created": created, "accounts": [a[0] for a in ACCOUNTS]}

    @contextmanager
    def step(self, label: str):
        """A step line with its duration, so that a newcomer sees the seed advance."""
        started = monotonic()
        self.say(f"{label}…")
        yield
        self.say(f"  fait en {monotonic() - started:.1f} s".replace(".", ","))
