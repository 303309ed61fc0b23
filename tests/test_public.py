"""public_summary(): small counts folded into "other" (PUBLIC_MIN_COUNT), on a hand-made summary."""

import json

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from pulpanalytics.metrics import charts
from pulpanalytics.metrics.base import OverTimeChart
from pulpanalytics.public import is_other, public_summary
from pulpanalytics.summary_pb2 import Summary
from tests.helpers import refused

STORED = {
    "date": "2026-03-01",
    "systems": 30,
    "new_systems": 2,
    "persistent_systems": 28,
    "age": [
        {"days": 0, "count": 2},
        {"days": 1, "count": 1},
        {"days": 40, "count": 12},
        {"days": 400, "count": 15},
    ],
    "components": [
        {"name": "ansible", "systems": 3, "xy": [{"version": "0.21", "count": 3}],
         "xyz": [{"version": "0.21.3", "count": 2}, {"version": "0.21.1", "count": 1}]},
        {"name": "core", "systems": 28,
         "xy": [{"version": "3.46", "count": 20}, {"version": "3.45", "count": 6},
                {"version": "3.28", "count": 2}],
         "xyz": [{"version": "3.46.1", "count": 12}, {"version": "3.46.0", "count": 8},
                 {"version": "3.45.2", "count": 4}, {"version": "3.45.1", "count": 2},
                 {"version": "3.28.9", "count": 2}]},
        {"name": "maven", "systems": 1, "xy": [{"version": "0.8", "count": 1}],
         "xyz": [{"version": "0.8.1", "count": 1}]},
        {"name": "rpm", "systems": 9, "xy": [{"version": "3.26", "count": 9}],
         "xyz": [{"version": "3.26.1", "count": 9}]},
    ],
    "postgresql_versions": [
        {"version": 160002, "count": 14},
        {"version": 150004, "count": 9},
        {"version": 130010, "count": 3},
        {"version": 90624, "count": 1},
        {"version": 0, "count": 1},
    ],
    "online_workers": {"processes_avg": 4.5, "hosts_avg": 1.25},
    "online_content_apps": {"processes_avg": None, "hosts_avg": None},
    "rbac": [
        {"measure": "users", "number": 0, "count": 10},
        {"measure": "users", "number": 3, "count": 2},
        {"measure": "users", "number": 900, "count": 1},
        {"measure": "groups", "number": 0, "count": 13},
        {"measure": "domains", "number": 0, "count": 12},
        {"measure": "domains", "number": 7, "count": 1},
    ],
}  # fmt: skip


def test_with_a_minimum_of_one_the_summary_is_the_stored_one_itself():
    assert public_summary(STORED, min_count=1) is STORED


def test_every_list_folds_its_counts_below_the_minimum_into_one_other_entry():
    public = public_summary(STORED, min_count=5)
    assert public == {
        "date": "2026-03-01",
        "systems": 30,
        "new_systems": 2,
        "persistent_systems": 28,
        "age": [
            {"days": 40, "count": 12},
            {"days": 400, "count": 15},
            {"days": 0, "count": 3, "other": True},
        ],
        "components": [
            {"name": "core", "systems": 28,
             "xy": [{"version": "3.46", "count": 20}, {"version": "3.45", "count": 6},
                    {"version": "other", "count": 2, "other": True}],
             "xyz": [{"version": "3.46.1", "count": 12}, {"version": "3.46.0", "count": 8},
                     {"version": "other", "count": 8, "other": True}]},
            {"name": "rpm", "systems": 9, "xy": [{"version": "3.26", "count": 9}],
             "xyz": [{"version": "3.26.1", "count": 9}]},
            # ansible (3) and maven (1), whole: a system running both would count twice.
            {"name": "other", "systems": 4, "xy": [], "xyz": [], "other": True},
        ],
        "postgresql_versions": [
            {"version": 160002, "count": 14},
            {"version": 150004, "count": 9},
            {"version": 0, "count": 5, "other": True},
        ],
        "online_workers": {"processes_avg": 4.5, "hosts_avg": 1.25},
        "online_content_apps": {"processes_avg": None, "hosts_avg": None},
        "rbac": [
            {"measure": "users", "number": 0, "count": 10},
            {"measure": "users", "number": 0, "count": 3, "other": True},
            {"measure": "groups", "number": 0, "count": 13},
            {"measure": "domains", "number": 0, "count": 12},
            {"measure": "domains", "number": 0, "count": 1, "other": True},
        ],
    }  # fmt: skip
    assert STORED["age"][0] == {"days": 0, "count": 2}  # the stored summary is left alone


@pytest.mark.parametrize("min_count", [2, 3, 5, 10, 16, 29, 1000])
def test_folding_keeps_every_list_total_and_shows_no_count_below_the_minimum(min_count):
    public = public_summary(STORED, min_count=min_count)

    def lists(summary: dict) -> dict[str, list[dict]]:
        found = {"age": summary["age"], "components": summary["components"]}
        found["postgresql_versions"] = summary["postgresql_versions"]
        for measure in ("users", "groups", "domains"):
            found[measure] = [e for e in summary["rbac"] if e["measure"] == measure]
        for component in summary["components"]:
            if not is_other(component):
                found[component["name"] + " xy"] = component["xy"]
                found[component["name"] + " xyz"] = component["xyz"]
        return found

    stored_lists = lists(STORED)
    for name, entries in lists(public).items():
        field = "systems" if name == "components" else "count"
        assert sum(e[field] for e in entries) == sum(e[field] for e in stored_lists[name]), name
        assert [e for e in entries if not is_other(e) and e[field] < min_count] == [], name
        assert sum(1 for e in entries if is_other(e)) <= 1, name
    assert public["systems"] == 30


def test_a_folded_summary_is_valid_summary_proto_json():
    text = json.dumps(public_summary(STORED, min_count=5))
    message = json_format.Parse(text, Summary())  # no unknown key, every type right
    assert [c.name for c in message.components] == ["core", "rpm", "other"]
    assert message.components[2].other and not message.components[0].other
    assert message.postgresql_versions[2].other


def test_every_counted_message_of_summary_proto_has_the_other_flag():
    def counted(message: Descriptor) -> list[Descriptor]:
        found = [message] if {"count", "systems"} & set(message.fields_by_name) else []
        for field in message.fields:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                found += counted(field.message_type)
        return found

    messages = [m for m in counted(Summary.DESCRIPTOR) if m is not Summary.DESCRIPTOR]
    # The first ones, to show the walk finds nested messages too; a new metric's come after.
    assert [m.name for m in messages][:6] == [
        "AgeCount",
        "Component",
        "VersionCount",
        "VersionCount",
        "PostgresqlVersionCount",
        "RbacCount",
    ]
    for message in messages:
        other = message.fields_by_name["other"]
        assert other.type == FieldDescriptor.TYPE_BOOL
        assert other.number == max(f.number for f in message.fields), message.name


def test_charts_label_the_other_entries_of_a_folded_summary_other():
    public = public_summary(STORED, min_count=5)
    params = {"component": "core"}
    built = {
        name: chart.series.build([public], params)
        if isinstance(chart, OverTimeChart)
        else chart.build(public, params)
        for name, chart in charts().items()
    }
    assert built["age-latest"]["labels"][-1] == "other"
    assert built["age-latest"]["datasets"][0]["data"][-1] == 3
    assert built["age"]["datasets"][-1] == {"label": "other", "data": [3]}
    assert built["postgresql-latest"] == {
        "labels": ["16.2", "15.4", "other"],
        "datasets": [{"label": "Systems", "data": [14, 9, 5]}],
    }
    assert [(d["label"], d["data"]) for d in built["postgresql"]["datasets"]] == [
        ("16", [14]),
        ("15", [9]),
        ("other", [5]),
    ]
    assert [(d["label"], d["data"]) for d in built["rbac-users"]["datasets"]] == [
        ("0", [10]),
        ("other", [3]),
    ]
    assert built["plugins"]["labels"] == ["core", "rpm", "other"]
    assert built["component-xyz"]["labels"] == ["3.46.1", "3.46.0", "other"]
    assert built["component-newer"]["datasets"][0]["data"] == [42.86, 71.43, 100.0]


def test_a_public_minimum_below_one_stops_start_up():
    assert "PUBLIC_MIN_COUNT='0' must be at least 1" in refused(DEBUG="true", PUBLIC_MIN_COUNT="0")
