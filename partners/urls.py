from django.urls import path

from partners import views

app_name = "partners"
urlpatterns = [
    path("", views.referral_list, name="referrals"),
    path("<int:pk>/", views.referral_detail, name="referral"),
    path("annuaire/", views.directory, name="directory"),
]
