"""Staff admin: raw rows and the registry, read-only; look a system up by the id a person types."""

import json
import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from pulpanalytics import partitions, summarize, watchdog
from pulpanalytics.forget import forget_systems
from pulpanalytics.metrics.series import postgresql_label
from pulpanalytics.models import Alert, Component, DailySummary, Report, System
from pulpanalytics.system_ids import canonical_system_id, hash_system_id

logger = logging.getLogger(__name__)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Raw data is written only by ingest; removed only by the prune and by `forget`."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SystemIdSearchMixin:
    """The search box takes a system_id as sent (hashed before the lookup) or a hash prefix."""

    hash_field = "system_hash"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if canonical_system_id(term):
            return queryset.filter(**{self.hash_field: hash_system_id(term)}), False
        return queryset.filter(**{f"{self.hash_field}__startswith": term.lower()}), False


class AgeFilter(admin.SimpleListFilter):
    """A few ranges of age_days, not one choice per distinct age (hundreds of them)."""

    title = "age"
    parameter_name = "age"
    RANGES = {
        "0": ("new (0 days)", 0, 0),
        "1-6": ("1 to 6 days", 1, 6),
        "7-29": ("7 to 29 days", 7, 29),
        "30-89": ("30 to 89 days", 30, 89),
        "90-364": ("90 to 364 days", 90, 364),
        "365-": ("a year or more", 365, None),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(key, label) for key, (label, _, _) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in self.RANGES:
            return queryset
        _, low, high = self.RANGES[self.value()]
        queryset = queryset.filter(age_days__gte=low)
        return queryset if high is None else queryset.filter(age_days__lte=high)


@admin.register(System)
class SystemAdmin(SystemIdSearchMixin, ReadOnlyAdmin):
    list_display = ["short_hash", "first_seen", "last_seen", "reports"]
    readonly_fields = ["system_hash", "first_seen", "last_seen", "reports"]
    list_filter = ["first_seen", "last_seen"]
    date_hierarchy = "first_seen"
    search_fields = ["system_hash"]
    search_help_text = "Type a system_id (UUID) as the installation sends it, or a hash prefix."
    ordering = ["-last_seen", "id"]
    actions = ["forget"]

    @admin.display(description="system (hash)", ordering="system_hash")
    def short_hash(self, obj: System) -> str:
        return obj.system_hash[:16]

    @admin.display(description="reports")
    def reports(self, obj: System) -> str:
        url = reverse("admin:pulpanalytics_report_changelist") + f"?system__id__exact={obj.pk}"
        return format_html('<a href="{}">Its reports (raw rows kept)</a>', url)

    # A deletion request: the one way staff remove rows. Needs the delete_system permission,
    # which the read-only admin otherwise never uses.
    @admin.action(
        description="Forget the selected systems (delete all their rows)", permissions=["forget"]
    )
    def forget(self, request: HttpRequest, queryset: QuerySet) -> None:
        forgotten = forget_systems(system_hashes=queryset.values_list("system_hash", flat=True))
        # No LogEntry per system: its object_repr would keep a trace of what was forgotten.
        logger.info("%s forgot %s", request.user.get_username(), forgotten)
        self.message_user(request, f"Forgot {forgotten}.", messages.SUCCESS)

    def has_forget_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("pulpanalytics.delete_system")


class ComponentInline(admin.TabularInline):
    model = Component
    fields = ["name", "version"]
    readonly_fields = ["name", "version"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(SystemIdSearchMixin, ReadOnlyAdmin):
    list_display = ["day", "system_short_hash", "age_days", "core_version", "postgresql_version"]
    list_filter = ["day", AgeFilter]
    date_hierarchy = "day"
    search_fields = ["system__system_hash"]
    search_help_text = "Type a system_id (UUID) as the installation sends it, or a hash prefix."
    hash_field = "system__system_hash"
    list_select_related = ["system"]
    readonly_fields = ["system", "day", "age_days", "data"]
    inlines = [ComponentInline]
    ordering = ["-day", "id"]

    @admin.display(description="system (hash)")
    def system_short_hash(self, obj: Report) -> str:
        return obj.system.system_hash[:16]

    @admin.display(description="core")
    def core_version(self, obj: Report) -> str:
        core = next((c for c in obj.components.all() if c.name == "core"), None)
        return core.version if core else "-"

    @admin.display(description="PostgreSQL")
    def postgresql_version(self, obj: Report) -> str:
        number = obj.data.get("postgresql_version")
        return "-" if number is None else postgresql_label(int(number))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("components")


@admin.register(DailySummary)
class DailySummaryAdmin(admin.ModelAdmin):
    """Summaries by date; staff with the change permission can summarize and re-summarize."""

    list_display = ["date", "systems", "persistent_systems", "source", "computed_at"]
    list_filter = ["source"]
    date_hierarchy = "date"
    fields = ["date", "source", "computed_at", "summary"]
    readonly_fields = fields
    actions = ["resummarize"]
    change_list_template = "admin/pulpanalytics/dailysummary/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A summary whose raw rows were pruned could never be made again.
        return False

    def has_summarize_permission(self, request: HttpRequest) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and request.user.has_perm("pulpanalytics.change_dailysummary")
        )

    @admin.display(description="systems")
    def systems(self, obj: DailySummary) -> int:
        return json.loads(obj.json).get("systems", 0)

    @admin.display(description="persistent")
    def persistent_systems(self, obj: DailySummary) -> int:
        return json.loads(obj.json).get("persistent_systems", 0)

    @admin.display(description="summary (JSON)")
    def summary(self, obj: DailySummary) -> str:
        return format_html("<pre>{}</pre>", json.dumps(json.loads(obj.json), indent=2))

    def get_urls(self) -> list:
        return [
            path(
                "summarize-now/",
                self.admin_site.admin_view(self.summarize_now_view),
                name="pulpanalytics_dailysummary_summarize_now",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        context = {**(extra_context or {}), "can_summarize": self.has_summarize_permission(request)}
        return super().changelist_view(request, extra_context=context)

    def summarize_now_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_summarize_permission(request):
            raise PermissionDenied
        return self._run(request, "Summarize now", [None])

    @admin.action(description="Re-summarize selected days", permissions=["summarize"])
    def resummarize(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        days = sorted(queryset.values_list("date", flat=True))
        return self._run(request, "Re-summarize selected days", days)

    def _run(self, request: HttpRequest, title: str, days: list) -> HttpResponse:
        lines: list[str] = []
        for day in days:
            try:
                now = timezone.now()
                result = summarize.run(now=now, only=day, log=lines.append)
                lines.append(result.last_line())
                if day is None and not result.summarized and not result.locked_out:
                    lines.append(summarize.nothing_pending_reason(now=now))
            except (summarize.SummarizeError, partitions.PartitionsBusy) as error:
                lines.append(f"Error: {error}")
        context = {**self.admin_site.each_context(request), "title": title, "lines": lines}
        return TemplateResponse(request, "admin/pulpanalytics/dailysummary/output.html", context)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """What the watchdog found, newest first; a stale summary (never stored) shows as a warning."""

    list_display = ["date", "kind", "message", "found_at"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    ordering = ["-date", "kind"]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        stale = watchdog.stale_summary(timezone.now())
        if stale is not None:
            self.message_user(
                request, f"Summaries are stale ({stale.kind}): {stale.message}", messages.WARNING
            )
        return super().changelist_view(request, extra_context=extra_context)
