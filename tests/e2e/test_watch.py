"""``/readyz`` and ``/metrics`` of the real ``serve`` composition (``build_server``,
started: MQTT consumer, jobs, web server on a loopback port) against a real Mosquitto and
a SQLite registry and event store: ready when all is up, not ready naming the check when
the broker stops or the store cannot be written; metrics count taps published over MQTT;
two compositions on one registry report every process's share."""

from __future__ import annotations

import json
import logging
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from edge.protocol import taps_topic
from server.bootstrap import ServerApp, build_server
from server.config import Settings, WebSettings
from tests.e2e.helpers import CAMPUS, Reader, ingest_settings, make_tap, wait_until
from tests.services import Mosquitto, free_port

READINESS_LOG = "server.services.operations.readiness"

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def readiness(server: ServerApp) -> tuple[int, dict]:
    status, body = get(f"{server.web_url}/readyz")
    return status, json.loads(body)


def samples(server: ServerApp) -> dict[tuple[str, frozenset], float]:
    """Every sample of ``/metrics``, parsed by prometheus_client's own parser, by
    (sample name, labels)."""
    status, body = get(f"{server.web_url}/metrics")
    assert status == 200, body
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def total(found: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """The sum over every process (and any label not given) of a metric's samples."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= set(ls))


def succeeded_jobs(server: ServerApp) -> set[str]:
    found = samples(server)
    return {dict(ls)["job"] for (n, ls) in found if n == "campus_job_last_success_time_seconds"}


def serve_settings(data_dir: Path, mqtt_port: int, client_id: str) -> Settings:
    settings = ingest_settings(data_dir, mqtt_port, client_id=client_id)
    web = WebSettings(port=free_port(), secure_cookies=False, secret_key="w" * 32)
    return replace(settings, web=web)


@pytest.fixture
def server(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[ServerApp]:
    app = build_server(serve_settings(tmp_path / "data", mosquitto.port, "watch-a"))
    with app:
        yield app


def test_ready_when_all_is_up_then_the_broker_check_fails_while_it_is_stopped(
    server: ServerApp, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="server.services.operations.readiness")
    wait_until(lambda: readiness(server)[0] == 200, timeout=20, what="ready")
    _status, body = readiness(server)
    assert body["status"] == "ready"
    assert [check["name"] for check in body["checks"]] == ["broker", "store", "registry", "jobs"]
    assert body["checks"][3]["holder"] == server.leadership.holder  # it runs the jobs
    mosquitto.stop()
    wait_until(lambda: readiness(server)[0] == 503, timeout=20, what="not ready")
    _status, body = readiness(server)
    assert body["failing"] == ["broker"]
    broker = body["checks"][0]
    assert broker["ok"] is False
    assert broker["connected"] is False
    for _ in range(3):
        assert readiness(server)[0] == 503
    mosquitto.start()
    wait_until(lambda: readiness(server)[0] == 200, timeout=30, what="ready again")
    said = [
        r.getMessage() for r in caplog.records if r.name == "server.services.operations.readiness"
    ]
    not_ready = [line for line in said if line.startswith("not ready: broker")]
    assert len(not_ready) == 1, said  # once per change, not once per probe
    assert said[-1] == "ready again"


def test_not_ready_while_the_event_store_cannot_be_written(
    server: ServerApp, caplog: pytest.LogCaptureFixture
) -> None:
    wait_until(lambda: readiness(server)[0] == 200, timeout=20, what="ready")
    path = server.settings.events_sqlite_path
    holder = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # a stuck writer holds the write lock
        # the last probe's answer is kept 5 s: a probe a second does not write a second
        wait_until(lambda: readiness(server)[0] == 503, timeout=20, what="store check failing")
        _status, body = readiness(server)
        assert body["failing"] == ["store"]
        store = body["checks"][1]
        assert store["detail"] == "not writable (EventStoreUnavailable)"
        assert str(path) not in json.dumps(body)  # the answer is public: no path
        said = [
            r.getMessage()
            for r in caplog.records
            if r.name == "server.services.operations.readiness"
        ]
        assert any("probe failed" in line and "locked" in line for line in said), said
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    wait_until(lambda: readiness(server)[0] == 200, timeout=20, what="ready again")


def test_metrics_count_taps_published_over_mqtt(server: ServerApp, mosquitto: Mosquitto) -> None:
    assert server.ingest.consumer.wait_subscribed(10)
    reader = Reader(mosquitto.port)
    try:
        taps = [make_tap(seq) for seq in range(1, 4)]
        reader.publish_taps(taps)
        wait_until(lambda: total(samples(server), "campus_taps_stored_total") == 3, what="3 stored")
        reader.publish(taps[0].to_json())  # re-sent later (not in the same batch): a duplicate
        reader.publish(b"{not json")
        reader.publish(make_tap(9).to_json(), topic=taps_topic(CAMPUS, "door-x"))
    finally:
        reader.close()
    wait_until(
        lambda: total(samples(server), "campus_ingest_messages_total") == 6,
        what="6 messages counted",
    )
    found = samples(server)
    process = {"process": server.leadership.holder}
    assert total(found, "campus_taps_stored_total", **process) == 3
    assert total(found, "campus_taps_duplicate_total") == 1
    assert total(found, "campus_taps_confirmed_total") == 4
    assert total(found, "campus_ingest_rejected_total", reason="malformed_json") == 1
    assert total(found, "campus_ingest_rejected_total", reason="unknown_reader") == 1
    assert total(found, "campus_ingest_rejected_total") == 2
    assert total(found, "campus_event_store_failures_total") == 0
    assert total(found, "campus_broker_connected", **process) == 1
    assert total(found, "campus_mqtt_malformed_packets_total", **process) == 0
    assert total(found, "campus_job_lease_held") == 1
    # the leader's jobs run at start: a duration and a success time for each, once done
    wanted = {"retention", "freeze-weeks", "occupancy", "reader-watch", "absence-watcher"}
    wait_until(lambda: wanted <= succeeded_jobs(server), timeout=30, what="the first job runs")
    assert total(found, "campus_alerts", kind="absence") == 0


def test_two_processes_on_one_registry_each_report_their_share(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    data = tmp_path / "data"
    first = build_server(serve_settings(data, mosquitto.port, "watch-1"))
    second = build_server(serve_settings(data, mosquitto.port, "watch-2"))
    with first, second:
        assert first.ingest.consumer.wait_subscribed(10)
        assert second.ingest.consumer.wait_subscribed(10)
        reader = Reader(mosquitto.port)
        try:
            reader.publish_taps([make_tap(seq) for seq in range(1, 21)])
        finally:
            reader.close()
        processes = {first.leadership.holder, second.leadership.holder}
        # the second process's share reaches the first one's /metrics through the registry
        wait_until(
            lambda: total(samples(first), "campus_taps_stored_total") == 20,
            timeout=20,
            what="20 taps stored, counted by the first process",
        )
        found = samples(first)
        shares = {
            process: total(found, "campus_taps_stored_total", process=process)
            for process in processes
        }
        assert all(share > 0 for share in shares.values()), shares  # $share: both took some
        assert total(found, "campus_process_up") == 2
        # whichever answers (another process's row is at most 5 s old)
        wait_until(
            lambda: total(samples(second), "campus_taps_stored_total") == 20,
            timeout=20,
            what="20 taps stored, counted by the second process",
        )
        # one of them runs the jobs; the other is ready all the same
        for app in (first, second):
            wait_until(lambda app=app: readiness(app)[0] == 200, timeout=20, what="ready")
        holders = {readiness(app)[1]["checks"][3]["holder"] for app in (first, second)}
        assert len(holders) == 1
        assert holders <= processes
