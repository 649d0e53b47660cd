"""The Grafana files in ``dashboards/`` load, query with InfluxQL only, and use only the
measurements, fields and tags that ``dashboards/README.md`` documents.

``tests/integration/test_dashboard_queries.py`` checks the documented schema against what
the InfluxDB event store really writes, and runs every query on a real influxd.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml  # PyYAML, a dependency of amqtt (server extra)

from server.config import InfluxSettings

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
CAMPUS_FILTER = '"campus" =~ /^$campus$/'
FLUX_MARKERS = ("|>", "from(bucket", "range(start", "aggregatewindow(")
FLUX_WORD = re.compile(r"\bflux\b", re.IGNORECASE)  # not "influx"


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Measurement:
    tags: frozenset[str]
    fields: frozenset[str]


def documented_schema() -> dict[str, Measurement]:
    """``### `name` `` headings of the README's Schema section, each with a table of
    ``| `key` | tag|field | type | meaning |`` rows."""
    text = (DASHBOARDS / "README.md").read_text(encoding="utf-8")
    schema = text[text.index("## Schema") :]
    measurements = {}
    for match in re.finditer(r"^### `(\w+)`.*?\n(.*?)(?=^### |\Z)", schema, re.M | re.S):
        rows = re.findall(r"^\| `(\w+)` \| (tag|field) \| (\w+) \|", match[2], re.M)
        assert rows, f"no schema table under {match[1]}"
        measurements[match[1]] = Measurement(
            tags=frozenset(key for key, kind, _ in rows if kind == "tag"),
            fields=frozenset(key for key, kind, _ in rows if kind == "field"),
        )
    return measurements


def dashboard() -> dict[str, Any]:
    return json.loads((DASHBOARDS / "campus-presence.json").read_text(encoding="utf-8"))


def all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Panels, including those inside collapsed rows; rows themselves excluded."""
    found = []
    for panel in panels:
        if panel.get("type") == "row":
            found += all_panels(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def documented_field_types() -> dict[str, dict[str, str]]:
    """{measurement: {field: InfluxDB type}} from the same README tables."""
    text = (DASHBOARDS / "README.md").read_text(encoding="utf-8")
    schema = text[text.index("## Schema") :]
    return {
        match[1]: dict(re.findall(r"^\| `(\w+)` \| field \| (\w+) \|", match[2], re.M))
        for match in re.finditer(r"^### `(\w+)`.*?\n(.*?)(?=^### |\Z)", schema, re.M | re.S)
    }


SCHEMA = documented_schema()
PANELS = all_panels(dashboard()["panels"])
TARGETS = [(panel["title"], target) for panel in PANELS for target in panel.get("targets", [])]
QUERIES = [(title, target["query"]) for title, target in TARGETS]


@dataclass(frozen=True)
class Query:
    """The parts of one InfluxQL SELECT that name schema keys."""

    measurement: str
    selected: list[str]  # bare quoted identifiers in the SELECT clause
    aggregated: list[str]  # identifiers inside functions: count("x")
    filtered: list[str]  # identifiers in WHERE
    regex_filtered: list[str]  # identifiers compared with =~
    grouped: list[str]  # identifiers in GROUP BY (tags)

    @classmethod
    def parse(cls, text: str) -> Query:
        match = re.fullmatch(
            r'SELECT (?P<select>.+?) FROM "(?P<measurement>\w+)"'
            r"(?: WHERE (?P<where>.+?))?"
            r"(?: GROUP BY (?P<group>.+?))?"
            r"(?: fill\((?:none|null|previous|linear|0)\))?"
            r"(?: ORDER BY time (?:ASC|DESC))?(?: LIMIT \d+)?",
            text,
        )
        assert match, f"not a SELECT this test understands: {text}"
        select = match["select"]
        aggregated = re.findall(r'\b[a-z_]+\("(\w+)"\)', select)
        without_calls = re.sub(r'\b[a-z_]+\("\w+"\)', "", select)
        without_aliases = re.sub(r'\bAS "\w+"', "", without_calls)
        where = match["where"] or ""
        return cls(
            measurement=match["measurement"],
            selected=re.findall(r'"(\w+)"', without_aliases),
            aggregated=aggregated,
            filtered=re.findall(r'"(\w+)"', where),
            regex_filtered=re.findall(r'"(\w+)" =~', where),
            grouped=re.findall(r'"(\w+)"', match["group"] or ""),
        )


# --------------------------------------------------------------------------- dashboard


def test_dashboard_loads_with_unique_ids_and_a_sane_layout() -> None:
    board = dashboard()
    assert board["uid"] == "campus-presence"
    assert board["title"] and isinstance(board["schemaVersion"], int)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    assert len(PANELS) >= 8
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


@pytest.mark.parametrize("panel", PANELS, ids=[panel["title"] for panel in PANELS])
def test_every_panel_has_an_influxql_query(panel: dict[str, Any]) -> None:
    assert panel["targets"], "a panel without a query shows nothing"
    assert panel["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
    for target in panel["targets"]:
        assert target["rawQuery"] is True
        assert target["query"].startswith("SELECT ")
        assert target.get("datasource", panel["datasource"])["type"] == "influxdb"
        assert not any(marker in target["query"].lower() for marker in FLUX_MARKERS)
        assert not FLUX_WORD.search(target["query"])
        assert "queryType" not in target and "language" not in target


def test_nothing_in_the_dashboard_is_flux() -> None:
    text = (DASHBOARDS / "campus-presence.json").read_text(encoding="utf-8")
    assert not any(marker in text.lower() for marker in FLUX_MARKERS)
    assert not FLUX_WORD.search(text)


@pytest.mark.parametrize(("title", "query"), QUERIES, ids=[title for title, _ in QUERIES])
def test_queries_use_only_documented_measurements_fields_and_tags(title: str, query: str) -> None:
    parsed = Query.parse(query)
    assert parsed.measurement in SCHEMA, f"{parsed.measurement} is not in the README schema"
    schema = SCHEMA[parsed.measurement]
    keys = schema.tags | schema.fields
    assert set(parsed.aggregated) <= schema.fields, "functions apply to fields"
    assert set(parsed.selected) <= keys
    assert set(parsed.filtered) <= keys
    assert set(parsed.regex_filtered) <= schema.tags, "filter on indexed tags"
    assert set(parsed.grouped) <= schema.tags, "InfluxQL groups by tags only"
    assert parsed.aggregated or parsed.selected, "select at least one field"


@pytest.mark.parametrize(("title", "query"), QUERIES, ids=[title for title, _ in QUERIES])
def test_queries_are_bounded_by_the_dashboard_time_and_campus(title: str, query: str) -> None:
    assert "$timeFilter" in query, "an unbounded query reads the whole retention"
    parsed = Query.parse(query)
    if "campus" in SCHEMA[parsed.measurement].tags:
        assert CAMPUS_FILTER in query
    else:  # rejections: campus is a field, absent for a malformed topic
        assert "$campus" not in query


def test_every_documented_measurement_has_a_panel() -> None:
    used = {Query.parse(query).measurement for _, query in QUERIES}
    assert used == set(SCHEMA)


def test_the_brief_panels_are_there() -> None:
    queries = [query for _, query in QUERIES]
    assert (
        'SELECT count("tap_id") FROM "taps" WHERE "campus" =~ /^$campus$/ AND $timeFilter '
        'GROUP BY time(1h), "reader" fill(0)'
    ) in queries
    grouped = {
        (parsed.measurement, tuple(parsed.grouped))
        for parsed in (Query.parse(query) for query in queries)
    }
    assert ("rejections", ("reason",)) in grouped
    assert ("reader_status", ("reader", "state")) in grouped
    assert ("reader_status", ("reader",)) in grouped
    assert ("occupancy", ("room",)) in grouped


def test_readme_lists_every_panel() -> None:
    text = (DASHBOARDS / "README.md").read_text(encoding="utf-8")
    panels_table = text[text.index("## Panels") : text.index("## Schema")]
    for panel in PANELS:
        title = panel["title"].removesuffix(" (planned)")
        assert f"| {title} |" in panels_table, title


def test_schema_documents_the_four_measurements() -> None:
    assert set(SCHEMA) == {"taps", "reader_status", "rejections", "occupancy"}
    assert SCHEMA["taps"].tags == {"campus", "reader"}
    assert SCHEMA["reader_status"].tags == {"campus", "reader", "state"}
    assert SCHEMA["rejections"].tags == {"reason"}
    assert SCHEMA["occupancy"] == Measurement(
        tags=frozenset({"campus", "room"}), fields=frozenset({"count", "capacity"})
    )


# --------------------------------------------------------------------------- variables


def variables() -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in dashboard()["templating"]["list"]}


def test_campus_variable_lists_the_campuses_of_the_taps() -> None:
    campus = variables()["campus"]
    assert campus["type"] == "query"
    assert campus["query"] == 'SHOW TAG VALUES FROM "taps" WITH KEY = "campus"'
    assert campus["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
    assert "campus" in SCHEMA["taps"].tags


def test_every_variable_used_is_defined() -> None:
    text = (DASHBOARDS / "campus-presence.json").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{?(\w+)", text))
    builtin = {"timeFilter", "__interval", "tag_reader", "tag_state", "tag_reason"}
    builtin |= {"tag_room", "col"}
    assert used - builtin <= set(variables())


# --------------------------------------------------------------------------- provisioning


def test_datasource_provisioning_is_influxql_on_the_servers_database() -> None:
    config = yaml.safe_load((DASHBOARDS / "datasources" / "influxdb.yaml").read_text())
    assert config["apiVersion"] == 1
    [source] = config["datasources"]
    assert source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "InfluxQL"
    database = InfluxSettings().database  # what the server writes to by default
    assert source["jsonData"]["dbName"] == database == source["database"]
    assert source["uid"] == variables()["datasource"]["current"]["value"]
    assert variables()["datasource"]["query"] == "influxdb"
    assert "password" not in source and "secureJsonData" not in source


def test_dashboard_provider_loads_files() -> None:
    config = yaml.safe_load((DASHBOARDS / "dashboards.yaml").read_text())
    assert config["apiVersion"] == 1
    [provider] = config["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")
    readme = (DASHBOARDS / "README.md").read_text(encoding="utf-8")
    assert provider["options"]["path"] in readme  # the install steps copy it there
