from django.urls import path

from cases.agenda.desk import convocation_pdf
from cases.files import merge_views, release_views, transfer_views, views
from cases.followup import views as workspace
from cases.imports import views as imports

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/entretiens/nouveau/", workspace.interview_log, name="interview-new"),
    path("<int:pk>/suivi/", workspace.follow_up, name="follow-up"),
    path("<int:pk>/orientations/nouvelle/", workspace.referral_new, name="referral-new"),
    path("<int:pk>/transfert/", transfer_views.transfer_new, name="transfer-new"),
    path("<int:pk>/droit-d-acces/", views.access_request, name="access-request"),
    path("<int:pk>/conservation/", views.legal_hold, name="legal-hold"),
    path("conservation/", views.retention_page, name="retention"),
    path("<int:pk>/sortie/", release_views.release_action, name="release"),
    path("transferts/", transfer_views.transfer_list, name="transfers"),
    path("imports/", imports.import_list, name="imports"),
    path("imports/exemple.csv", imports.import_example, name="import-example"),
    path("imports/<int:pk>/", imports.import_detail, name="import"),
    path("imports/<int:pk>/confirmer/", imports.import_confirm, name="import-confirm"),
    path("imports/<int:pk>/abandonner/", imports.import_abandon, name="import-abandon"),
    path("imports/<int:pk>/erreurs.csv", imports.import_errors, name="import-errors"),
    path("doublons/", merge_views.duplicate_list, name="duplicates"),
    path("doublons/<int:first>/<int:second>/", merge_views.duplicate_preview, name="duplicate"),
    path("doublons/fusions/<int:pk>/annuler/", merge_views.merge_undo, name="merge-undo"),
    path("transferts/demande/", transfer_views.transfer_request, name="transfer-request"),
    path("transferts/<int:pk>/reponse/", transfer_views.transfer_answer, name="transfer-answer"),
    path(
        "<int:pk>/presentenciel/<int:record_id>/",
        workspace.presentencing_handover,
        name="presentencing-handover",
    ),
    path("<int:pk>/justificatifs/<int:proof_id>/", workspace.proof_file, name="proof"),
    path("<int:pk>/rapports/nouveau/", workspace.report_new, name="report-new"),
    path("<int:pk>/rapports/<int:report_id>/", workspace.report_edit, name="report"),
    path("<int:pk>/rapports/<int:report_id>/pdf/", workspace.report_pdf, name="report-pdf"),
    path("convocations/<int:pk>/issue/", workspace.convocation_outcome, name="convocation-outcome"),
    path("convocations/<int:pk>/pdf/", convocation_pdf, name="convocation-pdf"),
    path("convocations/<int:pk>/envoyer/", workspace.convocation_send, name="convocation-send"),
]

# Mounted at the root: the CPIP's own pages.
workspace_urlpatterns = [
    path("portefeuille/", workspace.caseload, name="caseload"),
    path("aujourdhui/", workspace.day, name="day"),
    path("interims/", workspace.covers, name="covers"),
    path("interims/<int:pk>/terminer/", workspace.cover_end, name="cover-end"),
]
