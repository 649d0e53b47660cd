"""Real Mosquitto and influxd processes on free loopback ports, in temporary folders.

Used by the pytest fixtures in ``conftest.py`` and by the benchmarks in ``bench/``.
Each server can be stopped and started again on the same port and data folder, so tests
can prove that nothing is lost across a restart.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if path is None:
        raise ServiceError(
            f"{binary} not found: install the Debian package {package!r} "
            "(the README's test command does it)"
        )
    return path


def _wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(
                f"server exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise ServiceError(f"server did not listen on {port} within {timeout}s")


class _Process:
    name = "server"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = folder / f"{self.name}.log"

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> None:
        assert self.process is not None
        _wait_port(self.port, self.process, self.log)

    def start(self) -> None:
        if self.running:
            return
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self._command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._ready()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Mosquitto(_Process):
    """Mosquitto with persistence, anonymous access by default, optional passwords + ACL."""

    name = "mosquitto"

    def __init__(
        self,
        folder: Path,
        *,
        passwords: dict[str, str] | None = None,
        acl: str | None = None,
        extra: str = "",
    ) -> None:
        super().__init__(folder)
        self.binary = _require("mosquitto", "mosquitto")
        self.config = folder / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {folder}/",
            # 0 (no limit) makes Mosquitto 2.0.11 drop a client right after refusing its
            # publish; a large bound keeps everything a test can queue.
            "max_queued_messages 1000000",
            "max_inflight_messages 0",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if passwords:
            pwfile = folder / "passwords"
            pwfile.write_text("")
            passwd = _require("mosquitto_passwd", "mosquitto")
            for user, password in passwords.items():
                subprocess.run([passwd, "-b", str(pwfile), user, password], check=True)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            lines.append("allow_anonymous true")
        if acl is not None:
            acl_file = folder / "acl"
            acl_file.write_text(acl)
            lines.append(f"acl_file {acl_file}")
        self.config.write_text("\n".join(lines) + "\n" + extra)
        self._give_to_mosquitto_user()

    def _give_to_mosquitto_user(self) -> None:
        """Started as root, mosquitto drops to user ``mosquitto`` before opening files."""
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam("mosquitto")
        except KeyError:
            return
        for path in [self.folder, *self.folder.iterdir()]:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _command(self) -> list[str]:
        return [self.binary, "-c", str(self.config)]


class Influxd(_Process):
    """InfluxDB 1.x (Debian's 1.6) with meta/data/wal in a temp folder."""

    name = "influxd"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.binary = _require("influxd", "influxdb")
        self.rpc_port = free_port()
        self.config = folder / "influxdb.conf"
        self.config.write_text(
            f"""
reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{folder}/meta"
[data]
  dir = "{folder}/data"
  wal-dir = "{folder}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
"""
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        return [self.binary, "run", "-config", str(self.config)]

    def _ready(self) -> None:
        super()._ready()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/ping", timeout=1) as response,  # noqa: S310
            ):
                if response.status == 204:
                    return
            time.sleep(0.02)
        raise ServiceError("influxd did not answer /ping")


class Postgres(_Process):
    """A private PostgreSQL cluster (Debian's ``postgresql`` package, version 15 or the
    newest found) in a temp folder, on a free loopback port, trust authentication for the
    role ``campus``. initdb refuses to run as root: as root, the cluster belongs to the
    ``postgres`` user and the server runs as that user."""

    name = "postgres"
    role = "campus"

    def __init__(self, folder: Path, password: str = "") -> None:
        """``password``: the role's password, checked (scram-sha-256) instead of trust."""
        super().__init__(folder)
        self.bin = _postgres_bin()
        self.data = folder / "data"
        self.password = password
        auth = ["--auth=trust"]
        if password:
            pwfile = folder / "pwfile"
            pwfile.write_text(password + "\n")
            auth = ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres").pw_name
            except KeyError as error:
                raise ServiceError("running as root needs the 'postgres' user") from error
            entry = pwd.getpwnam(self.user)
            for path in [folder, *folder.iterdir()]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
            folder.chmod(0o700)
        result = subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                self.role,
                *auth,
                "--encoding=UTF8",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            user=self.user,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"initdb failed: {result.stdout[-1000:]}{result.stderr[-1000:]}")

    def _command(self) -> list[str]:
        return [
            str(self.bin / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.folder),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",  # a test cluster: speed over durability
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]

    def start(self) -> None:
        if self.running:
            return
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self._command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user,
            )
        self._ready()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.execute("SELECT 1")
                return
            except ServiceError:
                time.sleep(0.05)
        raise ServiceError(f"postgres did not accept connections: {self.log.read_text()[-2000:]}")

    def url(self, database: str) -> str:
        login = f"{self.role}:{self.password}" if self.password else self.role
        return f"postgresql+psycopg://{login}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        """One statement in autocommit mode (CREATE/DROP DATABASE need it)."""
        import psycopg

        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=self.role,
                password=self.password or None,
                dbname=database,
                autocommit=True,
            ) as connection:
                connection.execute(sql)
        except psycopg.OperationalError as error:
            raise ServiceError(str(error)) from error

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its SQLAlchemy URL."""
        suffix = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)


def _postgres_bin() -> Path:
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*") if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not versions:
        raise ServiceError(
            "PostgreSQL not found in /usr/lib/postgresql: install the Debian package "
            "'postgresql' (the README's test command does it)"
        )
    return versions[-1] / "bin"
