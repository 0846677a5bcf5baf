from django.urls import path

from cases.agenda import desk as bex

app_name = "bex"
urlpatterns = [
    path("", bex.desk, name="desk"),
    path("convocations/<int:pk>/", bex.convocation, name="convocation"),
    path("convocations/<int:pk>/pdf/", bex.convocation_pdf, name="convocation-pdf"),
]
