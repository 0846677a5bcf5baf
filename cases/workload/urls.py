from django.urls import path

from cases.workload import views

app_name = "workload"
urlpatterns = [
    path("arrivees/", views.arrivals, name="arrivals"),
    path("arrivees/attribution-groupee/", views.allocate_bulk, name="allocate-bulk"),
    path("arrivees/<int:pk>/attribuer/", views.allocate, name="allocate"),
    path("charge/agents/<int:pk>/", views.agent_load, name="agent-load"),
    path("tableaux/dossiers/<int:pk>/reaffecter/", views.reassign, name="reassign"),
]
