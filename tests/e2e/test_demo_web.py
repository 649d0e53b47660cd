"""The README's first command opens the web app: demo accounts are printed, and a
tutor who logs in sees the simulated morning's absences with a number to call."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A cookie-keeping HTTP client, as plain as a browser without JavaScript."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=5) as answer:
            return answer.geturl(), answer.read().decode()

    def log_in(self, login: str, password: str) -> tuple[str, str]:
        _url, page = self.get("/login")
        token = CSRF.search(page)
        assert token, page
        body = urllib.parse.urlencode(
            {"login": login, "password": password, "csrf_token": token[1]}
        ).encode()
        with self.opener.open(self.base + "/login", data=body, timeout=5) as answer:
            return answer.geturl(), answer.read().decode()


def _read_intro(process: subprocess.Popen[str]) -> tuple[str, str]:
    """The web URL and the demo password, from the demo's first lines."""
    url = password = None
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while (url is None or password is None) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith(("Application web", "Web application")):
            url = line.split()[-1]
        if found := re.search(r"(?:mot de passe pour tous|password for all) ?: (\w+)", line):
            password = found[1]
    assert url and password, "the demo printed no web URL or password"
    return url, password


@pytest.mark.slow
def test_a_tutor_logs_into_the_demo_and_sees_absences_to_call(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "server.entrypoints.cli", "demo"]
    process = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path / "demo"), "--speed", "240", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url, password = _read_intro(process)
        tutor = Browser(url)
        landed, page = tutor.log_in("tutrice", password)
        assert landed.endswith("/tutor/now"), landed
        deadline = time.monotonic() + 40
        while 'href="tel:' not in page and time.monotonic() < deadline:
            time.sleep(1)
            _url, page = tutor.get("/tutor/now")
        assert 'href="tel:' in page, "no absence to call on the tutor's Now page"
        coordinator = Browser(url)
        landed, page = coordinator.log_in("coordination", password)
        assert landed.endswith("/coordinator/occupancy"), landed
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
