"""The CPIP workspace: caseload, the day's convocations with one-click outcomes (htmx),
the interview form, follow-up changes, proofs, absence cover."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case as DbCase
from django.db.models import Q, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from weasyprint import HTML

from cases.agenda import selectors as agenda_selectors
from cases.agenda import services as agenda_services
from cases.agenda import services as booking
from cases.agenda.services import convocation_cancel
from cases.choices import CaseSetting, MissedReaction, RiskLevel
from cases.files import selectors
from cases.files import services as case_services
from cases.files.forms import FollowUpForm
from cases.files.views import case_context
from cases.followup import services as followup_services
from cases.followup.forms import CoverForm, interview_form_for
from cases.models import Case, Convocation, Cover, Proof, Report
from cases.workload.selectors import agent_breakdown
from measures.models import Measure
from partners import presentencing
from partners import services as partner_services
from partners.forms import ReferralProposeForm
from partners.models import PartnerBody, PresentencingMandate, serving_q
from spip.access import agent_of, scope_for
from spip.audit import audit_denied, audit_page, audit_view, get_visible_or_404
from spip.choices import Role
from spip.communes import commune_for
from spip.models import Agent
from spip.normalize import search_key
from spip.validation import errors_onto

SORTS = {
    "nom": ("person__birth_name", "person__first_names"),
    "risque": ("risk_level", "person__birth_name"),
    "contact": ("last_contact", "person__birth_name"),
    "rdv": ("next_convocation", "person__birth_name"),
    "alertes": ("-open_alerts", "person__birth_name"),
}

# Past convocations without an outcome, and absences without a follow-up: rows per page.
DAY_LIST_PAGE = 20


def _agent(user) -> Agent:
    scope = scope_for(user)
    if scope.role != Role.CPIP or scope.agent_id is None:
        raise PermissionDenied
    return agent_of(user)


@login_required
def caseload(request):

    agent = _agent(request.user)
    cases = selectors.caseload(request.user, agent)
    q = request.GET.get("q", "").strip()
    if q:
        cases = cases.filter(person__search_key__contains=search_key(q))
    risk = request.GET.get("risque", "")
    if risk in RiskLevel.values:
        cases = cases.filter(risk_level=risk)
    setting = request.GET.get("milieu", "")
    if setting in CaseSetting.values:
        cases = cases.filter(setting=setting)
    measure = request.GET.get("mesure", "").upper()
    if measure:
        cases = cases.filter(
            measures__measure_type__code=measure, measures__actual_end_date__isnull=True
        ).distinct()
    if request.GET.get("alerte") == "1":
        cases = cases.filter(open_alerts__gt=0)
    sort = request.GET.get("tri", "nom")
    cases = cases.order_by(*SORTS.get(sort, SORTS["nom"]), "id")
    rows = cases.prefetch_related(None).values(*selectors.CASELOAD_COLUMNS)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    lines = selectors.caseload_lines(list(page.object_list), agent)
    audit_page(request, "cases.case", lines, _("Portefeuille"))
    load = agent_breakdown(agent, timezone.localdate())
    return render(
        request,
        "cases/caseload.html",
        {
            "agent": agent,
            "page_obj": page,
            "lines": lines,
            "risk_summary": f"{load['high']} / {load['moderate']} / {load['low']} / {load['not_assessed']}",
            "load": load,
            "sort": sort,
            "risk_levels": RiskLevel.choices,
            "settings": CaseSetting.choices,
            "filters": {
                "q": q,
                "risque": risk,
                "milieu": setting,
                "mesure": measure,
                "alerte": request.GET.get("alerte", ""),
            },
        },
    )


def _tomorrow():
    """Midnight ahead, local time: an appointment from then on has no outcome yet."""
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))


@login_required
def day(request):
    agent = _agent(request.user)
    days = 7 if request.GET.get("vue") == "semaine" else 1
    context = agenda_selectors.agenda(request.user, agent, days=days)
    context["upcoming"] = list(context["upcoming"])
    # The backlogs can be long (a CPIP back from leave): a page of each at a time.
    for key, param in (("to_record", "issues"), ("missed_without_reaction", "absences")):
        context[key] = Paginator(context[key], DAY_LIST_PAGE).get_page(request.GET.get(param))
        context[f"{key}_param"] = param
    audit_page(
        request,
        "cases.convocation",
        [
            *context["upcoming"],
            *context["to_record"].object_list,
            *context["missed_without_reaction"].object_list,
        ],
        _("Convocations du jour"),
    )
    return render(
        request,
        "cases/day.html",
        {
            **context,
            "agent": agent,
            "week": days == 7,
            "reactions": MissedReaction.choices,
            "now": timezone.now(),
            "tomorrow": _tomorrow(),
        },
    )


@login_required
@require_POST
def convocation_send(request, pk: int):
    """Send the convocation to the person again (SMS, email), from the day list or the
    case file: after a reschedule, or when the person lost it."""
    convocation = get_visible_or_404(
        request.user, Convocation.objects.select_related("case__person"), pk=pk
    )
    if not scope_for(request.user).records_interviews:
        raise PermissionDenied
    try:
        channels = agenda_services.convocation_send(actor=request.user, convocation=convocation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        labels = {"sms": _("SMS"), "email": _("courriel")}
        messages.success(
            request,
            _("Convocation du %(date)s envoyée à %(person)s (%(channels)s).")
            % {
                "date": timezone.localtime(convocation.starts_at).strftime("%d/%m/%Y %H:%M"),
                "person": convocation.case.person,
                "channels": ", ".join(labels[c] for c in channels),
            },
        )
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("workspace:day")


@login_required
@require_POST
def convocation_outcome(request, pk: int):
    """One click: honoured / missed / excused (with a reason) / cancelled. htmx swaps the row."""
    convocation = get_visible_or_404(
        request.user, Convocation.objects.select_related("case__person"), pk=pk
    )
    if not scope_for(request.user).records_interviews:
        raise PermissionDenied
    error = ""
    try:
        if request.POST.get("reaction"):
            try:
                new_at = parse_datetime(request.POST.get("new_at", "") or "")
            except ValueError:
                new_at = None  # an impossible date: the service asks for one
            if new_at is not None and timezone.is_naive(new_at):
                new_at = timezone.make_aware(new_at)
            agenda_services.convocation_react(
                actor=request.user,
                convocation=convocation,
                reaction=request.POST["reaction"],
                new_at=new_at,
            )
        elif request.POST.get("status") == "cancelled":
            # Cancelling also drops the pending reminder and tells the person.
            convocation_cancel(
                actor=request.user,
                convocation=convocation,
                reason=request.POST.get("reason", "").strip() or "Annulée par le SPIP",
            )
        else:
            booking.convocation_set_outcome(
                actor=request.user,
                convocation=convocation,
                status=request.POST.get("status", ""),
                reason=request.POST.get("reason", "").strip(),
            )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    convocation.refresh_from_db()
    if request.htmx:
        return render(
            request,
            "cases/_convocation_row.html",
            {
                "c": convocation,
                "error": error,
                "reactions": MissedReaction.choices,
                "now": timezone.now(),
                "tomorrow": _tomorrow(),
            },
        )
    if error:
        messages.error(request, error)
    return redirect("workspace:day")


@login_required
@require_POST
def interview_log(request, pk: int):
    """Log an interview on a case the user can see (others: 404 and an audit row)."""
    scope = scope_for(request.user)
    case = Case.objects.visible_to(request.user).filter(pk=pk).first()
    if case is None or not scope.records_interviews or scope.agent_id is None:
        audit_denied(
            actor=request.user,
            object_type="cases.case",
            object_id=pk,
            what="Saisie d'entretien refusée",
        )
        raise Http404
    form = interview_form_for(case, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        raw = request.POST.get("convocation", "")
        convocation = (
            Convocation.objects.filter(case=case, pk=int(raw)).first() if raw.isdigit() else None
        )
        try:
            followup_services.interview_log(
                actor=request.user,
                case=case,
                agent=Agent.objects.get(pk=scope.agent_id),
                held_at=data["held_at"],
                kind=data["kind"],
                duration_minutes=data["duration_minutes"],
                attendance=data["attendance"],
                notes=data["notes"],
                private_notes=data["private_notes"],
                convocation=convocation,
                proofs=form.proofs(),
                next_at=data.get("next_at"),
                next_slot=data.get("next_slot"),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Entretien enregistré."))
            return redirect("cases:detail", pk=case.pk)

    audit_view(actor=request.user, obj=case)
    return render(
        request,
        "cases/case_detail.html",
        case_context(request, case, interview_form=form),
        status=400,
    )


@login_required
@require_POST
def follow_up(request, pk: int):
    case = get_visible_or_404(request.user, Case.objects, pk=pk)
    scope = scope_for(request.user)
    if not scope.records_interviews:
        raise PermissionDenied
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            case_services.case_follow_up_update(
                actor=request.user,
                case=case,
                version=form.cleaned_data["version"],
                risk_level=form.cleaned_data["risk_level"],
                intensity=form.cleaned_data["intensity"],
                reason=form.cleaned_data["reason"],
                agent=Agent.objects.filter(pk=scope.agent_id or 0).first(),
            )
            messages.success(request, _("Suivi mis à jour."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Indiquez le niveau de risque, l'intensité et le motif."))
    return redirect("cases:detail", pk=case.pk)


@login_required
def referral_new(request, pk: int):
    """Refer the person to a partner from the case file: the partners serving the
    person's commune (or, not known, the service) first; outside a partner's domain or
    territory, a reason."""
    case = get_visible_or_404(request.user, Case.objects.select_related("person"), pk=pk)
    if not scope_for(request.user).records_interviews:
        raise PermissionDenied
    commune = commune_for(case.person.postal_code, case.person.commune)
    serving = PartnerBody.objects.filter(
        serving_q(commune) if commune else Q(services=case.service_id)
    ).values("pk")
    partners = (
        PartnerBody.objects.visible_to(request.user)
        .annotate(serves=DbCase(When(pk__in=serving, then=Value(1)), default=Value(0)))
        .order_by("-serves", "name")
    )
    form = ReferralProposeForm(request.POST or None, partners=partners)
    if request.method != "POST":
        audit_view(actor=request.user, obj=case)  # the page names the person
    if request.method == "POST" and form.is_valid():
        try:
            referral = partner_services.referral_propose(
                actor=request.user, case=case, **form.cleaned_data
            )
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(
                request,
                _("Orientation proposée à %(partner)s.") % {"partner": referral.partner},
            )
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "cases/referral_new.html",
        {"case": case, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def presentencing_handover(request, pk: int, record_id: int):
    """The CPIP confirms the association's record proposed in the case file."""
    case = get_visible_or_404(request.user, Case.objects.select_related("person"), pk=pk)
    record = PresentencingMandate.objects.filter(pk=record_id).first()
    try:
        if record is None:
            raise ValidationError(_("Ce mandat ne correspond pas à la personne de ce dossier."))
        presentencing.presentencing_handover(actor=request.user, record=record, case=case)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Synthèse de l'association jointe au dossier (%(partner)s).")
            % {"partner": record.partner},
        )
    return redirect("cases:detail", pk=case.pk)


@login_required
def proof_file(request, pk: int, proof_id: int):
    """Proofs are served only through here, to those who may read the file."""
    proof = get_visible_or_404(request.user, Proof.objects, pk=proof_id, case_id=pk)
    audit_view(actor=request.user, obj=proof)
    response = FileResponse(proof.file.open("rb"), content_type=proof.content_type)
    response["Content-Disposition"] = (
        f'inline; filename="justificatif-{proof.pk}.{proof.file.name.rsplit(".", 1)[-1]}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def cover_end(request, pk: int):
    """End a running cover today: the CPIP is back and answers for their cases again."""
    scope = scope_for(request.user)
    if not scope.allocates:
        raise PermissionDenied
    cover = get_visible_or_404(request.user, Cover.objects, pk=pk)
    try:
        followup_services.cover_end(actor=request.user, cover=cover)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Intérim terminé : l'agent reprend ses dossiers."))
    return redirect("workspace:covers")


@login_required
def covers(request):
    """A head of antenna names a temporary referent while a CPIP is away."""
    scope = scope_for(request.user)
    if not scope.allocates:
        raise PermissionDenied
    agents = Agent.objects.visible_to(request.user).filter(role=Role.CPIP).select_related("user")
    if scope.role == Role.DPIP and scope.antenna_id:
        agents = agents.filter(antenna_id=scope.antenna_id)
    form = CoverForm(request.POST or None, agents=agents)
    if request.method == "POST" and form.is_valid():
        by_id = {a.pk: a for a in agents}
        try:
            followup_services.cover_create(
                actor=request.user,
                absent=by_id[form.cleaned_data["absent_agent"]],
                covering=by_id[form.cleaned_data["covering_agent"]],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Intérim enregistré."))
            return redirect("workspace:covers")
    current = (
        Cover.objects.visible_to(request.user)
        .filter(ends_on__gte=timezone.localdate())
        .select_related("absent_agent__user", "covering_agent__user")
    )
    return render(
        request,
        "cases/covers.html",
        {"form": form, "covers": current, "today": timezone.localdate()},
    )


@login_required
@require_POST
def report_new(request, pk: int):
    case = get_visible_or_404(request.user, Case.objects, pk=pk)
    scope = scope_for(request.user)
    if not scope.records_interviews:
        raise PermissionDenied
    try:
        report = followup_services.report_draft(
            actor=request.user,
            case=case,
            kind=request.POST.get("kind", ""),
            author=Agent.objects.filter(pk=scope.agent_id or 0).first(),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("cases:detail", pk=case.pk)
    return redirect("cases:report", pk=case.pk, report_id=report.pk)


@login_required
def report_edit(request, pk: int, report_id: int):

    report = get_visible_or_404(
        request.user,
        Report.objects.select_related("case__person", "measure"),
        pk=report_id,
        case_id=pk,
    )
    scope = scope_for(request.user)
    error = ""
    if request.method == "POST":
        if not scope.records_interviews:
            raise PermissionDenied
        try:
            followup_services.report_update(
                actor=request.user,
                report=report,
                body=request.POST.get("body", ""),
                send="send" in request.POST,
                author=Agent.objects.filter(pk=scope.agent_id or 0).first(),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
            if "send" in request.POST:
                # Sending refused: what was typed is kept as the draft all the same.
                try:
                    followup_services.report_update(
                        actor=request.user, report=report, body=request.POST.get("body", "")
                    )
                    report.refresh_from_db()
                    error = _("Brouillon enregistré, mais pas transmis. %(why)s") % {"why": error}
                except ValidationError:
                    pass
        else:
            messages.success(
                request,
                _("Rapport enregistré.") if "send" not in request.POST else _("Rapport transmis."),
            )
            return redirect("cases:report", pk=pk, report_id=report.pk)
    else:
        audit_view(actor=request.user, obj=report)
    return render(
        request,
        "cases/report.html",
        {"report": report, "case": report.case, "error": error},
        status=400 if error else 200,
    )


def report_document(report) -> str:
    """The report as the judge receives it (HTML for the PDF): sender, addressee (the
    judge of the measure reported on, else of the case's latest measure), references,
    the text, and the signature block."""
    measure = report.measure or (
        Measure.objects.filter(case=report.case)
        .select_related("court", "measure_type")
        .order_by("-judgment_date", "-id")
        .first()
    )
    return render_to_string(
        "cases/report_pdf.html",
        {
            "report": report,
            "case": report.case,
            "measure": measure,
            "court": measure.court if measure else None,
            "today": timezone.localdate(),
        },
    )


@login_required
def report_pdf(request, pk: int, report_id: int):
    """The report as a PDF (WeasyPrint), from an HTML template: escaped like any page."""

    report = get_visible_or_404(
        request.user,
        Report.objects.select_related(
            "case__person",
            "case__service",
            "case__antenna",
            "measure__measure_type",
            "measure__court",
            "author__user",
        ),
        pk=report_id,
        case_id=pk,
    )
    audit_view(actor=request.user, obj=report)
    html = report_document(report)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="rapport-{report.pk}.pdf"'
    return response
