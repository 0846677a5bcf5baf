"""The BEX desk: at the end of the hearing, one screen from the person to the printed
convocation (person, measure, competent antenna, earliest slots with their deadline)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from weasyprint import HTML

from cases.agenda import hearing
from cases.agenda import services as booking
from cases.agenda.forms import SEARCH_FIELDS, DeskForm, PersonSearchForm
from cases.choices import ConvocationStatus, ConvocationType
from cases.files.selectors import IDENTITY_FIELDS, person_search
from cases.models import Convocation, Person
from measures.models import ImposedObligation, in_legal_order
from spip import access
from spip.access import scope_for
from spip.audit import audit_view, get_visible_or_404
from spip.choices import Role
from spip.models import Agent, Antenna
from spip.validation import errors_onto

PERSON_FIELDS = hearing.DESK_PERSON_FIELDS


def _clerk(user) -> Agent:
    scope = scope_for(user)
    if scope.role != Role.BEX_CLERK:
        raise PermissionDenied
    return Agent.objects.select_related("court").get(pk=scope.agent_id or 0)


def _antennas(clerk: Agent):
    return (
        Antenna.objects.visible_to(clerk.user)
        .select_related("service")
        .order_by("service__code", "name")
    )


# The ids the clerk's last identity searches returned: only those can be chosen.
FOUND_KEY = "bex_found_persons"
# The likely duplicates shown when the slots were proposed: booking must answer them.
DUPLICATES_KEY = "bex_likely_duplicates"


def _remember(request, people) -> None:
    found = request.session.get(FOUND_KEY, [])
    request.session[FOUND_KEY] = (found + [p.pk for p in people])[-50:]


def _person_pool(request):
    """Persons the clerk may attach a new measure to: those they may read, and those
    their identity searches returned in this session."""
    return Person.objects.filter(
        access.person_q(request.user)
        | (access.person_search_q(request.user) & Q(pk__in=request.session.get(FOUND_KEY, [])))
    )


@login_required
def desk(request):
    clerk = _clerk(request.user)
    antennas = list(_antennas(clerk))
    search = PersonSearchForm(request.GET if "nom" in request.GET else None)
    matches = []
    if search.is_bound and search.is_valid():
        try:
            matches = person_search(
                request.user,
                surname=search.cleaned_data["nom"],
                first_name=search.cleaned_data["prenom"],
                birth_date=search.cleaned_data["naissance"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                search.add_error(SEARCH_FIELDS.get(field), errors)
        else:
            _remember(request, matches)
    wanted = request.GET.get("personne", "")
    chosen = (
        _person_pool(request).filter(pk=int(wanted)).only(*IDENTITY_FIELDS).first()
        if wanted.isdigit() and len(wanted) < 12
        else None
    )
    q = search.is_bound
    context = {
        "clerk": clerk,
        "q": q,
        "search": search,
        "matches": matches,
        "chosen": chosen,
    }
    if request.method != "POST":
        initial = {"person": chosen.pk} if chosen else {}
        if chosen:
            # Identity only: a person found by search keeps their contact details closed.
            initial |= {f: getattr(chosen, f) for f in IDENTITY_FIELDS if f in PERSON_FIELDS}
        context["form"] = DeskForm(initial=initial, antennas=antennas)
        return render(request, "cases/bex_desk.html", context)

    form = DeskForm(request.POST, antennas=antennas)
    # First pass: validate, propose the antenna and the slots; second pass: book.
    if not form.is_valid():
        return render(request, "cases/bex_desk.html", {**context, "form": form}, status=400)
    data = form.cleaned_data
    try:
        service = booking.service_for_postal_code(data["postal_code"])
    except ValidationError as exc:
        form.add_error("postal_code", exc.message_dict["postal_code"])
        return render(request, "cases/bex_desk.html", {**context, "form": form}, status=400)
    served = [a for a in antennas if a.service_id == service.pk]
    if not served:
        form.add_error(
            "postal_code",
            _("Le SPIP compétent pour cette adresse n'est pas destinataire de votre tribunal."),
        )
        return render(request, "cases/bex_desk.html", {**context, "form": form}, status=400)
    antenna = next((a for a in served if a.pk == data.get("antenna")), None) or next(
        (a for a in served if a.city.lower() == data["commune"].lower()), served[0]
    )
    deadline = booking.deadline_for(
        data["measure_type"],
        data["judgment_date"],
        enforceable=data["provisionally_enforceable"],
        subdivision=service.holiday_subdivision,
    )
    # Never a slot the person cannot reach: not before the service's lead time, and from
    # the day asked for or after the last slot shown when the clerk looks further ahead.
    start = timezone.now() + timedelta(minutes=service.desk_lead_minutes)
    if data.get("slots_from"):
        start = max(
            start, datetime.combine(data["slots_from"], time.min, ZoneInfo(service.time_zone))
        )
    if request.POST.get("action") == "later" and data.get("after"):
        start = max(start, data["after"] + timedelta(seconds=1))
    slots = booking.label_slots(
        list(booking.free_slots(antenna=antenna, now=start)[:12]), deadline, service.time_zone
    )
    duplicates = []
    # Looked up when the slots are proposed; booking then goes on from that page (one
    # search, one audit row, per person entered).
    if not data.get("person") and request.POST.get("action") != "book":
        duplicates = person_search(
            request.user,
            surname=data.get("usage_name") or data["birth_name"],
            first_name=data["first_names"],
            birth_date=data["birth_date"],
        )
        _remember(request, duplicates)
        request.session[DUPLICATES_KEY] = [p.pk for p in duplicates]
    form = DeskForm(request.POST, antennas=antennas, slots=slots)
    form.is_valid()
    form.data = form.data.copy()
    form.data["antenna"] = str(antenna.pk)
    if slots:
        form.data["after"] = slots[-1]["slot"].starts_at.isoformat()
    context |= {
        "form": form,
        "antenna": antenna,
        "service": service,
        "slots": slots,
        "deadline": deadline,
        "duplicates": duplicates,
        "any_beyond": any(not s["within"] for s in slots),
    }
    if request.POST.get("action") != "book" or not data.get("slot"):
        if request.POST.get("action") == "book":
            form.add_error("slot", _("Choisissez un créneau."))
        return render(request, "cases/bex_desk.html", context)
    # A likely duplicate shown at the previous step needs an answer: choose that person,
    # or say this is another one, and why (kept in the journal).
    likely = [] if data.get("person") else request.session.get(DUPLICATES_KEY, [])
    note = None
    if likely:
        reason = (data.get("not_duplicate_reason") or "").strip()
        if not (data.get("not_duplicate") and reason):
            form.add_error(
                "not_duplicate",
                _(
                    "Cette personne semble déjà connue : choisissez-la dans la liste, ou "
                    "confirmez qu'il s'agit d'une autre personne en indiquant ce qui les "
                    "distingue."
                ),
            )
            context["duplicates"] = Person.objects.filter(pk__in=likely).only(*IDENTITY_FIELDS)
            return render(request, "cases/bex_desk.html", context, status=400)
        note = {"distincte_de": likely, "motif": reason}
    try:
        convocation = hearing.hearing_convocation_book(
            actor=request.user,
            clerk=clerk,
            data=form.cleaned_data,
            antenna=antenna,
            persons=_person_pool(request),
            duplicate_note=note,
        )
        request.session.pop(DUPLICATES_KEY, None)
    except ValidationError as exc:
        errors_onto(form, exc)
        return render(request, "cases/bex_desk.html", context, status=400)
    return redirect("bex:convocation", pk=convocation.pk)


@login_required
def convocation(request, pk: int):
    conv = get_visible_or_404(
        request.user,
        Convocation.objects.select_related("case__person", "antenna"),
        pk=pk,
    )
    audit_view(actor=request.user, obj=conv)
    others = (
        Convocation.objects.visible_to(request.user)
        .filter(case=conv.case, measure=conv.measure)
        .exclude(pk=pk)
    )
    return render(
        request,
        "cases/bex_done.html",
        {"c": conv, "others": others, "notifications": conv.notifications.order_by("send_after")},
    )


@login_required
def convocation_pdf(request, pk: int):
    """The convocation handed to the person, re-printable later."""

    conv = get_visible_or_404(
        request.user,
        Convocation.objects.select_related(
            "case__person", "case__service", "antenna", "measure__measure_type", "measure__court"
        ),
        pk=pk,
    )
    audit_view(actor=request.user, obj=conv)
    zone = conv.case.service.time_zone
    obligations = in_legal_order(
        ImposedObligation.objects.filter(measure=conv.measure).select_related("obligation_type")
    )
    # The judge's convocation booked with it is printed on the same document.
    jap = (
        Convocation.objects.visible_to(request.user)
        .filter(
            case=conv.case,
            measure=conv.measure,
            kind=ConvocationType.JAP,
            status=ConvocationStatus.BOOKED,
        )
        .exclude(pk=conv.pk)
        .select_related("slot__agenda__court", "case__service")
        .first()
        if conv.measure_id and conv.kind != ConvocationType.JAP
        else None
    )
    html = render_to_string(
        "cases/convocation_pdf.html",
        {
            "c": conv,
            "local": booking.local_date(conv.starts_at, zone),
            "time": conv.starts_at.astimezone(booking.ZoneInfo(zone)),
            "obligations": obligations,
            "jap": jap,
            "jap_time": jap.starts_at.astimezone(booking.ZoneInfo(zone)) if jap else None,
            "jap_place": booking.convocation_place(jap) if jap else None,
        },
    )
    pdf = HTML(string=html).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="convocation-{conv.pk}.pdf"'
    return response
