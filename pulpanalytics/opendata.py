"""Open data: the files of /data/, made by summarize, never per request.

- summaries.ndjson.gz: every summary, one JSON object per line in date order, each exactly as
  GET /api/v1/summaries/<day>/ serves it (folded by PUBLIC_MIN_COUNT), gzip.
- charts.zip: each over-time chart's whole history as CSV, one file per chart and set of its
  parameters (per component, ...), each as GET /api/v1/charts/<chart>/?range=all&format=csv.

A file is remade when what it was made from changed: the summaries' version (a new or
re-summarized day), PUBLIC_MIN_COUNT, its format, and for the charts the code of the points.
Both are stored in the database (DataFile), each replaced in one transaction: the summarize
CronJob and the web pods share no disk, and a reader sees the old file or the new one.
Their bytes depend only on what they hold (no timestamps inside), so an unchanged file keeps its
ETag.
"""

import gzip
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import parse_qsl

from django.db import transaction

from pulpanalytics import metrics, points
from pulpanalytics.chart_data import (
    SummariesState,
    WindowSummaries,
    as_csv,
    build_chart,
    label_heading,
    summaries_state,
)
from pulpanalytics.chart_query import Window
from pulpanalytics.metrics.base import OverTimeChart
from pulpanalytics.models import ChartPoint, DailySummary, DataFile
from pulpanalytics.public import min_count, public_text

SUMMARIES = "summaries.ndjson.gz"
CHARTS = "charts.zip"
# Bump when a file's layout changes, so that the next summarize remakes it.
FORMAT = 1
LICENCE = "CC0 1.0 Universal (public domain dedication)"
LICENCE_URL = "https://creativecommons.org/publicdomain/zero/1.0/"
# A fixed time inside the zip (its format needs one), so equal content gives equal bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DESCRIPTIONS = {
    SUMMARIES: "Every daily summary, one JSON object per line, oldest first (gzip).",
    CHARTS: "Each over-time chart's whole history, one CSV file per chart and parameters (zip).",
}
CONTENT_TYPES = {SUMMARIES: "application/gzip", CHARTS: "application/zip"}


def summary_lines() -> Iterator[str]:
    """The public JSON of every summary, in date order, read a few at a time."""
    smallest = min_count()
    texts = DailySummary.objects.order_by("date").values_list("json", flat=True)
    for text in texts.iterator(chunk_size=100):
        yield public_text(text, min_count=smallest)


def summaries_file() -> bytes:
    out = io.BytesIO()
    # mtime=0: the bytes depend on the content only.
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as packed:
        for line in summary_lines():
            packed.write(line.encode() + b"\n")
    return out.getvalue()


def chart_file_name(chart: OverTimeChart, key: str) -> str:
    """The name of a chart's CSV: component-versions_component-rpm_mode-percent.csv."""
    parts = [chart.name] + [f"{name}-{value}" for name, value in parse_qsl(key)]
    return "_".join(parts) + ".csv"


def charts_file(state: SummariesState) -> bytes:
    window = WindowSummaries(Window(None, None, "all"), state=state)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        readme = (
            "Pulp analytics: each over-time chart's history, one CSV per chart and set of its "
            "parameters, one row per summarized day.\n"
            f"Licence: {LICENCE}, {LICENCE_URL}\n"
        )
        archive.writestr(zipfile.ZipInfo("README.txt", ZIP_TIME), readme)
        for chart in metrics.charts().values():
            if not isinstance(chart, OverTimeChart):
                continue
            keys = (
                ChartPoint.objects.filter(chart=chart.name)
                .order_by("params")
                .values_list("params", flat=True)
                .distinct()
            )
            for key in keys:
                params = dict(parse_qsl(key))
                data = build_chart(chart, params=params, granularity="day", window=window)
                body = as_csv(data, first_column=label_heading(chart, "day"))
                info = zipfile.ZipInfo(chart_file_name(chart, key), ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, body)
    return out.getvalue()


def made_from(name: str, state: SummariesState) -> str:
    """What the file made now would be made from; another stored value means remake it."""
    parts = [name, FORMAT, state.version, min_count()]
    if name == CHARTS:
        parts.append(points.revision())
    return ":".join(str(part) for part in parts)


MAKERS: dict[str, Callable[[SummariesState], bytes]] = {
    SUMMARIES: lambda state: summaries_file(),
    CHARTS: charts_file,
}


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


@transaction.atomic
def write(name: str, content: bytes, *, state: SummariesState, now: datetime) -> DataFile:
    """Replace one file, in one transaction."""
    found, _ = DataFile.objects.update_or_create(
        name=name,
        defaults={
            "content": content,
            "content_type": CONTENT_TYPES[name],
            "size": len(content),
            "etag": etag_of(content),
            "made_at": now,
            "made_from": made_from(name, state),
            "summaries": state.count,
            "first_day": state.first,
            "last_day": state.latest,
        },
    )
    return found


def refresh(*, now: datetime, log: Callable[[str], None] = lambda line: None) -> list[str]:
    """Remake every file whose sources changed since it was made; the names remade."""
    state = summaries_state()
    if state.count == 0:
        return []
    stored = dict(DataFile.objects.values_list("name", "made_from"))
    # Charts from stale points would be computed from every summary, chart by chart (minutes for
    # years); summarize remakes the points first, so this waits only for a run that failed.
    points_ready = not points.stale().exists()
    remade = []
    for name, make in MAKERS.items():
        if stored.get(name) == made_from(name, state) or (name == CHARTS and not points_ready):
            continue
        content = make(state)
        write(name, content, state=state, now=now)
        log(f"Wrote /data/{name}: {len(content):,} bytes, {state.count:,} days")
        remade.append(name)
    return remade


def listing() -> list[DataFile]:
    """The files there are, without their content."""
    return list(DataFile.objects.defer("content").order_by("name"))
