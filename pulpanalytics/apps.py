from django.apps import AppConfig


class PulpAnalyticsConfig(AppConfig):
    name = "pulpanalytics"
    verbose_name = "Pulp analytics"
