from django.contrib import admin
from django.urls import path

from pulpanalytics import api, monitoring, open_views, views

# The admin's modules, registered here rather than at start-up (settings.INSTALLED_APPS).
admin.autodiscover()

urlpatterns = [
    path("", views.root, name="root"),
    path("plugins/", views.plugin_list, name="plugin-list"),
    path("plugins/<path:name>/", views.plugin_detail, name="plugin-detail"),
    path("fleet/", views.fleet, name="fleet"),
    path("about/", views.about, name="about"),
    path("compatibility/", views.compatibility, name="compatibility"),
    path("upgrades/", views.upgrades, name="upgrades"),
    path("api/v1/summaries/", api.summary_list, name="summary-list"),
    path("api/v1/summaries/<str:day>/", api.summary_detail, name="summary-detail"),
    path("api/v1/cohorts/", api.cohort_list, name="cohort-list"),
    path("api/v1/charts/", api.chart_list, name="chart-list"),
    path("api/v1/charts/<str:chart>/", api.chart_detail, name="chart-detail"),
    path("api/v1/components/<str:name>/releases/", api.component_releases, name="releases"),
    path("api/v1/components/<str:name>/floor/", api.component_floor, name="floor"),
    path("api/v1/impact/", api.impact, name="impact"),
    path("api/v1/openapi.json", api.openapi_document, name="openapi"),
    path("api/v1/alerts/", open_views.alert_list, name="alert-list"),
    path("api/v1/badges/<str:component>.json", open_views.badge_json, name="badge-json"),
    path("badges/<str:component>.svg", open_views.badge_svg, name="badge-svg"),
    path("data/", open_views.data_index, name="data-index"),
    path("data/<str:name>", open_views.data_file, name="data-file"),
    path("admin/", admin.site.urls),
    # Unauthenticated probes for the platform (see openshift/deployment.yaml); /metrics checks its
    # own token.
    path("healthz", monitoring.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("metrics", monitoring.prometheus_metrics, name="prometheus-metrics"),
    # Last: the chart pages of pulpanalytics.pages (/deployments/, /rbac/, ...), looked up by slug.
    path("<slug:slug>/", views.chart_page, name="chart-page"),
]
