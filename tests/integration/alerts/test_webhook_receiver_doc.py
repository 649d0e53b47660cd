"""The webhook receiver shown in ``docs/alerts.md``, run as it is written (the exact code
block, in its own Python process) against a real delivery of the product: an absence
alert raised by the watcher on the real registry, its notice built by the registry, sent
by the campus's webhook channel as configured there, over HTTP on loopback. The receiver
texts it once, answers a replay of the same delivery without texting again, and refuses
a forged signature and a stale request."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from server.adapters.alert_channels import SIGNATURE_HEADER, webhook_payload
from server.bootstrap import campus_channels
from server.domain.notices import Notice, NoticeKind
from server.registry.alert_models import Alert, AlertChannelSettings
from server.registry.alert_repository import AlertRepository
from server.registry.models import Tutor
from tests.integration.alerts.conftest import paris, statuses
from tests.services import free_port

DOC = Path(__file__).resolve().parents[3] / "docs" / "alerts.md"
MARKER = "<!-- webhook receiver example -->"
SECRET = "doc-receiver-secret-0123456789"
BASE = "https://presence.example.org"


def receiver_code() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", text, re.DOTALL)
    assert found, f"no python block after {MARKER} in {DOC}"
    return found[1]


class Receiver:
    """The documented receiver in a subprocess; its printed lines in a queue."""

    def __init__(self, script: Path, port: int) -> None:
        env = {**os.environ, "CAMPUS_WEBHOOK_SECRET": SECRET, "PORT": str(port)}
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(script)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = f"http://127.0.0.1:{port}/sms"
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []  # its stderr: the access log, a traceback
        self.readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_errors, daemon=True),
        ]
        for reader in self.readers:
            reader.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the receiver did not start: {self.errors}") from None
                time.sleep(0.05)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.rstrip("\n"))

    def next_lines(self, count: int) -> list[str]:
        return [self.lines.get(timeout=10) for _ in range(count)]

    def drain(self) -> list[str]:
        found = []
        while not self.lines.empty():
            found.append(self.lines.get_nowait())
        return found

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        for reader in self.readers:
            reader.join(timeout=5)  # both pipes end with the process
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    script = tmp_path / "receiver.py"
    script.write_text(receiver_code(), encoding="utf-8")
    started = Receiver(script, free_port())
    yield started
    started.close()


def _absence_notice(alerting, events, registry, receiver: Receiver) -> Notice:
    """A real absence alert (E001, Monday 09:00 slot), with the campus's webhook on."""
    statuses(events, paris(8), paris(9, 16))
    assert [n.student_id for n in alerting.watcher.check(paris(9, 15, 30)).noticed] == ["E001"]
    with registry() as session, session.begin():
        for tutor in session.scalars(select(Tutor)):
            tutor.phone = "04 76 00 00 09"
        session.add(
            AlertChannelSettings(
                campus_id="campus-a",
                base_url=BASE,
                webhook_enabled=True,
                webhook_url=receiver.url,
                webhook_secret_env="CAMPUS_WEBHOOK_SECRET",
                mqtt_enabled=False,
            )
        )
    with registry() as session:
        pk = session.scalar(select(Alert.id).where(Alert.kind == "absence"))
        return AlertRepository(session).notice(pk, NoticeKind.RAISED)


def _post(url: str, body: bytes, signature: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback http)
        url, data=body, method="POST", headers={SIGNATURE_HEADER: signature}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_documented_receiver_checks_a_real_delivery(
    alerting, events, registry, receiver: Receiver
) -> None:
    notice = _absence_notice(alerting, events, registry, receiver)
    channels = campus_channels(registry, publish=None, environ={"CAMPUS_WEBHOOK_SECRET": SECRET})(
        "campus-a"
    )
    webhook = channels["webhook"]
    assert webhook.handles(notice)

    webhook.send(notice)  # the product's delivery: raises unless answered 2xx
    verdict, sms = receiver.next_lines(2)
    assert verdict == "webhook ok"
    link = f"{BASE}/tutor/alerts/{notice.alert_id}"
    assert sms.startswith('SMS ["+33476000009"] Absence constatée : ')
    assert sms.endswith(f" - 06 12 34 56 78 - {link}")

    webhook.send(notice)  # the same delivery again (a retry, or a replay): 200, no SMS
    assert receiver.next_lines(1) == ["webhook duplicate"]

    body = json.dumps(webhook_payload(notice, at=datetime.now(UTC))).encode()
    assert _post(receiver.url, body, _sign(body, "not-the-secret-0123456789")) == 403
    assert receiver.next_lines(1) == ["webhook forged"]
    assert _post(receiver.url, body + b" ", _sign(body)) == 403  # altered after signing
    assert receiver.next_lines(1) == ["webhook forged"]

    old = replace_id(webhook_payload(notice, at=datetime.now(UTC) - timedelta(minutes=6)))
    stale = json.dumps(old).encode()
    assert _post(receiver.url, stale, _sign(stale)) == 403
    assert receiver.next_lines(1) == ["webhook stale"]
    time.sleep(0.2)
    assert receiver.drain() == []  # nothing else was texted
    assert not [line for line in receiver.errors if "Traceback" in line]


def replace_id(payload: dict[str, object]) -> dict[str, object]:
    """A delivery the receiver has not seen (so only its age can refuse it)."""
    return payload | {"id": f"{payload['id']}-other"}
