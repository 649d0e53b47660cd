"""Schemathesis against the description the API SERVES: the real app (the ``world``
fixture: real SQLite registry and event store, furnished campuses, an open absence) served
by the production WSGI server (waitress) on a loopback port, called over HTTP with an
admin's bearer token.

Every operation of ``/api/v1/openapi.json`` is fed cases generated from its own
description, valid ones (positive) and invalid ones (negative), and every answer must pass
the stateless checks: no 5xx (``not_a_server_error``), a status the description declares
(``status_code_conformance``), its declared content type (``content_type_conformance``)
and its declared schema (``response_schema_conformance``). The alert operations run once
with generated alert ids and once with the id of a real open alert, so that the bodies
reach the code that reads them. Nothing is excluded (but the negative run of the
description's own GET, which has no input to make invalid).

Schemathesis alone draws its days and weeks near today and misses the calendar's ends
(run on the code of issue 18 it found none of its 500s), so two helpers of this file
bring them: in valid cases, date, week and time parameters are often replaced by values
from the whole calendar; and every such parameter of every operation is asked once at
each boundary (``BOUNDARIES``), with the campus given so the call gets to the dates. Run
on the code of issue 18, this test fails on weekly presence, the forecast, history,
statistics, the alert list and the evidence.

Bounded and repeatable: a fixed number of examples per operation and mode, Hypothesis
derandomized (the same cases every run), no deadline, no example database. A failure
lists each operation's smallest failing case (method, path, query, body) and the check.
"""

from __future__ import annotations

import http.client
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from time import monotonic, sleep
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from server.adapters.web_server import WebServer
from server.config import WebSettings
from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.alerts import AlertKind
from server.registry.alert_repository import AlertRepository
from tests.web.conftest import CAMPUS, MONDAY_0920

pytestmark = pytest.mark.slow

# Examples per operation: valid cases, then invalid ones (40 in all, alert operations
# twice: generated ids and a real open alert's).
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}
# A guard against a run gone wild, not a benchmark: about 60 s on an idle 2-core machine,
# slower when it is shared.
CEILING_S = 300
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def served(world) -> Iterator[str]:
    """The world's app served by waitress on 127.0.0.1 (a free port); its base URL."""
    server = WebServer(world.app, WebSettings(host="127.0.0.1", port=0, threads=4))
    server.start()
    try:
        yield server.url
    finally:
        # Stopped once waitress has let go of the test's connections (only its listening
        # socket and its trigger left): closing it while a channel is still in its loop
        # makes that loop select on a closed descriptor (EBADF in the server's thread).
        channels = server._server._map  # waitress has no public count of its channels
        deadline = monotonic() + 5
        while len(channels) > 2 and monotonic() < deadline:
            sleep(0.05)
        server.stop()


@pytest.fixture
def bearer(world) -> dict[str, str]:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name="fuzz", role=Role.ADMIN, campus_id="", actor=Actor("t", world.clock())
    )
    return {"Authorization": f"Bearer {secret}"}


def _open_absence(world) -> str:
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


# Schemathesis draws days, weeks and times near today: a fuzzer of 13,866 cases missed the
# 500s of issue 18 (9999-W52, 0001-01-01T00:00:00+14:00…), and so does this run without
# help (checked against the code of issue 18). So in the valid cases, each parameter or
# body field of a date, week or date-time kind is replaced, one time in two, by a value of
# the same shape from the whole calendar, its ends more often than not: still valid for
# the description, so the API must answer it with a declared status, never a 5xx.
_EDGE_DAYS = [date.min, date.max, date(1999, 12, 31), date(2000, 1, 1), date(2100, 12, 31)]
_ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]
_DAYS = st.one_of(st.sampled_from(_EDGE_DAYS), st.dates())
_WEEKS = st.builds(
    lambda year, week: f"{year:04d}-W{week:02d}",
    st.one_of(st.sampled_from([1, 1999, 2000, 2100, 2101, 9999]), st.integers(1, 9999)),
    st.one_of(st.sampled_from([1, 52, 53]), st.integers(1, 53)),
)
_TIMES = st.builds(
    lambda day, zone: datetime.combine(day, time(0), tzinfo=zone).isoformat(),
    _DAYS,
    st.sampled_from(_ZONES),
)
_EDGES = {
    "date": _DAYS.map(date.isoformat),
    "week": _WEEKS,
    "date-time": _TIMES,
    "date or date-time": st.one_of(_DAYS.map(date.isoformat), _TIMES),
}


def _kind(schema: dict[str, Any]) -> str | None:
    """Which edge values fit a parameter's or a field's schema, if any."""
    if "anyOf" in schema:
        return "date or date-time"
    if schema.get("format") in ("date", "date-time"):
        return schema["format"]
    if schema.get("pattern", "").endswith("-W\\d{2}$"):
        return "week"
    return None


def _edged(case: Any, operation: Any, data: st.DataObject) -> None:
    """Put edge values in the case's date, week and time parameters (see ``_EDGES``)."""
    raw = operation.definition.raw
    for parameter in raw.get("parameters", []):
        kind = _kind(parameter["schema"])
        if kind and case.query and parameter["name"] in case.query and data.draw(st.booleans()):
            case.query[parameter["name"]] = data.draw(_EDGES[kind])
    if isinstance(case.body, dict) and "called_at" in case.body and data.draw(st.booleans()):
        case.body["called_at"] = data.draw(_TIMES)


# The ends of each kind, each asked once per operation (with the others at a usual value
# and every value of the operation's small enums): the supported years' ends and the
# calendar's (a day or week after them overflows once turned into UTC).
BOUNDARIES = {
    "date": ["0001-01-01", "1999-12-31", "2000-01-01", "2100-12-31", "2101-01-01", "9999-12-31"],
    "week": ["0001-W01", "1999-W52", "2000-W01", "2100-W52", "2101-W01", "9999-W52", "2026-W53"],
    "date-time": [
        "0001-01-01T00:00:00+14:00",
        "2000-01-01T00:00:00+14:00",
        "2100-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59-12:00",
    ],
}
BOUNDARIES["date or date-time"] = BOUNDARIES["date"] + BOUNDARIES["date-time"]
USUAL = {
    "date": "2026-11-23",
    "week": "2026-W48",
    "date-time": "2026-11-23T09:00:00+01:00",
    "date or date-time": "2026-11-23",
}


def _boundary_cases(operation: Any, alert: str) -> Iterator[Any]:
    """Cases of ``operation`` with each date, week or time at each of its boundaries."""
    parameters = operation.definition.raw.get("parameters", [])
    kinds = {p["name"]: _kind(p["schema"]) for p in parameters if p["in"] == "query"}
    kinds = {name: kind for name, kind in kinds.items() if kind}
    enums = [
        [(p["name"], value) for value in p["schema"]["enum"]]
        for p in parameters
        if "enum" in p["schema"]
    ]
    path = {"alert_id": alert} if "{alert_id}" in operation.path else None
    for name, kind in kinds.items():
        for value in BOUNDARIES[kind]:
            for choice in itertools.product(*enums):
                query = {other: USUAL[k] for other, k in kinds.items()} | dict(choice)
                if any(p["name"] == "campus" for p in parameters):
                    query["campus"] = CAMPUS  # past the campus check, to the dates
                yield operation.Case(query={**query, name: value}, path_parameters=path)
    if operation.path.endswith("/calls"):
        for value in BOUNDARIES["date-time"]:
            body = {"outcome": "no_answer", "called_at": value, "by": "fuzz"}
            yield operation.Case(path_parameters=path, body=body, media_type="application/json")


def _has_inputs(operation: Any) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str],
    http: requests.Session,
    path_parameters: dict[str, str] | None = None,
) -> str | None:
    """Run the cases of one operation and mode; the failure found, if any."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    calls = []

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def run(case, data) -> None:
        if mode is GenerationMode.POSITIVE:
            _edged(case, operation, data)
        calls.append(case.method)
        case.call_and_validate(
            base_url=base_url, session=http, headers=dict(headers), checks=CHECKS
        )

    try:
        run()
    except Unsatisfiable:
        # No invalid case exists for an operation without parameters nor body (the
        # description's own GET): nothing to negate, nothing skipped.
        if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
            return None
        return f"{operation.label} [{mode.value}]: no case could be generated"
    except (Exception, BaseExceptionGroup) as failure:  # each is reported, then asserted
        found = failure.exceptions if isinstance(failure, BaseExceptionGroup) else [failure]
        return f"{operation.label} [{mode.value}]: " + "\n".join(
            f"{type(item).__name__}: {item}" for item in found
        )
    assert calls, f"{operation.label} [{mode.value}]: no case generated"
    return None


def test_the_served_description_holds_for_every_operation(world, served, bearer) -> None:
    description = requests.get(f"{served}/api/v1/openapi.json", timeout=10)
    assert description.status_code == 200
    # The document as served, loaded from its JSON: ``from_url`` would leave out the
    # operation that serves the document itself, which is part of the API too.
    schema = schemathesis.openapi.from_dict(description.json())
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {
        f"{method.upper()} {path}"
        for path, methods in description.json()["paths"].items()
        for method in methods
    }
    assert {operation.label for operation in operations} == documented
    alert = _open_absence(world)
    failures: list[str] = []
    runs = boundaries = 0
    started = monotonic()
    with requests.Session() as http:
        for operation in operations:
            fixed = [None]
            if "{alert_id}" in operation.path:
                fixed.append({"alert_id": alert})
            for mode in EXAMPLES:
                for path_parameters in fixed:
                    found = _fuzz(operation, mode, served, bearer, http, path_parameters)
                    runs += 1
                    if found:
                        failures.append(found)
            for case in _boundary_cases(operation, alert):
                try:
                    case.call_and_validate(
                        base_url=served, session=http, headers=dict(bearer), checks=CHECKS
                    )
                except (Exception, BaseExceptionGroup) as failure:
                    failures.append(f"{operation.label} {case.query or case.body}: {failure}")
                boundaries += 1
    elapsed = monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert runs >= 2 * len(operations)
    assert boundaries >= 80
    assert elapsed < CEILING_S, f"schemathesis took {elapsed:.0f} s for {runs} runs"


def test_a_body_sent_without_a_length_is_cut_at_the_api_limit(world, served, bearer) -> None:
    """Over HTTP, chunked (no Content-Length): the API reads at most its limit, then
    answers 413 with a message about the request body."""
    alert = _open_absence(world)
    body = json.dumps({"outcome": "reached", "reason": "x" * (2 * 1024 * 1024)}).encode()
    address = urlsplit(served)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(
            "POST",
            f"/api/v1/alerts/{alert}/calls",
            body=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]),
            headers={**bearer, "Content-Type": "application/json", "Accept-Language": "fr"},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        payload = json.loads(answer.read())
    finally:
        connection.close()
    assert answer.status == 413
    assert answer.getheader("Content-Length") is not None
    assert payload["error"]["code"] == "request_too_large"
    assert "requête" in payload["error"]["message"]


def test_every_method_a_described_path_does_not_take_is_a_405_with_allow(
    world, served, bearer
) -> None:
    """Each path of the served description, asked with each method it does not declare:
    405, JSON error, and an ``Allow`` header naming the methods it does declare."""
    paths = requests.get(f"{served}/api/v1/openapi.json", timeout=10).json()["paths"]
    alert = _open_absence(world)
    asked = 0
    with requests.Session() as http:
        for path, operations in paths.items():
            declared = {method.upper() for method in operations}
            url = served + path.replace("{alert_id}", alert)
            for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - declared:
                answer = http.request(method, url, headers=bearer, timeout=10)
                assert answer.status_code == 405, (method, path)
                assert answer.json()["error"]["code"] == "method_not_allowed"
                allowed = {item.strip() for item in answer.headers["Allow"].split(",")}
                assert declared <= allowed, (method, path, allowed)
                asked += 1
    assert asked == 4 * len(paths)
