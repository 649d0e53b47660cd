"""``/metrics`` and ``/readyz`` of the real app (``build_server``, not started: no MQTT
connection, no jobs running) on its SQLite registry and event store: who may read the
metrics, what the registry and the stored reader statuses show in them, and readiness
naming what fails."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from edge.protocol import ReaderState, ReaderStatus, status_topic
from server.bootstrap import watching
from server.container import Services, services_of
from server.domain.events import InboundMessage
from server.registry.alert_models import Alert
from server.registry.shared_state_models import JobLease
from server.services.operations.leadership import JOBS
from server.web import auth, watch
from server.web.app import create_app
from tests.web.conftest import CAMPUS, DOOR, PARIS, STUDENTS, World, log_in

TOKEN = "metrics-token-0123456789abcdef"


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=PARIS)


def metrics(world: World, **environ: str) -> dict[tuple[str, frozenset], float]:
    answer = world.app.test_client().get("/metrics", environ_base=environ)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= set(ls))


def test_metrics_answer_loopback_only_without_a_token(world: World) -> None:
    client = world.app.test_client()
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert outside.status_code == 403
    assert "campus_" not in outside.get_data(as_text=True)
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        local = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert local.status_code == 200, address
        assert local.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    # a reverse proxy on this machine forwards strangers: refused without a token
    proxied = client.get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert proxied.status_code == 403


def test_metrics_answer_another_host_with_the_bearer_token(world: World) -> None:
    settings = services_of(world.app).settings
    web = replace(settings.web, metrics_token=TOKEN)
    services_of(world.app).settings = replace(settings, web=web)
    client = world.app.test_client()
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    missing = client.get("/metrics", environ_base=remote)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get(
        "/metrics", environ_base=remote, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert right.status_code == 200
    assert "campus_process_info" in right.get_data(as_text=True)


def test_metrics_show_alerts_unconfirmed_taps_and_logins(world: World) -> None:
    before = metrics(world)
    assert value(before, "campus_alerts", kind="absence") == 0
    world.readers_online(at(8, 0))
    world.clock.set(at(9, 10))
    world.check_absences()
    world.clock.set(at(9, 16))
    world.check_absences()  # nobody came at 09:00: the five students are absent
    # the door holds 7 taps it could not deliver, the oldest from 09:02
    status = ReaderStatus(
        state=ReaderState.ONLINE, ts=world.clock(), queued=7, oldest=at(9, 2), heartbeat=3600
    )
    world.server.ingest.service.handle_batch(
        [InboundMessage(status_topic(CAMPUS, DOOR), status.to_json(), world.clock())]
    )
    failed = auth.counters["login_failed"]
    log_in(world.app.test_client(), "alice", "not her password")
    assert auth.counters["login_failed"] == failed + 1
    found = metrics(world)
    with world.registry() as session:
        stored = session.scalar(
            select(func.count()).where(Alert.kind == "absence", Alert.status == "open")
        )
    assert stored == len(STUDENTS)
    assert value(found, "campus_alerts", kind="absence", status="open") == stored
    door = {"campus": CAMPUS, "reader": DOOR}
    assert value(found, "campus_reader_unconfirmed_taps", **door) == 7
    oldest = value(found, "campus_reader_oldest_unconfirmed_tap_time_seconds", **door)
    assert oldest == at(9, 2).timestamp()
    assert value(found, "campus_reader_health", **door, health="online") == 1
    assert value(found, "campus_logins_total", outcome="failed") == failed + 1
    # statuses went through this process's ingest: counted with its process label
    process = {"process": world.server.leadership.holder}
    assert value(found, "campus_reader_statuses_total", **process) >= 1
    # the two absence checks ran as the job's turns: this process took the lease
    assert value(found, "campus_job_lease_held") == 1
    assert value(found, "campus_job_runs_total", **process, job="absence-watcher") == 2
    assert value(found, "campus_job_failures_total", **process, job="absence-watcher") == 0
    assert value(found, "campus_job_runs_total", **process, job="freeze-weeks") == 0


def test_readyz_names_what_fails_in_a_process_not_started(world: World) -> None:
    answer = world.app.test_client().get("/readyz")
    assert answer.status_code == 503
    body = json.loads(answer.get_data(as_text=True))
    assert body["status"] == "not ready"
    assert body["failing"] == ["broker", "jobs"]  # not connected; no job lease held
    checks = {check["name"]: check for check in body["checks"]}
    assert checks["store"]["ok"] and checks["registry"]["ok"]
    assert checks["jobs"]["detail"] == "no process holds the job lease"
    # this process takes the lease: it reports its jobs from memory (just started)
    world.server.leadership.renew(world.clock())
    assert _jobs(world)["ok"] is True
    assert _jobs(world)["holder"] == world.server.leadership.holder
    # a lease held by a process that writes no report is not enough
    world.server.leadership.release()
    with world.registry() as session, session.begin():
        session.add(
            JobLease(
                name=JOBS,
                holder="elsewhere:1:deadbeef",
                acquired_at=world.clock(),
                expires_at=world.clock() + timedelta(seconds=30),
            )
        )
    jobs = _jobs(world)
    assert jobs["ok"] is False
    assert jobs["detail"] == "the job lease holder reports nothing lately"
    world.clock.advance(seconds=31)  # the lease expired, nobody renewed it
    assert _jobs(world)["detail"] == "no process holds the job lease"


def _jobs(world: World) -> dict:
    body = json.loads(world.app.test_client().get("/readyz").get_data(as_text=True))
    return {check["name"]: check for check in body["checks"]}["jobs"]


def test_a_web_only_process_checks_what_it_runs_and_shows_the_others_counters(
    world: World,
) -> None:
    """A process serving the web app only (no broker, no jobs) on the same registry: its
    readiness has no broker or store check, and its jobs check looks at the lease holder
    (the ``serve`` process here), through the holder's row in the registry."""
    reporter, readiness, metrics = watching(
        world.settings, world.registry, process="web-only:1:0a0b0c0d", clock=world.clock
    )
    services = Services(
        settings=world.settings,
        clock=world.clock,
        ledger=world.server.ledger,
        registry=world.registry,
        readiness=readiness,
        metrics=metrics,
    )
    web_only = create_app(services, blueprints=[watch.blueprint])
    serving = world.server
    serving.leadership.renew(world.clock())  # the serve process runs the jobs...
    answer = web_only.test_client().get("/readyz")
    body = json.loads(answer.get_data(as_text=True))
    assert [check["name"] for check in body["checks"]] == ["registry", "jobs"]
    assert answer.status_code == 503  # ...but has written no report yet
    assert body["failing"] == ["jobs"]
    world.tap("E001", at(9, 5))
    serving.reporter.write()  # what its thread does every 5 s
    answer = web_only.test_client().get("/readyz")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found = {}
    text = web_only.test_client().get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    holder = {"process": serving.leadership.holder}
    assert value(found, "campus_taps_stored_total", **holder) == 1
    assert value(found, "campus_process_info", process=reporter.process) == 1
    assert value(found, "campus_taps_stored_total", process=reporter.process) == 0
