"""The import pages: upload, dry run, confirmation, progress, reconciliation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.imports import services
from cases.imports.forms import ImportForm
from cases.imports.models import CaseloadImport, ImportStatus
from cases.imports.reading import SCHEMA_PATH, schema
from spip.access import scope_for
from spip.audit import audit_page, get_visible_or_404
from spip.choices import Role
from spip.csvfile import csv_lines

EXAMPLE_PATH = SCHEMA_PATH.with_name("exemple_import.csv")
PREVIEW_ERRORS = 50


def _require_importer(user) -> None:
    s = scope_for(user)
    if not (s.is_admin or (s.role == Role.DSPIP and s.service_id)):
        raise PermissionDenied


@login_required
def import_list(request):
    """The imports of the service (all services for an administrator) and the upload."""
    _require_importer(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = services.import_upload(
            actor=request.user, service=form.target_service(), name=upload.name, data=upload.read()
        )
        _enqueue("caseload_import_check", record, request.user)
        return redirect("cases:import", pk=record.pk)
    imports = CaseloadImport.objects.visible_to(request.user).select_related(
        "service", "created_by"
    )[:20]
    return render(
        request,
        "cases/imports/list.html",
        {"form": form, "imports": imports, "schema": schema()},
    )


def _enqueue(task_name: str, record: CaseloadImport, user) -> None:
    from cases import tasks

    task = getattr(tasks, task_name)
    import_id, user_id = record.pk, user.pk
    transaction.on_commit(lambda: task.delay(import_id=import_id, user_id=user_id))


def _record(request, pk: int) -> CaseloadImport:
    _require_importer(request.user)
    return get_visible_or_404(
        request.user, CaseloadImport.objects.select_related("service", "created_by"), pk=pk
    )


@login_required
def import_detail(request, pk: int):
    record = _record(request, pk)
    context = {
        "record": record,
        "errors": services.line_errors(record)[:PREVIEW_ERRORS],
        "error_count": len(record.errors),
        "preview": PREVIEW_ERRORS,
    }
    if record.status in (ImportStatus.DONE, ImportStatus.FAILED) and record.result:
        context["reconciliation"] = services.reconciliation(record)
    if record.errors and not request.htmx:
        # The report quotes the file's cells: names, dates, addresses.
        audit_page(request, "cases.caseloadimport", [record.pk], _("Rapport d'erreurs d'import"))
    template = "cases/imports/_status.html" if request.htmx else "cases/imports/detail.html"
    return render(request, template, context)


@login_required
@require_POST
def import_confirm(request, pk: int):
    record = _record(request, pk)
    try:
        record = services.import_confirm(actor=request.user, record=record)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _enqueue("caseload_import_run", record, request.user)
    return redirect("cases:import", pk=record.pk)


@login_required
@require_POST
def import_abandon(request, pk: int):
    record = _record(request, pk)
    try:
        services.import_abandon(actor=request.user, record=record)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Import abandonné : le fichier déposé a été supprimé."))
    return redirect("cases:imports")


@login_required
def import_errors(request, pk: int):
    """The row-level error report (line, column, value, reason), as a spreadsheet reads it."""
    record = _record(request, pk)
    rows = services.line_errors(record)
    audit_page(request, "cases.caseloadimport", [record.pk], _("Rapport d'erreurs d'import"))
    response = StreamingHttpResponse(
        csv_lines([_("ligne"), _("colonne"), _("valeur"), _("motif")], rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="erreurs-import-{record.pk}.csv"'
    return response


@login_required
def import_example(request):
    """The example file of the format (fictitious persons)."""
    _require_importer(request.user)
    return FileResponse(
        EXAMPLE_PATH.open("rb"),
        as_attachment=True,
        filename="exemple_import.csv",
        content_type="text/csv; charset=utf-8",
    )
