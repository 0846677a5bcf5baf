from django.urls import path

from reporting import views

app_name = "reporting"
urlpatterns = [
    path("arrivees/", views.arrivals, name="arrivals"),
    path("arrivees/attribution-groupee/", views.allocate_bulk, name="allocate-bulk"),
    path("arrivees/<int:pk>/attribuer/", views.allocate, name="allocate"),
    path("charge/agents/<int:pk>/", views.agent_load, name="agent-load"),
    path("charge/recalculer/", views.recompute, name="recompute"),
    path("charge/executions/<int:pk>/", views.job, name="job"),
    path("alertes/<int:pk>/reporter/", views.alert_snooze, name="alert-snooze"),
]
