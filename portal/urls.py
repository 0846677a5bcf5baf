from csp.decorators import csp_update
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from cases.agenda.api import AgendaViewSet, ConvocationViewSet, SlotViewSet
from cases.alerts.api import AlertViewSet
from cases.files.api import CaseViewSet, PersonViewSet
from cases.files.merge_api import DuplicateViewSet
from cases.files.transfer_api import ReleaseViewSet, TransferViewSet
from cases.followup.api import AssessmentViewSet, IncidentViewSet, InterviewViewSet, ProofViewSet
from cases.urls import workspace_urlpatterns
from measures.api import MeasureTypeViewSet, MeasureViewSet, ObligationTypeViewSet
from partners import api_tig as partners_api
from partners.api import ReferralViewSet
from portal import views as portal_views
from reporting.api import ReportViewSet, WorkloadSnapshotViewSet
from spip import oidc, views
from spip.api import AgentViewSet, AntennaViewSet, ServiceViewSet

router = DefaultRouter()
router.register("services", ServiceViewSet, basename="service")
router.register("antennas", AntennaViewSet, basename="antenna")
router.register("agents", AgentViewSet, basename="agent")
router.register("persons", PersonViewSet, basename="person")
router.register("cases", CaseViewSet, basename="case")
router.register("measures", MeasureViewSet, basename="measure")
router.register("measure-types", MeasureTypeViewSet, basename="measuretype")
router.register("obligation-types", ObligationTypeViewSet, basename="obligationtype")
router.register("workload", WorkloadSnapshotViewSet, basename="workload")
router.register("interviews", InterviewViewSet, basename="interview")
router.register("agendas", AgendaViewSet, basename="agenda")
router.register("slots", SlotViewSet, basename="slot")
router.register("convocations", ConvocationViewSet, basename="convocation")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("proofs", ProofViewSet, basename="proof")
router.register("alerts", AlertViewSet, basename="alert")
router.register("reports", ReportViewSet, basename="report")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("releases", ReleaseViewSet, basename="release")
router.register("duplicates", DuplicateViewSet, basename="duplicate")
router.register("partners", partners_api.PartnerViewSet, basename="partner")
router.register("conventions", partners_api.ConventionViewSet, basename="convention")
router.register("tig-posts", partners_api.TigPostViewSet, basename="tig-post")
router.register("tig-placements", partners_api.TigPlacementViewSet, basename="tig-placement")
router.register("tig-sessions", partners_api.TigSessionViewSet, basename="tig-session")
router.register("presentencing", partners_api.PresentencingViewSet, basename="presentencing")

admin.site.site_header = "Suivi SPIP — administration"
admin.site.site_title = "Suivi SPIP"

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("conventions/", portal_views.conventions, name="conventions"),
    path("connexion/", oidc.LoginView.as_view(), name="login"),
    path("deconnexion/", oidc.LogoutView.as_view(), name="logout"),
    # ProConnect (404 unless PROCONNECT_ENABLED); the callback is the registered redirect URI.
    path("oidc/authenticate/", oidc.AuthenticateView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc_authentication_callback"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path(
        "accessibilite/",
        TemplateView.as_view(template_name="legal/accessibility.html"),
        name="accessibility",
    ),
    path(
        "mentions-legales/",
        TemplateView.as_view(template_name="legal/legal_notice.html"),
        name="legal-notice",
    ),
    path(
        "donnees-personnelles/",
        TemplateView.as_view(template_name="legal/personal_data.html"),
        name="personal-data",
    ),
    path("journal/", views.audit_list, name="audit-list"),
    path("dossiers/", include("cases.urls")),
    path("orientations/", include("partners.urls")),
    path("bex/", include("cases.agenda.urls")),
    path("", include((workspace_urlpatterns, "workspace"))),
    path("", include("cases.workload.urls")),
    path("", include("cases.alerts.urls")),
    path("", include("reporting.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI styles its widgets inline: the one page allowed inline styles (no script).
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="swagger-ui",
    ),
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("dsfr/dist/favicon/favicon.ico"), permanent=True),
    ),
]

handler404 = "portal.views.not_found"
