from django.urls import path

from cases.alerts import views

app_name = "alerts"
urlpatterns = [
    path("alertes/<int:pk>/reporter/", views.alert_snooze, name="snooze"),
]
