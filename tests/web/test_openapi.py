"""``/api/v1/openapi.json`` describes the API as it is: the same routes as the app, and
answers with the documented keys."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.alerts import AlertKind
from server.registry.alert_repository import AlertRepository
from tests.web.conftest import CAMPUS, MONDAY_0920

SAMPLE_QUERIES = {
    "/api/v1/presence/weekly": "week=2026-W48",
    "/api/v1/presence/period": "from=2026-11-16&to=2026-11-29",
    "/api/v1/occupancy/stats": "period=day",
    "/api/v1/alerts": "status=all",
    "/api/v1/alerts/evidence": "from=2026-11-23&to=2026-11-29",
}
STORY = "/api/v1/presence/students/{student_id}/weeks/{week}"
SAMPLE_PATHS = {STORY: STORY.format(student_id="E001", week="2026-W48")}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _flask_rules(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        found |= {(method, path) for method in rule.methods - IGNORED_METHODS}
    return found


def _documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    }


@pytest.fixture
def spec(world) -> dict[str, Any]:
    answer = world.app.test_client().get("/api/v1/openapi.json")  # no token: public
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    return json.loads(answer.get_data(as_text=True))


def test_the_description_is_openapi_3_1_with_a_bearer_scheme(spec) -> None:
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    assert spec["security"] == [{"bearer": []}]
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]


def test_the_documented_routes_are_the_routes_of_the_app(world, spec) -> None:
    assert _documented(spec) == _flask_rules(world.app)
    assert len(_documented(spec)) == 15


def test_every_reference_resolves_and_every_operation_answers_errors(spec) -> None:
    text = json.dumps(spec)
    for name in re.findall(r'"#/components/schemas/([A-Za-z]+)"', text):
        assert name in spec["components"]["schemas"], name
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.endswith("openapi.json"):
                continue
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert f"{{{parameter['name']}}}" in path


def test_every_parameter_is_typed_and_every_possible_error_declared(spec) -> None:
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                assert schema["type"] == "string", (where, parameter["name"])
                narrowed = {"pattern", "format", "enum", "anyOf", "minLength"} & set(schema)
                assert narrowed, (where, parameter["name"], "takes any text")
            if path.endswith("openapi.json"):
                continue
            declared = set(operation["responses"])
            assert {"400", "401", "403"} <= declared, where
            if method == "post":
                assert {"413", "415"} <= declared, where
            if "{alert_id}" in path:
                assert "404" in declared, where
    campuses = [
        parameter["schema"]
        for operations in spec["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "campus"
    ]
    assert len(campuses) == 10
    assert all(schema["minLength"] == 1 and schema["pattern"] for schema in campuses)
    for name in ("Actor", "CallLog"):
        by = schemas[name]["properties"]["by"]
        assert (by["minLength"], by["maxLength"]) == (1, 254), name
    assert "405" in spec["info"]["description"] and "Allow" in spec["info"]["description"]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _check(spec: dict[str, Any], value: Any, schema: dict[str, Any], where: str) -> None:
    """``value`` has the schema's types and required keys, all the way down."""
    schema = _resolve(spec, schema)
    kinds = schema.get("type")
    if kinds is not None:
        allowed = tuple(_TYPES[kind] for kind in ([kinds] if isinstance(kinds, str) else kinds))
        assert isinstance(value, allowed), f"{where}: {value!r} is not {kinds}"
    if isinstance(value, dict) and "properties" in schema:
        assert set(schema["required"]) <= set(value), f"{where}: missing keys"
        assert set(value) <= set(schema["properties"]), f"{where}: undocumented keys"
        for key, item in value.items():
            _check(spec, item, schema["properties"][key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value[:3]):
            _check(spec, item, schema["items"], f"{where}[{index}]")


def _an_absence(world) -> str:
    pk = world.student_pk("E001")
    start = MONDAY_0920.replace(minute=0)
    with world.registry() as session, session.begin():
        repo = AlertRepository(session)
        return repo.add(
            AlertKind.ABSENCE,
            "absence:E001",
            CAMPUS,
            world.clock(),
            student_pk=pk,
            tutor_id=repo.tutor_of(pk),
            slot_start=start,
            slot_end=start + timedelta(hours=3),
        ).public_id


def test_each_documented_get_answers_the_documented_keys(world, spec) -> None:
    alert_id = _an_absence(world)
    world.tap("E002", MONDAY_0920 - timedelta(minutes=10))
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name="doc", role=Role.COORDINATOR, campus_id=CAMPUS, actor=Actor("t", world.clock())
    )
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    checked = []
    for path, operations in spec["paths"].items():
        if "get" not in operations or path.endswith("openapi.json"):
            continue
        query = SAMPLE_QUERIES.get(path, "")
        answer = client.get(f"{SAMPLE_PATHS.get(path, path)}?{query}", headers=headers)
        assert answer.status_code == 200, (path, answer.get_json())
        schema = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        body = answer.get_json()
        assert set(body) == set(_resolve(spec, schema)["required"]), path
        _check(spec, body, schema, path)
        checked.append(path)
    assert len(checked) == 11
    listed = client.get("/api/v1/alerts", headers=headers).get_json()["alerts"]
    assert [alert["id"] for alert in listed] == [alert_id]


def test_documented_posts_answer_the_documented_keys(world, spec) -> None:
    alert_id = _an_absence(world)
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {world.settings.api_token or _admin_token(world)}"}
    paths = spec["paths"]
    acknowledged = client.post(f"/api/v1/alerts/{alert_id}/ack", headers=headers)
    schema = paths["/api/v1/alerts/{alert_id}/ack"]["post"]["responses"]["200"]
    _check(spec, acknowledged.get_json(), schema["content"]["application/json"]["schema"], "ack")
    call = {"outcome": "reached", "reason_category": "illness", "excused": True, "by": "alice"}
    logged = client.post(f"/api/v1/alerts/{alert_id}/calls", json=call, headers=headers)
    assert logged.status_code == 201
    schema = paths["/api/v1/alerts/{alert_id}/calls"]["post"]["responses"]["201"]
    _check(spec, logged.get_json(), schema["content"]["application/json"]["schema"], "calls")
    body = {"campus": CAMPUS, "room": None, "count": 4, "reason": "comptage"}
    corrected = client.post("/api/v1/occupancy/corrections", json=body, headers=headers)
    schema = paths["/api/v1/occupancy/corrections"]["post"]["responses"]["200"]
    _check(spec, corrected.get_json(), schema["content"]["application/json"]["schema"], "fix")
    refused = client.post("/api/v1/occupancy/corrections", json={"campus": 3}, headers=headers)
    assert refused.status_code == 400
    _check(spec, refused.get_json(), {"$ref": "#/components/schemas/Error"}, "error")


def _admin_token(world) -> str:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name="admin", role=Role.ADMIN, actor=Actor("t", world.clock())
    )
    return secret
