"""``campus-presence`` on an edge-only install (no flask, no sqlalchemy): a clear message
and exit status 2, no traceback. The server's modules are made unimportable in a fresh
interpreter (``sys.modules[name] = None``), as they are absent on a door's install."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = (
    "import sys\n"
    "for name in ('sqlalchemy', 'flask', 'alembic', 'paho', 'influxdb_client', 'amqtt'):\n"
    "    sys.modules[name] = None\n"
    "from server.entrypoints.cli import main\n"
    "sys.exit(main(['demo']))\n"
)


def test_the_server_command_without_the_server_extra_says_what_to_install() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "the server is not installed here" in result.stderr
    assert "pip install '.[server]'" in result.stderr
