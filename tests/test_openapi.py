"""/api/v1/openapi.json is a valid OpenAPI 3.1 document, and every path answers as it says."""

import re

import pytest
from openapi_spec_validator import validate

from pulpanalytics import metrics

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_data")]


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def resolve(document: dict, schema: dict) -> dict:
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_describes_the_summaries_every_chart_and_itself(document):
    paths = set(document["paths"])
    assert {
        "/api/v1/summaries/",
        "/api/v1/summaries/{day}/",
        "/api/v1/charts/",
        "/api/v1/charts/systems/",
        "/api/v1/charts/component-versions/",
        "/api/v1/charts/rbac-custom-roles/",
        "/api/v1/openapi.json",
    } <= paths
    # Ten paths of their own (summaries, charts, decisions, cohorts, alerts, badges, the document)
    # and one per chart of the registry.
    assert len(paths) == 10 + len(metrics.charts())
    summary = document["components"]["schemas"]["Summary"]
    assert summary["required"][:4] == ["date", "systems", "new_systems", "persistent_systems"]
    versions = document["paths"]["/api/v1/charts/component-versions/"]["get"]["parameters"]
    component = next(p for p in versions if p["name"] == "component")
    assert (component["required"], component["example"]) == (True, "core")


def test_every_documented_path_answers_with_its_example_parameters_as_documented(client, document):
    for path, item in document["paths"].items():
        operation = item["get"]
        url = path
        query = {}
        for parameter in operation.get("parameters", []):
            if "example" not in parameter:
                continue
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", parameter["example"])
            else:
                query[parameter["name"]] = parameter["example"]
        assert not re.search(r"\{\w+\}", url), f"{path}: a path parameter has no example"
        response = client.get(url, query)
        assert str(response.status_code) in operation["responses"], (path, response.status_code)
        assert response.status_code == 200, (path, response.content[:200])
        documented = operation["responses"]["200"]["content"]["application/json"]["schema"]
        body = response.json()
        assert set(resolve(document, documented)["required"]) <= set(body), path
        for header, described in operation["responses"]["200"].get("headers", {}).items():
            assert header in response or described.get("required") is False, (path, header)


def test_every_chart_path_answers_csv_and_its_documented_400(client, document):
    charts = [p for p in document["paths"] if re.fullmatch(r"/api/v1/charts/[\w-]+/", p)]
    assert len(charts) == len(metrics.charts())
    for path in charts:
        operation = document["paths"][path]["get"]
        examples = {
            p["name"]: p["example"]
            for p in operation["parameters"]
            if "example" in p and p["in"] == "query"
        }
        csv = client.get(path, {**examples, "format": "csv"})
        assert csv["Content-Type"] in {
            f"{t}; charset=utf-8" for t in operation["responses"]["200"]["content"]
        }
        bad = client.get(path, {**examples, "granularity": "fortnight"})
        assert bad.status_code == 400
        assert set(
            resolve(
                document, operation["responses"]["400"]["content"]["application/json"]["schema"]
            )["required"]
        ) == set(bad.json())


def test_documented_error_answers_of_the_summaries(client, document):
    detail = document["paths"]["/api/v1/summaries/{day}/"]["get"]["responses"]
    assert {"400", "404"} <= set(detail)
    assert client.get("/api/v1/summaries/2020-01-01/").status_code == 404
    assert client.get("/api/v1/summaries/someday/").status_code == 400
