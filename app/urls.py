from django.contrib import admin
from django.urls import path

from pulpanalytics import monitoring, views

urlpatterns = [
    path("", views.root, name="root"),
    path("admin/", admin.site.urls),
    # Unauthenticated probes for the platform (see openshift/deployment.yaml); /metrics checks its
    # own token.
    path("healthz", monitoring.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
]
