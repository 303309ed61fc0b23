"""The OpenAPI 3.1 document of /api/v1/, built from the chart registry and summary.proto.

Nothing here is written twice: a chart added to the registry gets its path, a field added to
summary.proto gets its property, and tests/test_openapi.py calls every documented path.
"""

import json
from urllib.parse import unquote

from django.urls import reverse
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from pulpanalytics import metrics
from pulpanalytics.chart_query import FORMATS, RANGES
from pulpanalytics.metrics.base import Chart, OverTimeChart
from pulpanalytics.public import OTHER
from pulpanalytics.resample import GRANULARITIES
from pulpanalytics.summary_pb2 import Summary
from pulpanalytics.watchdog import KINDS

# The most summaries per answer of the summary list (api.py imports this module).
PAGE_SIZE = 366

EXAMPLE_DAY = "2026-03-01"
JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(description: str, schema: dict) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error(description: str) -> dict:
    return json_body(description, ref("Error"))


def describe_chart(chart: Chart) -> dict:
    """What GET /api/v1/charts/ says about one chart."""
    return {
        "name": chart.name,
        "title": chart.title,
        "description": chart.description,
        "kind": chart.kind,
        "over_time": isinstance(chart, OverTimeChart),
        "stacked": chart.stacked,
        "percent": chart.percent,
        "parameters": dict(chart.parameters),
        "required": list(chart.required),
        "x_label": chart.x_title,
        "y_label": chart.y_title,
        "url": reverse("chart-detail", args=[chart.name]),
    }


_SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_UINT64: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_INT32: {"type": "integer"},
    FieldDescriptor.TYPE_INT64: {"type": "integer"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
}


_OTHER_DESCRIPTION = (
    "Only on the one entry per list that adds up the entries counted fewer than the site's "
    "PUBLIC_MIN_COUNT times (when that is above 1); its text keys then read 'other' and its "
    "number keys 0."
)


def message_schema(message: Descriptor) -> dict:
    """A JSON schema of a proto3 message as the summaries store it: every field present, an
    unset optional field as null; `other` only where small counts were folded (public.py)."""
    properties = {}
    for field in message.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            schema = message_schema(field.message_type)
        else:
            schema = dict(_SCALARS[field.type])
        if field.has_presence and field.type != FieldDescriptor.TYPE_MESSAGE:
            schema["type"] = [schema["type"], "null"]
        if field.is_repeated:
            schema = {"type": "array", "items": schema}
        if field.name == OTHER:
            schema = {**schema, "const": True, "description": _OTHER_DESCRIPTION}
        properties[field.name] = schema
    required = [name for name in properties if name != OTHER]
    return {"type": "object", "required": required, "properties": properties}


def _query(name: str, description: str, schema: dict, example: str | None = None) -> dict:
    parameter = {"name": name, "in": "query", "description": description, "schema": schema}
    if example is not None:
        parameter["example"] = example
    return parameter


_START = _query("start", "First day, inclusive (YYYY-MM-DD).", {"type": "string", "format": "date"})
_END = _query("end", "Last day, inclusive (YYYY-MM-DD).", {"type": "string", "format": "date"})
_CACHED = {
    "ETag": {"schema": {"type": "string"}},
    "Last-Modified": {"description": "latest computed_at of the summaries used", "schema": {}},
    "Cache-Control": {"schema": {"type": "string", "example": "public, max-age=3600"}},
}
_NOT_MODIFIED = {"description": "Not modified (If-None-Match or If-Modified-Since matched)."}


def _parameter_schema(chart: Chart, name: str) -> dict:
    choices = chart.choices.get(name)
    if not choices:
        return {"type": "string"}
    return {"type": "string", "enum": list(choices), "default": choices[0]}


def chart_parameters(chart: Chart) -> list[dict]:
    over_time = (
        "Averages the daily values per ISO week (labelled by its Monday) or month (YYYY-MM)."
        if isinstance(chart, OverTimeChart)
        else "Ignored: this chart describes the latest day of the range."
    )
    common = [
        _query(
            "range",
            "Days counted back from the latest summarized day; not with start/end. Without "
            "range, start and end: all.",
            {"type": "string", "enum": list(RANGES)},
            example="90d",
        ),
        _START,
        _END,
        _query(
            "granularity",
            over_time,
            {"type": "string", "enum": list(GRANULARITIES), "default": "day"},
            example="week" if isinstance(chart, OverTimeChart) else None,
        ),
        _query(
            "format",
            "json: Chart.js data; csv: the same as CSV with a header row.",
            {"type": "string", "enum": list(FORMATS), "default": "json"},
        ),
    ]
    own = [
        {
            **_query(name, description, _parameter_schema(chart, name), chart.examples.get(name)),
            "required": name in chart.required,
        }
        for name, description in chart.parameters.items()
    ]
    return common + own


def chart_path(chart: Chart) -> dict:
    missing = (
        {"404": error("No summary ever counted the component (plugin); as its page answers.")}
        if "component" in chart.parameters
        else {}
    )
    return {
        "get": {
            "operationId": f"chart-{chart.name}",
            "summary": chart.title,
            "description": chart.description,
            "tags": ["charts"],
            "parameters": chart_parameters(chart),
            "responses": {
                "200": {
                    "description": "The chart's data.",
                    "headers": _CACHED,
                    "content": {
                        JSON: {"schema": ref("ChartData")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "304": _NOT_MODIFIED,
                "400": error("A parameter the chart cannot use; the message says which."),
                **missing,
            },
        }
    }


_FORMAT = _query(
    "format",
    "json, or csv: the same numbers as rows with a header row.",
    {"type": "string", "enum": list(FORMATS), "default": "json"},
)
_DATE = _query(
    "date",
    "The day (YYYY-MM-DD); default: the latest summarized day.",
    {"type": "string", "format": "date"},
)
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "A component (plugin) name, e.g. core.",
    "schema": {"type": "string"},
    "example": "core",
}


def _decision_path(
    operation: str, summary: str, description: str, parameters: list, schema: str
) -> dict:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "description": description,
            "tags": ["decisions"],
            "parameters": [*parameters, _FORMAT],
            "responses": {
                "200": {
                    "description": "The answer (JSON, or CSV with format=csv).",
                    "headers": _CACHED,
                    "content": {
                        JSON: {"schema": ref(schema)},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "304": _NOT_MODIFIED,
                "400": error("A parameter that cannot be used; the message says which."),
                "404": error("No such component in any summary, or no summary of that day."),
            },
        }
    }


def decision_paths() -> dict:
    """The answers of pulpanalytics/decisions.py (docs/design.md)."""
    path = lambda name: unquote(reverse(name, args=["{name}"]))  # noqa: E731
    return {
        path("releases"): _decision_path(
            "releases",
            "Each X.Y release of a component and how fast it spread",
            "first_seen: the first summarized day that counts the X.Y; at_start: that is the "
            "first day that counts the component at all (the release may be older); "
            "days_to_50/90: days from first_seen to the first day on which that share of the "
            "component's persistent systems run the X.Y or a newer one (null: not yet).",
            [_NAME],
            "Releases",
        ),
        path("floor"): _decision_path(
            "floor",
            "Support levels of a component on a day",
            "For 50, 75, 90 and 95 %: the newest X.Y.Z that at least that share of the "
            "component's persistent systems run (it or a newer one); null when small counts "
            "folded into 'other' keep every version below the share.",
            [_NAME, _DATE],
            "Floor",
        ),
        reverse("impact"): _decision_path(
            "impact",
            "Whom a new minimum version would leave behind",
            "component and minimum: persistent systems running the component at an older full "
            "version; or postgresql (a major such as 14 or 9.6): persistent systems with a known "
            "PostgreSQL whose major is older. share = below / systems, 3 decimals.",
            [
                _query("component", "A component name.", {"type": "string"}, "core"),
                _query("minimum", "A version, e.g. 3.45.0.", {"type": "string"}, "3.45.0"),
                _query("postgresql", "A PostgreSQL major instead, e.g. 14.", {"type": "string"}),
                _DATE,
            ],
            "Impact",
        ),
    }


def _object(properties: dict) -> dict:
    return {"type": "object", "required": list(properties), "properties": properties}


_INT = {"type": "integer", "minimum": 0}
_TEXT = {"type": "string"}
_DAY = {"type": "string", "format": "date"}


def decision_schemas() -> dict:
    return {
        "Releases": _object(
            {
                "component": _TEXT,
                "releases": {
                    "type": "array",
                    "items": _object(
                        {
                            "version": _TEXT,
                            "first_seen": _DAY,
                            "at_start": {"type": "boolean"},
                            "days_to_50": {"type": ["integer", "null"]},
                            "days_to_90": {"type": ["integer", "null"]},
                        }
                    ),
                },
            }
        ),
        "Floor": _object(
            {
                "component": _TEXT,
                "date": _DAY,
                "systems": _INT,
                "levels": {
                    "type": "array",
                    "items": _object({"share": _INT, "version": {"type": ["string", "null"]}}),
                },
            }
        ),
        "Impact": {
            "type": "object",
            "required": ["date", "systems", "below", "share"],
            "properties": {
                "date": _DAY,
                "component": _TEXT,
                "minimum": _TEXT,
                "postgresql": _TEXT,
                "systems": _INT,
                "below": _INT,
                "unknown": _INT,
                "share": {"type": ["number", "null"]},
            },
        },
    }


def schemas() -> dict:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
        "Summary": message_schema(Summary.DESCRIPTOR),
        "SummaryList": {
            "type": "object",
            "required": ["summaries"],
            "properties": {
                "summaries": {"type": "array", "items": ref("Summary")},
                "next": {
                    "type": "string",
                    "format": "uri",
                    "description": "Only when more summaries match than one answer holds: "
                    "the URL of the next page.",
                },
            },
        },
        "AlertList": {
            "type": "object",
            "required": ["alerts"],
            "properties": {
                "alerts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["date", "kind", "message"],
                        "properties": {
                            "date": {"type": "string", "format": "date"},
                            "kind": {"type": "string", "enum": list(KINDS)},
                            "message": {"type": "string"},
                        },
                    },
                }
            },
        },
        "Badge": {
            "type": "object",
            "description": "A shields.io endpoint document (https://shields.io/badges/endpoint-badge).",
            "required": ["schemaVersion", "label", "message", "color"],
            "properties": {
                "schemaVersion": {"const": 1},
                "label": {"type": "string"},
                "message": {"type": "string", "example": "1,234 installations"},
                "color": {"type": "string"},
            },
        },
        "ChartData": {
            "type": "object",
            "description": "Chart.js data: one value per label in each dataset.",
            "required": ["labels", "datasets"],
            "properties": {
                "labels": {"type": "array", "items": {"type": "string"}},
                "datasets": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["label", "data"],
                        "properties": {
                            "label": {"type": "string"},
                            "data": {"type": "array", "items": {"type": ["number", "null"]}},
                        },
                    },
                },
                "partial": {
                    "type": "object",
                    "description": "Per week or month: the periods (labels) with fewer days "
                    "than they span (the range cuts the first and last), and how many they have.",
                    "additionalProperties": {"type": "integer"},
                },
            },
        },
        "ChartList": {
            "type": "object",
            "required": ["charts"],
            "properties": {"charts": {"type": "array", "items": {"type": "object"}}},
        },
        "OpenAPI": {"type": "object", "required": ["openapi", "info", "paths"]},
        **decision_schemas(),
        "Cohorts": {
            "type": "object",
            "required": ["through", "cohorts"],
            "properties": {
                "through": {
                    "type": ["string", "null"],
                    "description": "YYYY-MM of the latest summarized day (null: none yet)",
                },
                "cohorts": {"type": "array", "items": _COHORT},
            },
        },
    }


_COUNT_OR_WITHHELD = {
    "type": ["integer", "null"],
    "minimum": 0,
    "description": "null: fewer than the site's PUBLIC_MIN_COUNT (when that is above 1)",
}
_COHORT = {
    "type": "object",
    "required": ["month", "systems", "active"],
    "properties": {
        "month": {"type": "string", "description": "YYYY-MM"},
        "systems": _COUNT_OR_WITHHELD,
        "active": {
            "type": "array",
            "items": _COUNT_OR_WITHHELD,
            "description": "active[k]: how many reported at least once in the k-th month "
            "after (active[0] = systems), through `through`",
        },
    },
}


def cohorts_path() -> dict:
    return {
        "get": {
            "operationId": "cohort-list",
            "summary": "Cohorts: installations first seen in a month, and how many stay",
            "description": "A cohort: the installations whose first report is in that month "
            "and that reported on at least two different days. Oldest first, through the month "
            "of the latest summarized day (possibly not finished); reports after that day do "
            "not count yet.",
            "tags": ["fleet"],
            "parameters": [
                _query(
                    "format",
                    "json, or csv: a row per cohort, its systems, then month 0, 1, ...",
                    {"type": "string", "enum": list(FORMATS), "default": "json"},
                )
            ],
            "responses": {
                "200": {
                    "description": "The cohorts.",
                    "headers": _CACHED,
                    "content": {
                        JSON: {"schema": ref("Cohorts")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "304": _NOT_MODIFIED,
                "400": error("An unknown format."),
            },
        }
    }


def document() -> dict:
    """The whole API: summaries, the chart list, one path per chart, and this document."""
    paths = {
        reverse("summary-list"): {
            "get": {
                "operationId": "summary-list",
                "summary": "Daily summaries in date order",
                "description": f"At most {PAGE_SIZE} summaries per answer, oldest first. When "
                "more match, the answer has `next`, the URL of the next page, and a "
                '`Link: <URL>; rel="next"` header; the last page has neither. The whole '
                "history in one file: /data/summaries.ndjson.gz.",
                "tags": ["summaries"],
                "parameters": [_START, _END],
                "responses": {
                    "200": {
                        **json_body("The summaries.", ref("SummaryList")),
                        "headers": {
                            **_CACHED,
                            "Link": {
                                "description": 'rel="next": the next page, when there is one',
                                "required": False,
                                "schema": {"type": "string"},
                            },
                        },
                    },
                    "304": _NOT_MODIFIED,
                    "400": error("A malformed date, or start after end."),
                },
            }
        },
        # An OpenAPI path template: {day} stands for the path parameter below.
        unquote(reverse("summary-detail", args=["{day}"])): {
            "get": {
                "operationId": "summary-detail",
                "summary": "The summary of one day",
                "tags": ["summaries"],
                "parameters": [
                    {
                        "name": "day",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "date"},
                        "example": EXAMPLE_DAY,
                    }
                ],
                "responses": {
                    "200": {**json_body("The day's summary.", ref("Summary")), "headers": _CACHED},
                    "304": _NOT_MODIFIED,
                    "400": error("A malformed date."),
                    "404": error("The day has no summary."),
                },
            }
        },
        reverse("cohort-list"): cohorts_path(),
        reverse("chart-list"): {
            "get": {
                "operationId": "chart-list",
                "summary": "Every chart, its parameters and its URL",
                "tags": ["charts"],
                "responses": {"200": json_body("The charts.", ref("ChartList"))},
            }
        },
        **{
            reverse("chart-detail", args=[chart.name]): chart_path(chart)
            for chart in metrics.charts().values()
        },
        reverse("alert-list"): {
            "get": {
                "operationId": "alert-list",
                "summary": "What the watchdog found, newest first",
                "description": "reports_drop and version_drop: found by the nightly summary in a "
                "day it summarized; stale_summary: now, while the newest summary is overdue.",
                "tags": ["alerts"],
                "responses": {"200": json_body("The alerts.", ref("AlertList"))},
            }
        },
        unquote(reverse("badge-json", args=["{component}"])): {
            "get": {
                "operationId": "badge",
                "summary": "A component's installations on the latest day, for a badge",
                "tags": ["badges"],
                "parameters": [
                    {
                        "name": "component",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                        "example": "core",
                    }
                ],
                "responses": {
                    "200": json_body("The badge.", ref("Badge")),
                    "404": error("No summary holds the component."),
                },
            }
        },
        **decision_paths(),
        reverse("openapi"): {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": json_body("OpenAPI 3.1.", ref("OpenAPI"))},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Pulp analytics API",
            "version": "1",
            "description": "What Pulp installations report, summarized per UTC day. Data "
            "changes once a day, after the nightly summary. Unknown charts answer 404, "
            'unusable parameters 400 with {"error": message}.',
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas()},
    }


def document_json() -> str:
    """document() as the API serves it."""
    return json.dumps(document(), indent=1)
