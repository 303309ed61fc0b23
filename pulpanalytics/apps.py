from django.apps import AppConfig
from django.core import checks


class PulpAnalyticsConfig(AppConfig):
    name = "pulpanalytics"
    verbose_name = "Pulp analytics"

    def ready(self) -> None:
        from pulpanalytics.checks import limits_share_one_store, protobuf_backend_is_upb

        checks.register(protobuf_backend_is_upb, "pulpanalytics")
        checks.register(limits_share_one_store, checks.Tags.caches)
