"""The database servers' own tools behind ``backup`` and ``restore`` (docs/operations.md):

- PostgreSQL registry: ``pg_dump --format=custom`` (one consistent snapshot) and
  ``pg_restore --clean --if-exists --single-transaction`` (all or nothing);
- InfluxDB 1.x events: ``influxd backup -portable`` over influxd's RPC port, and a restore
  into a *staging* database (``influxd restore -portable -newdb``: influxd refuses to
  restore into an existing database) whose points are then copied into the configured
  database with ``SELECT * INTO … GROUP BY *`` and the staging database dropped.

Every failure raises :class:`OpsError` with a one-line message for the operator."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3
from sqlalchemy import make_url

from server.config import InfluxSettings

TOOL_TIMEOUT_S = 300
SETTLE_TIMEOUT_S = 60


class OpsError(RuntimeError):
    """A backup or restore that cannot be done; the message says why."""


def _last_line(text: str) -> str:
    """The line of a tool's output that says what went wrong: its first error line, or
    its last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["(no message)"])[0 if errors else -1][-300:]


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=TOOL_TIMEOUT_S,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired:
        raise OpsError(f"{what} did not finish within {TOOL_TIMEOUT_S} s") from None
    except OSError as error:
        raise OpsError(f"{what}: cannot run {command[0]}: {error.strerror}") from None
    if result.returncode != 0:
        raise OpsError(f"{what} failed: {_last_line(result.stderr or result.stdout)}")
    return result.stdout


# -- PostgreSQL --------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on the PATH (Debian's postgresql-client), else the
    newest in /usr/lib/postgresql/*/bin (the server package)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / name).exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise OpsError(
            f"the registry is in PostgreSQL but '{name}' is not found: install the Debian "
            "package postgresql-client (the same major version as the server, or newer)"
        )
    return str(versions[-1] / name)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for a SQLAlchemy URL, and the environment that carries its
    password (never on the command line, where ``ps`` shows it)."""
    parsed = make_url(url)
    env = {"PGCONNECT_TIMEOUT": "10"}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def pg_dump(url: str, target: Path) -> None:
    uri, env = _libpq(url)
    command = [pg_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={uri}"]
    _run(command, "pg_dump of the registry", env)
    target.chmod(0o600)


def pg_dump_tables(dump: Path) -> set[str]:
    """The tables a custom-format dump creates; reading its table of contents also checks
    that pg_restore can read it."""
    listing = _run([pg_tool("pg_restore"), "--list", str(dump)], "reading the registry dump")
    tables = set()
    for line in listing.splitlines():
        # "215; 1259 16390 TABLE public students campus"
        match = re.match(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", line)
        if match:
            tables.add(match.group(2))
    return tables


def pg_restore(url: str, dump: Path) -> None:
    """Replace the dump's objects in the registry's database in one transaction: on any
    error nothing is changed."""
    uri, env = _libpq(url)
    command = [
        pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
        f"--dbname={uri}",
        str(dump),
    ]
    _run(command, "pg_restore of the registry", env)


# -- InfluxDB 1.x ------------------------------------------------------------------------


def influxd_binary() -> str:
    binary = shutil.which("influxd")
    if binary is None:
        raise OpsError(
            "the events are in InfluxDB but 'influxd' (for its backup and restore) is not "
            "found: install the package influxdb (1.x) on this machine"
        )
    return binary


def rpc_host(settings: InfluxSettings, host: str) -> str:
    """influxd's RPC address: ``host`` if given, else the InfluxDB URL's host, port 8088."""
    return host or f"{urlsplit(settings.url).hostname or '127.0.0.1'}:8088"


def influxd_backup(settings: InfluxSettings, host: str, folder: Path) -> dict[str, int]:
    """``influxd backup`` of the configured database into ``folder``; returns its points
    per measurement counted just before: the backup holds at least as many."""
    counts = point_counts(settings, settings.database)
    command = [influxd_binary(), "backup", "-portable", "-host", rpc_host(settings, host)]
    command += ["-database", settings.database, str(folder)]
    # influxd retries an unreachable server for minutes: _run bounds it.
    _run(command, f"influxd backup from {rpc_host(settings, host)}")
    return counts


def quote(identifier: str) -> str:
    return '"' + identifier.replace("\\", "\\\\").replace('"', '\\"') + '"'


def influxql(settings: InfluxSettings, query: str, database: str = "") -> list[dict[str, Any]]:
    """The series of one InfluxQL statement, on the configured server's ``/query``
    (``database``: the ``db`` of a statement that names none)."""
    headers: dict[str, str] = {}
    if settings.token:
        headers["Authorization"] = f"Token {settings.token}"
    elif settings.username:
        headers = urllib3.make_headers(basic_auth=f"{settings.username}:{settings.password}")
    try:
        response = urllib3.PoolManager().request(
            "POST",
            settings.url.rstrip("/") + "/query",
            fields={"q": query, **({"db": database} if database else {})},
            encode_multipart=False,
            headers=headers,
            timeout=urllib3.Timeout(connect=settings.timeout_s, read=TOOL_TIMEOUT_S),
            retries=False,
        )
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise OpsError(f"InfluxDB at {settings.url}: {error}") from None
    try:
        body = json.loads(response.data)
        result = body.get("results", [{}])[0]
    except (ValueError, AttributeError, IndexError):
        raise OpsError(f"InfluxDB at {settings.url} answered {response.status}") from None
    error = body.get("error") or result.get("error")
    if response.status != 200 or error:
        raise OpsError(f"InfluxDB at {settings.url}: {error or response.status}")
    return result.get("series", [])


def _rows(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        dict(zip(s["columns"], values, strict=True))
        for s in series
        for values in s.get("values", [])
    ]


def databases(settings: InfluxSettings) -> set[str]:
    return {row["name"] for row in _rows(influxql(settings, "SHOW DATABASES"))}


def _duration(text: str) -> str:
    """influxd's "9600h0m0s" as an InfluxQL duration ("0s": infinite)."""
    seconds = sum(
        int(n) * {"h": 3600, "m": 60, "s": 1}[unit] for n, unit in re.findall(r"(\d+)([hms])", text)
    )
    return f"{seconds}s" if seconds else "INF"


def point_counts(settings: InfluxSettings, database: str) -> dict[str, int]:
    """Points per "retention policy.measurement" of ``database``."""
    counts: dict[str, int] = {}
    for policy in _rows(influxql(settings, f"SHOW RETENTION POLICIES ON {quote(database)}")):
        rp = policy["name"]
        for series in influxql(
            settings, f"SELECT count(*) FROM {quote(database)}.{quote(rp)}./.*/"
        ):
            row = (series.get("values") or [[0]])[0]
            counts[f"{rp}.{series['name']}"] = max((v or 0 for v in row[1:]), default=0)
    return counts


def influxd_restore_staged(
    settings: InfluxSettings,
    host: str,
    folder: Path,
    source_db: str,
    staging_db: str,
    at_least: dict[str, int],
) -> dict[str, int]:
    """Restore the backup's ``source_db`` into the new database ``staging_db`` and wait
    until it answers with at least ``at_least`` points (influxd reopens the restored
    shards after ``influxd restore`` returns: a query meanwhile fails or sees nothing).
    Returns its points per measurement. On failure the staging database is dropped and
    nothing else changed."""
    command = [influxd_binary(), "restore", "-portable", "-host", rpc_host(settings, host)]
    command += ["-db", source_db, "-newdb", staging_db, str(folder)]
    try:
        _run(command, f"influxd restore to {rpc_host(settings, host)}")
        return _settled(settings, staging_db, at_least)
    except OpsError:
        drop_database(settings, staging_db)
        raise


def _settled(settings: InfluxSettings, database: str, at_least: dict[str, int]) -> dict[str, int]:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    last: dict[str, int] | None = None
    problem = ""
    while True:
        try:
            counts: dict[str, int] | None = point_counts(settings, database)
        except OpsError as error:
            counts, problem = None, str(error)
        if counts is not None:
            short = {k: n for k, n in at_least.items() if counts.get(k, 0) < n}
            problem = ", ".join(f"{k}: {counts.get(k, 0)} of {n}" for k, n in short.items())
            if not short and counts == last:
                return counts
        last = counts
        if time.monotonic() > deadline:
            raise OpsError(
                f"the restored database {database} did not hold the archive's points within "
                f"{SETTLE_TIMEOUT_S} s ({problem or 'still changing'})"
            )
        time.sleep(0.2)


def drop_database(settings: InfluxSettings, name: str) -> None:
    with contextlib.suppress(OpsError):  # best effort: the caller reports the first error
        influxql(settings, f"DROP DATABASE {quote(name)}")


def influx_copy(settings: InfluxSettings, staging_db: str, points: int) -> int:
    """Copy every point of ``staging_db`` (``points`` in all) into the configured database
    (created, with the staging database's retention policies, if missing), check that
    all were written, then drop ``staging_db``.
    Returns how many points were written. Points already there are kept; a point of the
    same series and time takes the backup's values."""
    target = settings.database
    influxql(settings, f"CREATE DATABASE {quote(target)}")
    policies = _rows(influxql(settings, f"SHOW RETENTION POLICIES ON {quote(staging_db)}"))
    existing = {
        row["name"]
        for row in _rows(influxql(settings, f"SHOW RETENTION POLICIES ON {quote(target)}"))
    }
    written = 0
    for policy in policies:
        name = policy["name"]
        if name not in existing:
            influxql(
                settings,
                f"CREATE RETENTION POLICY {quote(name)} ON {quote(target)} DURATION "
                f"{_duration(policy['duration'])} REPLICATION 1"
                + (" DEFAULT" if policy.get("default") else ""),
            )
        series = influxql(
            settings,
            f"SELECT * INTO {quote(target)}.{quote(name)}.:MEASUREMENT "
            f"FROM {quote(staging_db)}.{quote(name)}./.*/ GROUP BY *",
        )
        written += sum(row.get("written", 0) for row in _rows(series))
    if written < points:
        raise OpsError(f"{written} points were copied out of {points}")
    influxql(settings, f"DROP DATABASE {quote(staging_db)}")
    return written
