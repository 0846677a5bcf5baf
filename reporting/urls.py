from django.urls import path

from reporting import views

app_name = "reporting"
urlpatterns = [
    path("charge/recalculer/", views.recompute, name="recompute"),
    path("charge/executions/<int:pk>/", views.job, name="job"),
    path("tableaux/equipe/", views.team, name="team"),
    path("tableaux/delais/", views.delays, name="delays"),
    path("tableaux/delais/hors-delai/", views.late, name="late"),
    path("tableaux/absences/", views.missed, name="missed"),
    path("tableaux/issues/", views.outcomes, name="outcomes"),
    path("tableaux/services/", views.network, name="network"),
    path("tableaux/effectifs/", views.staffing, name="staffing"),
    path("tableaux/export/", views.national_export, name="export"),
    path("tableaux/export/<int:pk>/", views.export_job, name="export-job"),
    path("tableaux/export/<int:pk>/fichier/", views.export_download, name="export-download"),
]
