"""Duplicates: the director's review list, the side-by-side preview, merge and undo."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.files import merges
from cases.models import Case, Person, PersonMerge
from spip.access import scope_for
from spip.audit import audit_page, get_visible_or_404


def _director(user):
    if not scope_for(user).allocates:
        raise PermissionDenied


@login_required
def duplicate_list(request):
    _director(request.user)
    found = merges.candidates(request.user)
    done = list(PersonMerge.objects.visible_to(request.user).select_related("kept", "merged")[:20])
    audit_page(
        request,
        "cases.person",
        [c.first for c in found] + [c.second for c in found],
        _("Doublons probables"),
    )
    return render(request, "cases/duplicates.html", {"candidates": found, "merges": done})


@login_required
def duplicate_preview(request, first: int, second: int):
    """Both records side by side with their files; merge with a reason."""
    _director(request.user)
    a = get_visible_or_404(request.user, Person.objects, pk=first)
    b = get_visible_or_404(request.user, Person.objects, pk=second)
    if request.method == "POST":
        kept, merged = (b, a) if request.POST.get("kept") == str(b.pk) else (a, b)
        try:
            merges.person_merge(
                actor=request.user, kept=kept, merged=merged, reason=request.POST.get("reason", "")
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Fiches fusionnées : %(kept)s.") % {"kept": kept})
            return redirect("cases:duplicates")
    files = {
        p.pk: list(Case.objects.visible_to(request.user).filter(person=p).select_related("service"))
        for p in (a, b)
    }
    audit_page(request, "cases.person", [a, b], _("Comparaison de fiches"))
    return render(
        request,
        "cases/duplicate_preview.html",
        {
            "pair": [(a, files[a.pk]), (b, files[b.pk])],
            "rule": merges.same_person_rule(a, b),
            "first": a,
            "second": b,
        },
    )


@login_required
@require_POST
def merge_undo(request, pk: int):
    _director(request.user)
    merge = get_visible_or_404(request.user, PersonMerge.objects, pk=pk)
    try:
        merges.person_unmerge(actor=request.user, merge=merge)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Fusion annulée : les dossiers sont revenus à leur fiche."))
    return redirect("cases:duplicates")
