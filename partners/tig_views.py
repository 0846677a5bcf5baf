"""TIG pages: the host's posts and the people placed on them, one placement's ledger and
sessions (the tutor's phone page), a group session, placing a measure on a post; and the
pre-sentencing records of an association."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from measures.choices import EndReason
from measures.models import Measure
from measures.services import measure_end
from partners import presentencing, services, tig
from partners.choices import TigOutcome
from partners.forms_tig import PresentencingForm, TigGroupTimeForm, TigPlaceForm, TigSessionForm
from partners.models import (
    PartnerBody,
    PresentencingMandate,
    TigPlacement,
    TigPost,
    TigSession,
)
from spip.access import SPIP_ROLES, scope_for
from spip.audit import audit_page, audit_view, get_visible_or_404
from spip.choices import Role
from spip.validation import errors_onto


def _tig_reader(user):
    """The host's staff and the SPIP's; not the court, not the aggregate roles."""
    scope = scope_for(user)
    if scope.role != Role.PARTNER and not (scope.role in SPIP_ROLES or scope.is_admin):
        raise PermissionDenied
    return scope


@login_required
def tig_posts(request):
    """A host's posts with who is placed on them; for SPIP staff, the posts on offer
    (those serving their service first)."""
    scope = _tig_reader(request.user)
    posts = tig.posts_with_occupancy(
        TigPost.objects.visible_to(request.user).select_related("partner")
    )
    if scope.role != Role.PARTNER and scope.service_id:
        posts = posts.filter(partner__services=scope.service_id)
    placements = (
        TigPlacement.objects.visible_to(request.user)
        .filter(ends_on__isnull=True, post__in=posts)
        .select_related("measure__case__person", "post")
        .order_by("post_id", "measure__case__person__birth_name")
    )
    by_post: dict[int, list] = {}
    for p in placements:
        by_post.setdefault(p.post_id, []).append(p)
    page = Paginator(posts.order_by("partner__name", "title"), 25).get_page(request.GET.get("page"))
    for post in page.object_list:
        post.open_placements = by_post.get(post.pk, [])
    audit_page(request, "partners.tigplacement", placements, _("Postes de TIG"))
    return render(
        request,
        "partners/tig_posts.html",
        {"page_obj": page, "host": scope.role == Role.PARTNER},
    )


def _ledger_context(request, placement, form, status=200):
    scope = scope_for(request.user)
    ledger = tig.ledger(placement.measure)
    follows = scope.records_interviews and scope.role != Role.PARTNER
    return render(
        request,
        "partners/tig_placement.html",
        {
            "placement": placement,
            "person": placement.measure.case.person,
            "measure": placement.measure,
            "ledger": ledger,
            "hours": {
                "ordered": tig.hours_label(ledger.ordered_minutes) if ledger else "",
                "done": tig.hours_label(ledger.done_minutes) if ledger else "",
                "remaining": tig.hours_label(ledger.remaining_minutes) if ledger else "",
                "weekly": tig.hours_label(ledger.weekly_minutes)
                if ledger and ledger.weekly_minutes
                else "",
            },
            "sessions": TigSession.objects.visible_to(request.user).filter(placement=placement),
            "form": form,
            "follows": follows,
            "can_close": follows
            and ledger is not None
            and ledger.complete
            and placement.measure.actual_end_date is None,
        },
        status=status,
    )


@login_required
def tig_placement(request, pk: int):
    """One placement: the ledger, the sessions, the session form (phone first)."""
    _tig_reader(request.user)
    placement = get_visible_or_404(
        request.user,
        TigPlacement.objects.select_related("measure__case__person", "post__partner"),
        pk=pk,
    )
    form = TigSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ((session, created),) = tig.tig_sessions_record(
                actor=request.user,
                on=data["on"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                rows=[
                    tig.SessionInput(
                        placement=placement,
                        outcome=data["outcome"],
                        behaviour=data["behaviour"],
                        work_quality=data["work_quality"],
                        note=data["note"],
                    )
                ],
            )
        except ValidationError as error:
            errors_onto(form, error)
        else:
            if created:
                messages.success(request, _("Séance enregistrée."))
            else:
                messages.info(request, _("Cette séance était déjà enregistrée."))
            return redirect("partners:tig-placement", pk=placement.pk)
    elif request.method != "POST":
        audit_view(actor=request.user, obj=placement)
    return _ledger_context(request, placement, form, status=400 if form.errors else 200)


@login_required
def tig_placement_close(request, pk: int):
    """The CPIP ends a placement; when the hours are done, the measure with it."""
    scope = _tig_reader(request.user)
    if request.method != "POST" or not scope.records_interviews or scope.role == Role.PARTNER:
        raise PermissionDenied
    placement = get_visible_or_404(
        request.user, TigPlacement.objects.select_related("measure__case"), pk=pk
    )
    today = timezone.localdate()
    ledger = tig.ledger(placement.measure)
    try:
        if placement.ends_on is None:
            tig.tig_placement_end(actor=request.user, placement=placement, on=today)
        if ledger and ledger.complete and placement.measure.actual_end_date is None:
            measure_end(
                actor=request.user,
                measure=placement.measure,
                end_date=today,
                reason=EndReason.COMPLETED,
            )
            messages.success(
                request, _("TIG accompli : la mesure est close. Rédigez le rapport de fin.")
            )
            return redirect("cases:report-new", pk=placement.measure.case_id)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("partners:tig-placement", pk=placement.pk)
    messages.success(request, _("Placement terminé."))
    return redirect("cases:detail", pk=placement.measure.case_id)


@login_required
def tig_group_session(request, pk: int):
    """A group session on one post: the time once, each person's outcome."""
    _tig_reader(request.user)
    post = get_visible_or_404(request.user, TigPost.objects.select_related("partner"), pk=pk)
    form = TigGroupTimeForm(request.POST or None, initial={"on": timezone.localdate()})
    day = timezone.localdate()
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["on"]
    people = list(
        tig.open_placements_on(post, day).filter(
            pk__in=TigPlacement.objects.visible_to(request.user).values("pk")
        )
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        rows = [
            tig.SessionInput(
                placement=p,
                outcome=request.POST.get(f"outcome-{p.pk}", ""),
                behaviour=request.POST.get(f"behaviour-{p.pk}", ""),
                work_quality=request.POST.get(f"quality-{p.pk}", ""),
            )
            for p in people
            if request.POST.get(f"outcome-{p.pk}")
        ]
        try:
            results = tig.tig_sessions_record(
                actor=request.user,
                on=data["on"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                rows=rows,
            )
        except ValidationError as error:
            errors_onto(form, error)
        else:
            new = sum(1 for _s, created in results if created)
            messages.success(
                request,
                _("Séance de groupe : %(new)s enregistrée(s), %(same)s déjà présente(s).")
                % {"new": new, "same": len(results) - new},
            )
            return redirect("partners:tig-posts")
    return render(
        request,
        "partners/tig_group.html",
        {"post": post, "form": form, "people": people, "outcomes": TigOutcome.choices},
        status=400 if form.errors else 200,
    )


@login_required
def tig_place(request, measure_id: int):
    """The CPIP places a TIG measure on a post serving the case's service."""
    scope = _tig_reader(request.user)
    if not scope.records_interviews or scope.role == Role.PARTNER:
        raise PermissionDenied
    measure = get_visible_or_404(
        request.user, Measure.objects.select_related("case__person"), pk=measure_id
    )
    posts = tig.posts_with_occupancy(
        TigPost.objects.visible_to(request.user)
        .filter(active=True, partner__services=measure.case.service_id)
        .select_related("partner")
    ).order_by("partner__name", "title")
    form = TigPlaceForm(
        request.POST or None, posts=posts, initial={"starts_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            placement = tig.tig_place(actor=request.user, measure=measure, **form.cleaned_data)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Placement enregistré."))
            return redirect("partners:tig-placement", pk=placement.pk)
    elif request.method != "POST":
        audit_view(actor=request.user, obj=measure.case)
    return render(
        request,
        "partners/tig_place.html",
        {"measure": measure, "case": measure.case, "form": form, "posts": posts},
        status=400 if form.errors else 200,
    )


@login_required
def measure_entrust(request, measure_id: int):
    """The court kept an association for the follow-up (471 CPP): recorded from the case
    file by the SPIP."""
    if request.method != "POST":
        raise PermissionDenied
    measure = get_visible_or_404(
        request.user, Measure.objects.select_related("case"), pk=measure_id
    )
    partner = (
        PartnerBody.objects.visible_to(request.user)
        .filter(
            pk=request.POST.get("partner")
            if str(request.POST.get("partner", "")).isdigit()
            else None
        )
        .first()
    )
    try:
        if partner is None:
            raise ValidationError(_("Choisissez l'association."))
        services.measure_entrust(actor=request.user, measure=measure, partner=partner)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("Suivi de la mesure confié à %(partner)s.") % {"partner": partner}
        )
    return redirect("cases:detail", pk=measure.case_id)


# --- Pre-sentencing -----------------------------------------------------------------------


@login_required
def presentencing_list(request):
    """The association's pre-sentencing records, and whether each was handed over."""
    scope = scope_for(request.user)
    if scope.role != Role.PARTNER:
        raise PermissionDenied
    form = PresentencingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            presentencing.presentencing_record(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Mandat enregistré."))
            return redirect("partners:presentencing")
    rows = PresentencingMandate.objects.visible_to(request.user).select_related("case__service")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    audit_page(request, "partners.presentencingmandate", page.object_list, _("Présentenciel"))
    return render(
        request,
        "partners/presentencing.html",
        {"page_obj": page, "form": form},
        status=400 if form.errors else 200,
    )
