from django.contrib import admin
from django.urls import path

from pulpanalytics import api, monitoring, views

urlpatterns = [
    path("", views.root, name="root"),
    path("api/v1/summaries/", api.summary_list, name="summary-list"),
    path("api/v1/summaries/<str:day>/", api.summary_detail, name="summary-detail"),
    path("admin/", admin.site.urls),
    # Unauthenticated probes for the platform (see openshift/deployment.yaml); /metrics checks its
    # own token.
    path("healthz", monitoring.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
]
