from django.urls import path

from partners import tig_views, views

app_name = "partners"
urlpatterns = [
    path("", views.referral_list, name="referrals"),
    path("<int:pk>/", views.referral_detail, name="referral"),
    path("annuaire/", views.directory, name="directory"),
    path("tig/", tig_views.tig_posts, name="tig-posts"),
    path("tig/postes/<int:pk>/seance/", tig_views.tig_group_session, name="tig-group"),
    path("tig/placements/<int:pk>/", tig_views.tig_placement, name="tig-placement"),
    path(
        "tig/placements/<int:pk>/terminer/",
        tig_views.tig_placement_close,
        name="tig-placement-close",
    ),
    path("tig/mesures/<int:measure_id>/placer/", tig_views.tig_place, name="tig-place"),
    path("presentenciel/", tig_views.presentencing_list, name="presentencing"),
    path("mesures/<int:measure_id>/confier/", tig_views.measure_entrust, name="measure-entrust"),
]
