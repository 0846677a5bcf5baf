"""A person's access request (directive 2016/680, loi du 6 janvier 1978, art. 104 to 107):
everything this service holds on one person, for the director to send, as JSON and PDF.

Read only, through each model's ``visible_to``: a director answers for their service; a
file held by another service is answered by that service. What the law allows to withhold
is withheld and said so (what, how many, why), never silently left out.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.agenda.models import Convocation, Notification
from cases.choices import IncidentStatus, ReportStatus
from cases.files.models import Case, RiskAssessment
from cases.followup.models import Incident, Interview, Proof, Report
from measures.models import ImposedObligation, Measure
from partners.models import Referral

# Withheld under art. 107 of the loi du 6 janvier 1978 (restriction of the right of access
# to protect public security, the rights of others, or a decision not yet taken).
# Lazy: translated when the document is written, in the reader's language.
WITHHOLDING_BASIS = gettext_lazy(
    "Restriction du droit d'accès : article 107 de la loi n° 78-17 du 6 janvier 1978."
)


def _withheld():
    return {
        "private_notes": _(
            "Notes personnelles du conseiller sur les entretiens : outil de travail, "
            "protection des droits des tiers qu'elles peuvent nommer."
        ),
        "risk_assessments": _(
            "Évaluations du risque : protection de la sécurité publique et des victimes."
        ),
        "draft_reports": _(
            "Rapports en cours de rédaction, non transmis au juge : décision non encore prise."
        ),
        "draft_incidents": _(
            "Rapports d'incident non transmis au juge : décision non encore prise."
        ),
    }


def _date(value):
    return value.isoformat() if value else None


def _moment(value):
    return timezone.localtime(value).isoformat(timespec="minutes") if value else None


def person_record(user, case: Case) -> dict:
    """What the user's scope holds on ``case``'s person: identity, files, measures and
    obligations, convocations, interviews, messages sent, referrals, proofs, incidents,
    reports; and what is withheld, counted, with the reason."""
    person = case.person
    cases = list(
        Case.objects.visible_to(user)
        # This service's files: a file it reads after a transfer is answered by the
        # service that held it.
        .filter(person=person, service_id=case.service_id)
        .select_related("service", "antenna", "referent__user")
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.visible_to(user)
                .select_related("measure_type", "court")
                .prefetch_related(
                    Prefetch(
                        "obligations",
                        queryset=ImposedObligation.objects.visible_to(user).select_related(
                            "obligation_type"
                        ),
                    )
                )
                .order_by("judgment_date", "id"),
            )
        )
        .order_by("opened_on", "id")
    )
    ids = [c.pk for c in cases]
    convocations = (
        Convocation.objects.visible_to(user)
        .filter(case_id__in=ids)
        .select_related("antenna")
        .order_by("starts_at", "id")
    )
    interviews = (
        Interview.objects.visible_to(user)
        .filter(case_id__in=ids)
        .select_related("agent__user")
        .order_by("held_at", "id")
    )
    messages = (
        Notification.objects.visible_to(user)
        .filter(convocation__case_id__in=ids, status="sent")
        .select_related("convocation")
        .order_by("sent_at", "id")
    )
    referrals = (
        Referral.objects.visible_to(user)
        .filter(case_id__in=ids)
        .select_related("partner")
        .order_by("sent_on", "id")
    )
    proofs = (
        Proof.objects.visible_to(user)
        .filter(case_id__in=ids)
        .select_related("obligation__obligation_type")
        .order_by("received_on", "id")
    )
    incidents = list(
        Incident.objects.visible_to(user).filter(case_id__in=ids).order_by("noticed_on")
    )
    sent_incidents = [i for i in incidents if i.status == IncidentStatus.SENT]
    reports = Report.objects.visible_to(user).filter(case_id__in=ids).order_by("created_at", "id")
    sent_reports = [r for r in reports if r.status == ReportStatus.SENT]
    interviews = list(interviews)
    reasons = _withheld()
    withheld = [
        {"what": key, "count": count, "reason": str(reasons[key])}
        for key, count in (
            ("private_notes", sum(1 for i in interviews if i.private_notes)),
            (
                "risk_assessments",
                RiskAssessment.objects.visible_to(user).filter(case_id__in=ids).count(),
            ),
            ("draft_reports", len(reports) - len(sent_reports)),
            ("draft_incidents", len(incidents) - len(sent_incidents)),
        )
        if count
    ]
    by_case: dict[int, dict] = {
        c.pk: {
            "file": c.pk,
            "service": str(c.service),
            "antenna": str(c.antenna) if c.antenna_id else None,
            "referent": c.referent.user.get_full_name() if c.referent_id else None,
            "status": c.get_status_display(),
            "setting": c.get_setting_display(),
            "opened_on": _date(c.opened_on),
            "closed_on": _date(c.closed_on),
            "measures": [
                {
                    "type": m.measure_type.label,
                    "court": str(m.court) if m.court_id else None,
                    "judgment_date": _date(m.judgment_date),
                    "judgment_reference": m.judgment_reference,
                    "start_date": _date(m.start_date),
                    "planned_end_date": _date(m.planned_end_date),
                    "actual_end_date": _date(m.actual_end_date),
                    "end_reason": m.get_end_reason_display() if m.end_reason else None,
                    "tig_hours": m.tig_hours,
                    "tig_hours_done": m.tig_hours_done,
                    "obligations": [
                        {"obligation": o.obligation_type.label, "details": o.details}
                        for o in m.obligations.all()
                    ],
                }
                for m in c.measures.all()
            ],
            "convocations": [],
            "interviews": [],
            "messages": [],
            "referrals": [],
            "proofs": [],
            "incidents": [],
            "reports": [],
        }
        for c in cases
    }
    for v in convocations:
        by_case[v.case_id]["convocations"].append(
            {
                "at": _moment(v.starts_at),
                "kind": v.get_kind_display(),
                "place": str(v.antenna) if v.antenna_id else None,
                "status": v.get_status_display(),
                "outcome_reason": v.outcome_reason or None,
            }
        )
    for i in interviews:
        by_case[i.case_id]["interviews"].append(
            {
                "at": _moment(i.held_at),
                "kind": i.get_kind_display(),
                "with": i.agent.user.get_full_name() if i.agent_id else None,
                "attendance": i.get_attendance_display(),
                "notes": i.notes,
                "private_notes": _("[retenu]") if i.private_notes else None,
            }
        )
    for n in messages:
        by_case[n.convocation.case_id]["messages"].append(
            {
                "sent_at": _moment(n.sent_at),
                "channel": n.get_channel_display(),
                "to": n.recipient,
                "text": n.body,
            }
        )
    for r in referrals:
        by_case[r.case_id]["referrals"].append(
            {
                "partner": str(r.partner),
                "domain": r.get_domain_display(),
                "sent_on": _date(r.sent_on),
                "status": r.get_status_display(),
                "reason": r.reason,
                "first_contact_on": _date(r.first_contact_on),
                "ended_on": _date(r.ended_on),
            }
        )
    for p in proofs:
        by_case[p.case_id]["proofs"].append(
            {
                "received_on": _date(p.received_on),
                "obligation": p.obligation.obligation_type.label if p.obligation_id else None,
                "document": p.original_name,
            }
        )
    for incident in sent_incidents:
        by_case[incident.case_id]["incidents"].append(
            {
                "noticed_on": _date(incident.noticed_on),
                "facts": incident.facts,
                "status": incident.get_status_display(),
                "sent_on": _date(incident.sent_on),
            }
        )
    for report in sent_reports:
        by_case[report.case_id]["reports"].append(
            {
                "kind": report.get_kind_display(),
                "sent_on": _date(report.sent_on),
                "text": report.body,
            }
        )
    return {
        "generated_at": _moment(timezone.now()),
        "generated_by": user.get_full_name() or user.get_username(),
        "person": {
            "birth_name": person.birth_name,
            "usage_name": person.usage_name,
            "first_names": person.first_names,
            "sex": person.get_sex_display() if person.sex else None,
            "birth_date": _date(person.birth_date),
            "birth_place": person.birth_place,
            "address": person.address,
            "postal_code": person.postal_code,
            "commune": person.commune,
            "phone": person.phone,
            "email": person.email,
            "accepts_messages": person.accepts_messages,
            "national_number": person.national_number,
        },
        "files": list(by_case.values()),
        "withheld": withheld,
        "withholding_basis": str(WITHHOLDING_BASIS),
    }
