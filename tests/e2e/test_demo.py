"""The README's first command: the embedded default runs and shows taps being stored."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_stores_the_simulated_morning_and_lists_its_rejections(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    command = [sys.executable, "-m", "server.entrypoints.cli", "demo", "--data-dir", str(data_dir)]
    result = subprocess.run(
        [*command, "--speed", "1200", "--duration", "8"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stored = [
        int(value)
        for value in re.findall(r"(?:Taps stored|Passages enregistrés) ?: (\d+)", result.stdout)
    ]
    assert stored and stored[-1] > 20, result.stdout
    assert "porte-1" in result.stdout

    rejections = subprocess.run(
        [sys.executable, "-m", "server.entrypoints.cli", "rejections"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"CAMPUS_SERVER_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
    )
    assert rejections.returncode == 0, rejections.stderr
    assert "malformed_json" in rejections.stdout
    assert re.search(r"\d{2}:\d{2}:\d{2} CES?T ", rejections.stdout), rejections.stdout  # Paris


def _logged_in(url: str, login: str, password: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{url}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    form = {"login": login, "password": password, "csrf_token": token[1]}
    opener.open(f"{url}/login", data=urllib.parse.urlencode(form).encode(), timeout=10)
    return opener


def _status(opener: urllib.request.OpenerDirector, request: urllib.request.Request | str) -> int:
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_a_second_demo_run_in_the_same_folder_starts_clean_and_never_answers_500(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "demo"
    command = [sys.executable, "-m", "server.entrypoints.cli", "demo", "--data-dir", str(data_dir)]
    first = subprocess.run(
        [*command, "--speed", "1200", "--duration", "6"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    # the second run starts again at 08:30, on a clean folder, and says so
    second = subprocess.Popen(
        [*command, "--speed", "60", "--duration", "40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines, url, password = [], None, None
        while url is None or password is None:
            line = second.stdout.readline()
            assert line, "".join(lines) + second.stderr.read()
            lines.append(line)
            if found := re.search(r"(?:Web application|Application web) ?: (http\S+)", line):
                url = found[1]
            if found := re.search(r"\((?:password for all|mot de passe[^:]*) ?: (\S+)\)", line):
                password = found[1]
        intro = "".join(lines)
        assert re.search(r"(?:Starting clean|Départ à neuf)", intro), intro
        # the printed command names the venv's script, which exists as printed
        hint = re.search(r"CAMPUS_SERVER_DATA_DIR=\S+ (\S+) rejections", intro)
        assert hint and Path(hint[1]).exists(), intro
        time.sleep(3)  # a few simulated minutes: reader statuses, occupancy
        admin = _logged_in(url, "admin", password)
        coordinator = _logged_in(url, "coordination", password)
        token = (data_dir / "api-token").read_text().strip()
        readers = urllib.request.Request(  # noqa: S310 (the demo's own http URL)
            f"{url}/api/v1/readers", headers={"Authorization": f"Bearer {token}"}
        )
        assert _status(admin, f"{url}/admin/") == 200
        assert _status(coordinator, f"{url}/coordinator/occupancy") == 200
        assert _status(admin, readers) == 200
    finally:
        second.terminate()
        out, err = second.communicate(timeout=30)
    assert "Traceback" not in err and "ValueError" not in err, err
    # nothing printed twice while nothing happens: no summary every 2 s
    assert (out.count("Taps stored") + out.count("Passages enregistrés")) <= 1, out
