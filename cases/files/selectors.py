"""Reads behind the CPIP workspace: the caseload, the day, the timeline."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as CaseWhen
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases.choices import CONTACT, CaseStatus, ConvocationStatus, ConvocationType
from cases.files.models import person_label
from cases.models import (
    Alert,
    Case,
    Convocation,
    Cover,
    Incident,
    IntensityChange,
    Interview,
    Person,
    Proof,
    Report,
    RiskAssessment,
    Transfer,
)
from measures.models import ImposedObligation, Measure
from partners.choices import TigOutcome
from partners.models import PresentencingMandate, ReferralEvent, TigSession
from spip.access import covered_agents, scope_for
from spip.audit import audit_list
from spip.choices import AuditAction, Role
from spip.labels import labels
from spip.models import Agent, agent_label
from spip.normalize import search_key

PROOF_FRESH_DAYS = 90


def _count(queryset):
    return Coalesce(
        Subquery(
            queryset.values("case_id").annotate(n=Count("id")).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def covered_by(user, agent) -> list[int]:
    """The agents ``agent`` covers today (from the user's scope when it is the user)."""
    scope = scope_for(user)
    if scope.agent_id == agent.pk:
        return list(scope.covered_agent_ids)
    return list(covered_agents(agent.pk))


def _follow_up_columns() -> dict:
    """What a list of cases shows of each one's follow-up: the last contact held, the next
    appointment booked, the open alerts (one correlated subquery each)."""
    return {
        "last_contact": Subquery(
            Interview.objects.filter(case=OuterRef("pk"), attendance__in=CONTACT)
            .order_by("-held_at")
            .values("held_at")[:1]
        ),
        "next_convocation": Subquery(
            Convocation.objects.filter(
                case=OuterRef("pk"), status=ConvocationStatus.BOOKED, starts_at__gte=timezone.now()
            )
            .order_by("starts_at")
            .values("starts_at")[:1]
        ),
        "open_alerts": _count(Alert.objects.filter(case=OuterRef("pk"), closed_at__isnull=True)),
    }


def _open_measures() -> Prefetch:
    return Prefetch(
        "measures",
        queryset=Measure.objects.filter(actual_end_date__isnull=True).select_related(
            "measure_type"
        ),
        to_attr="open_measures",
    )


# The directors' list of cases: the columns it sorts by (nulls last either way).
CASE_LIST_ORDERINGS = {
    "personne": ("person__birth_name", "person__first_names"),
    "referent": ("referent__user__last_name", "referent__user__first_name"),
    "intensite": ("intensity",),
    "risque": ("risk_level",),
    "dernier_contact": ("last_contact",),
    "prochain_rdv": ("next_convocation",),
    "alertes": ("open_alerts",),
}


def case_list_rows(queryset, ordering: str = ""):
    """Cases (already scoped and filtered) with their follow-up columns and open measures,
    sorted by ``ordering`` (a key of CASE_LIST_ORDERINGS, "-" first for descending)."""
    key = ordering.removeprefix("-")
    fields = CASE_LIST_ORDERINGS.get(key, CASE_LIST_ORDERINGS["personne"])
    descending = ordering.startswith("-") and key in CASE_LIST_ORDERINGS
    # Never met (no last contact) is the most urgent: first when the oldest contact is.
    never_first = key == "dernier_contact" and not descending
    if descending:
        order = [F(f).desc(nulls_last=True) for f in fields]
    elif never_first:
        order = [F(f).asc(nulls_first=True) for f in fields]
    else:
        order = [F(f).asc(nulls_last=True) for f in fields]
    return (
        queryset.select_related("person", "referent__user", "antenna")
        .annotate(**_follow_up_columns())
        .prefetch_related(_open_measures())
        .order_by(*order, "id")
    )


def caseload(user, agent):
    """The CPIP's active cases, and those of colleagues they cover today, with what the
    list shows, in one query (plus one for the measures)."""
    since = timezone.localdate() - timedelta(days=PROOF_FRESH_DAYS)
    return (
        Case.objects.visible_to(user)
        .filter(Q(referent=agent) | Q(referent_id__in=covered_by(user, agent)))
        .filter(status__in=[CaseStatus.ACTIVE, CaseStatus.SUSPENDED])
        .select_related("person", "referent__user")
        .annotate(
            **_follow_up_columns(),
            report_due=Subquery(
                Alert.objects.filter(
                    case=OuterRef("pk"), closed_at__isnull=True, alert_type="report_due"
                )
                .order_by("due_on")
                .values("due_on")[:1]
            ),
            lacking_proofs=Coalesce(
                Subquery(
                    ImposedObligation.objects.filter(
                        measure__case=OuterRef("pk"),
                        measure__actual_end_date__isnull=True,
                        obligation_type__needs_proof=True,
                    )
                    .exclude(
                        pk__in=Proof.objects.filter(received_on__gte=since).values("obligation_id")
                    )
                    .values("measure__case")
                    .annotate(n=Count("id"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
        )
        .prefetch_related(_open_measures())
    )


# What one line of the caseload shows, read as values (no model instance per row).
CASELOAD_COLUMNS = (
    "id",
    "referent_id",
    "risk_level",
    "intensity",
    "person__birth_name",
    "person__usage_name",
    "person__first_names",
    "referent__user__first_name",
    "referent__user__last_name",
    "referent__user__username",
    "last_contact",
    "next_convocation",
    "open_alerts",
    "lacking_proofs",
    "report_due",
)


def caseload_lines(rows: list[dict], agent) -> list[dict]:
    """The caseload's page as its template prints it: each value formatted once here
    (labels from the per-language table, dates in the service's time zone), the open
    measures of the page in one query."""
    risk = labels(Case._meta.get_field("risk_level"), get_language())
    intensity = labels(Case._meta.get_field("intensity"), get_language())
    measures: dict[int, list[str]] = defaultdict(list)
    for case_id, code, planned in (
        Measure.objects.filter(case_id__in=[r["id"] for r in rows], actual_end_date__isnull=True)
        .order_by("-judgment_date", "-id")
        .values_list("case_id", "measure_type__code", "planned_end_date")
    ):
        measures[case_id].append(f"{code} ({planned:%d/%m/%Y})" if planned else code)
    zone = timezone.get_current_timezone()
    lines = []
    for r in rows:
        covering = ""
        if r["referent_id"] != agent.pk:
            covering = agent_label(
                r["referent__user__first_name"],
                r["referent__user__last_name"],
                r["referent__user__username"],
            )
        contact, upcoming, due = r["last_contact"], r["next_convocation"], r["report_due"]
        lines.append(
            {
                "id": r["id"],
                "name": person_label(
                    r["person__birth_name"], r["person__usage_name"], r["person__first_names"]
                ),
                "covering": covering,
                "measures": ", ".join(measures[r["id"]]) or "—",
                "risk": risk.get(r["risk_level"], r["risk_level"]),
                "intensity": intensity.get(r["intensity"], r["intensity"]).lower(),
                "last_contact": f"{contact.astimezone(zone):%d/%m/%Y}" if contact else "—",
                "next": f"{upcoming.astimezone(zone):%d/%m/%Y %H:%M}" if upcoming else "",
                "alerts": r["open_alerts"],
                "proofs": r["lacking_proofs"] or "—",
                "report_due": f"{due:%d/%m/%Y}" if due else "—",
            }
        )
    return lines


def timeline(user, case) -> list[dict]:
    """Everything that happened to the person, in the files the user may read, newest
    first: milieu fermé and milieu ouvert in one place. A fixed number of queries."""
    cases = (
        Case.objects.visible_to(user)
        .filter(person_id=case.person_id)
        .select_related("prison", "service")
    )
    case_ids = [c.pk for c in cases]
    events: list[dict] = []

    zone = timezone.get_current_timezone()

    def add(when, kind, title, detail="", obj=None):
        label = (
            f"{when.astimezone(zone):%d/%m/%Y %H:%M}"
            if isinstance(when, datetime)
            else f"{when:%d/%m/%Y}"
        )
        events.append(
            {
                "when": when,
                "label": label,
                "kind": kind,
                "title": title,
                "detail": detail,
                "obj": obj,
            }
        )

    for c in cases:
        if c.prison_id:
            add(c.opened_on, "custody", f"Suivi en détention — {c.prison}", f"{c.service}", c)
        add(c.opened_on, "case", f"Ouverture du dossier — {c.service}", c.get_setting_display(), c)
        if c.closed_on:
            add(c.closed_on, "case", f"Clôture du dossier — {c.service}", "", c)
    # Convocations and interviews are most of a long history: read as values, labelled from
    # the per-language tables; ``obj`` keeps what the page uses of them.
    language = get_language()
    kinds, statuses, reactions = (
        labels(Convocation._meta.get_field(name), language)
        for name in ("kind", "status", "reaction")
    )
    for conv in (
        Convocation.objects.visible_to(user)
        .filter(case_id__in=case_ids)
        .values("id", "starts_at", "kind", "status", "reaction")
    ):
        detail = statuses.get(conv["status"], conv["status"])
        if conv["reaction"]:
            detail += f" — suite : {reactions.get(conv['reaction'], conv['reaction']).lower()}"
        obj = {"pk": conv["id"], "status": conv["status"], "starts_at": conv["starts_at"]}
        add(conv["starts_at"], "convocation", kinds.get(conv["kind"], conv["kind"]), detail, obj)
    interview_kinds, attendances = (
        labels(Interview._meta.get_field(name), language) for name in ("kind", "attendance")
    )
    for interview in (
        Interview.objects.visible_to(user)
        .filter(case_id__in=case_ids)
        .values(
            "held_at",
            "kind",
            "attendance",
            "duration_minutes",
            "notes",
            "agent__user__first_name",
            "agent__user__last_name",
            "agent__user__username",
        )
    ):
        agent = agent_label(
            interview["agent__user__first_name"],
            interview["agent__user__last_name"],
            interview["agent__user__username"],
        )
        kind = interview_kinds.get(interview["kind"], interview["kind"])
        attendance = attendances.get(interview["attendance"], interview["attendance"])
        add(
            interview["held_at"],
            "interview",
            f"Entretien {kind.lower()}",
            f"{attendance}, {interview['duration_minutes']} min — {agent}",
            {"notes": interview["notes"]},
        )
    for a in RiskAssessment.objects.visible_to(user).filter(case_id__in=case_ids):
        add(a.assessed_on, "risk", f"Risque : {a.get_level_display().lower()}", a.reason, a)
    for i in IntensityChange.objects.visible_to(user).filter(case_id__in=case_ids):
        add(
            i.changed_on,
            "intensity",
            f"Intensité : {i.get_intensity_display().lower()}",
            i.reason,
            i,
        )
    for p in (
        Proof.objects.visible_to(user)
        .filter(case_id__in=case_ids)
        .select_related("obligation__obligation_type")
    ):
        add(
            p.received_on,
            "proof",
            "Justificatif reçu",
            f"{p.obligation.obligation_type.label} — {p.original_name}",
            p,
        )
    for inc in Incident.objects.visible_to(user).filter(case_id__in=case_ids):
        add(inc.noticed_on, "incident", "Incident", inc.facts, inc)
    for r in Report.objects.visible_to(user).filter(case_id__in=case_ids):
        add(r.sent_on or r.created_at, "report", r.get_kind_display(), r.get_status_display(), r)

    # Each step of a referral, and the partner's notes, as the case's own events.
    for event in (
        ReferralEvent.objects.visible_to(user)
        .filter(referral__case_id__in=case_ids)
        .select_related("referral__partner")
    ):
        ref = event.referral
        step = event.get_status_display() if event.status else _("note du partenaire")
        add(
            event.at,
            "referral",
            _("Orientation vers %(partner)s : %(step)s") % {"partner": ref.partner, "step": step},
            event.note or ref.get_domain_display(),
            ref,
        )
    # What an association did before the judgment, once the CPIP confirmed it is the person.
    for m in (
        PresentencingMandate.objects.visible_to(user)
        .filter(case_id__in=case_ids)
        .select_related("partner")
    ):
        add(
            m.starts_on,
            "presentencing",
            _("%(mandate)s — %(partner)s")
            % {"mandate": m.get_mandate_display(), "partner": m.partner},
            m.summary,
            m,
        )
    # TIG: each placement, and each session that was not done (an absence is an event).
    for session in (
        TigSession.objects.visible_to(user)
        .filter(placement__measure__case_id__in=case_ids)
        .exclude(outcome=TigOutcome.DONE)
        .select_related("placement__post")
    ):
        add(
            session.on,
            "tig",
            _("TIG : %(outcome)s") % {"outcome": session.get_outcome_display().lower()},
            f"{session.placement.post.title} {session.starts_at:%H:%M}–{session.ends_at:%H:%M}",
            session,
        )
    for t in (
        Transfer.objects.visible_to(user)
        .filter(case_id__in=case_ids)
        .select_related("from_service", "to_service")
    ):
        route = f"{t.from_service} → {t.to_service}"
        asked = _("Transfert demandé") if t.status == "requested" else _("Transfert proposé")
        add(t.requested_on, "transfer", f"{asked} : {route}", t.reason, t)
        if t.answered_on:
            add(
                t.answered_on,
                "transfer",
                _("Transfert %(state)s : %(route)s")
                % {
                    "state": (
                        _("accepté d'office") if t.auto_accepted else t.get_status_display().lower()
                    ),
                    "route": route,
                },
                t.answer_note,
                t,
            )

    def sort_key(event):
        when = event["when"]
        if not isinstance(when, datetime):
            when = datetime.combine(when, time(23, 59), tzinfo=timezone.get_current_timezone())
        return when

    events.sort(key=sort_key, reverse=True)
    return events


# --- First contact and who answers for a case ---------------------------------------------


def first_contact(
    case_ref: str = "case",
    since_ref: str | None = "judgment_date",
    *,
    convocations=None,
    interviews=None,
):
    """The day of the first contact with the SPIP, as a subquery on ``OuterRef(case_ref)``:
    the first SPIP convocation with outcome "honoured" (whether recorded from the interview
    form or with the one-click outcome) or the first interview with the person present,
    whichever is earlier, on or after ``OuterRef(since_ref)`` (DOMAIN.md §5). None when
    there has been no contact. Days are those of the current time zone.

    The one definition. A measure's is stored in ``Measure.first_contact_on`` (in its
    service's time zone) by ``cases.files.contacts.first_contact_refresh``, and that column
    is what the late-start alert, the delay statistics, the list of measures outside the
    deadline and the API read. ``convocations`` and ``interviews`` (managers, the current
    models' by default) let a migration run it on its historical models."""
    convocations = Convocation.objects if convocations is None else convocations
    interviews = Interview.objects if interviews is None else interviews
    honoured = convocations.filter(
        case=OuterRef(case_ref), status=ConvocationStatus.HONOURED
    ).exclude(kind=ConvocationType.JAP)
    interviewed = interviews.filter(case=OuterRef(case_ref), attendance__in=CONTACT)
    if since_ref is not None:
        honoured = honoured.filter(starts_at__date__gte=OuterRef(since_ref))
        interviewed = interviewed.filter(held_at__date__gte=OuterRef(since_ref))
    first_honoured = Subquery(
        honoured.order_by("starts_at").annotate(on=TruncDate("starts_at")).values("on")[:1],
        output_field=DateField(),
    )
    first_interview = Subquery(
        interviewed.order_by("held_at").annotate(on=TruncDate("held_at")).values("on")[:1],
        output_field=DateField(),
    )
    # LEAST ignores NULLs on PostgreSQL but not on SQLite: coalesce each side to the other.
    return Least(
        Coalesce(first_honoured, first_interview),
        Coalesce(first_interview, first_honoured),
        output_field=DateField(),
    )


def last_contact(case_ref: str = "pk"):
    """The moment of the last contact (honoured SPIP convocation or interview with the
    person present) of the case ``OuterRef(case_ref)``; None when there was none."""
    honoured = Subquery(
        Convocation.objects.filter(case=OuterRef(case_ref), status=ConvocationStatus.HONOURED)
        .exclude(kind=ConvocationType.JAP)
        .order_by("-starts_at")
        .values("starts_at")[:1],
        output_field=DateTimeField(),
    )
    interviewed = Subquery(
        Interview.objects.filter(case=OuterRef(case_ref), attendance__in=CONTACT)
        .order_by("-held_at")
        .values("held_at")[:1],
        output_field=DateTimeField(),
    )
    return Greatest(
        Coalesce(honoured, interviewed),
        Coalesce(interviewed, honoured),
        output_field=DateTimeField(),
    )


def answering_agent(day):
    """Expressions on a Case row: the agent who answers for it on ``day`` and whether the
    case is "sans référent".

    The referent in post (account active, posting not ended); while they are away, the
    colleague covering them; when they have left, the head of antenna (DPIP), or the
    DSPIP where the antenna has none. An unallocated case has nobody yet (None)."""
    in_post = Agent.objects.active(day).filter(user__is_active=True)
    cover = (
        Cover.objects.active_on(day)
        .filter(absent_agent_id=OuterRef("referent_id"), covering_agent__in=in_post)
        .order_by("-starts_on", "-pk")
        .values("covering_agent_id")[:1]
    )
    dpip = in_post.filter(role=Role.DPIP, antenna_id=OuterRef("antenna_id")).order_by("pk")
    dspip = in_post.filter(role=Role.DSPIP, service_id=OuterRef("service_id")).order_by("pk")
    referent_in_post = Exists(in_post.filter(pk=OuterRef("referent_id")))
    head = Coalesce(Subquery(dpip.values("pk")[:1]), Subquery(dspip.values("pk")[:1]))
    owner = CaseWhen(
        When(referent_id__isnull=True, then=Value(None)),
        When(Exists(cover), then=Subquery(cover)),
        When(referent_in_post, then="referent_id"),
        default=head,
        output_field=IntegerField(),
    )
    orphan = ExpressionWrapper(
        Q(referent_id__isnull=False) & ~referent_in_post, output_field=BooleanField()
    )
    return owner, orphan


# --- Identity search (court clerks search, they do not browse) ------------------------

SEARCH_LIMIT = 10
# What recognises a person, and nothing more: no address, phone, email, national number.
IDENTITY_FIELDS = (
    "id",
    "birth_name",
    "usage_name",
    "first_names",
    "birth_date",
    "birth_place",
    "commune",
    "search_key",
)


def person_search(
    user,
    *,
    surname: str,
    first_name: str = "",
    birth_date=None,
    limit: int = SEARCH_LIMIT,
) -> list[Person]:
    """Find a person by identity among those ``user`` may search: a surname (two letters
    at least, birth or usage name, accents and case folded) and a birth date or a first
    name. At most ``limit`` candidates, loaded with the identity fields only. Each search
    writes one audit row (what was asked, how many were found, which)."""
    name, first = search_key(surname), search_key(first_name)
    errors = {}
    if len(name.replace(" ", "")) < 2:
        errors["surname"] = _("Saisissez au moins deux lettres du nom.")
    if birth_date is None and len(first.replace(" ", "")) < 2:
        # One letter of a first name would let a clerk list a surname letter by letter.
        errors["birth_date"] = _(
            "Précisez la date de naissance, ou le prénom (au moins deux lettres)."
        )
    if errors:
        raise ValidationError(errors)
    if first:
        by_name = Q(search_key__startswith=f"{name} {first}") | Q(
            birth_name__iexact=surname.strip(), first_names__istartswith=first_name.strip()
        )
    else:
        by_name = Q(search_key__startswith=f"{name} ") | Q(birth_name__iexact=surname.strip())
    found = Person.objects.searchable_by(user).filter(by_name, merged_into__isnull=True)
    if birth_date is not None:
        found = found.filter(birth_date=birth_date)
    people = list(found.only(*IDENTITY_FIELDS).order_by("birth_name", "first_names", "id")[:limit])
    audit_list(
        actor=user,
        object_type="cases.person",
        ids=[p.pk for p in people],
        filters={
            "nom": surname,
            "prenom": first_name,
            "naissance": birth_date.isoformat() if birth_date else "",
        },
        action=AuditAction.SEARCH,
        what=_("Recherche d'identité"),
    )
    return people
