"""``campus-presence web [--workers N]``: the web application alone, in N processes that
share ``[web] host:port`` (``SO_REUSEPORT``: the kernel spreads the connections among
them), beside the ``serve`` process that runs the ingest and the periodic jobs.

Every process is interchangeable (docs/scaling.md, "Web workers and jobs"): sessions are
signed with one key (``[web] secret_key`` or the data folder's key file), the login
throttle, the session versions, live occupancy and its corrections live in the registry
or are derived from the stored taps; flash messages and CSRF tokens travel in the signed
session cookie."""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import threading

from server.bootstrap import build_server
from server.config import ConfigError, Settings, load_settings
from server.entrypoints.ingest_commands import (
    configure_logging,
    exit_status,
    stop_on_signals,
)
from server.process import keep_startup_objects

log = logging.getLogger(__name__)

STOP_WAIT_S = 15.0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    web = subparsers.add_parser(
        "web",
        help="run the web application only (no ingest, no jobs), in one or more processes "
        "sharing [web] host:port with SO_REUSEPORT",
    )
    web.add_argument(
        "--workers",
        type=int,
        default=1,
        help="number of web processes (default 1; about one per core beside serve)",
    )
    web.set_defaults(handler=web_command)


def web_command(args: argparse.Namespace) -> int:
    if not 1 <= args.workers <= 64:
        raise ConfigError(f"--workers must be between 1 and 64, got {args.workers}")
    settings = load_settings(args.config)
    configure_logging(settings)
    if args.workers > 1:
        return _supervise(args)
    stop = stop_on_signals()
    return exit_status(lambda: _serve_web(settings, stop))


def _serve_web(settings: Settings, stop: threading.Event) -> int:
    server = build_server(settings, web_only=True)
    try:
        server.start_web()
        keep_startup_objects()
        log.info("web process listening on %s; stop with Ctrl+C", server.web_url)
        stop.wait()
    finally:
        server.close()
    return 0


def _supervise(args: argparse.Namespace) -> int:
    """Start ``--workers`` single web processes (this command again); stop them all on
    SIGTERM/SIGINT, or when one of them ends (non-zero: a service manager restarts us)."""
    command = [sys.executable, "-m", "server.entrypoints.cli"]
    if args.config is not None:
        command += ["--config", str(args.config)]
    command += ["web", "--workers", "1"]
    stop = stop_on_signals()
    children = [subprocess.Popen(command) for _ in range(args.workers)]
    log.info("%d web processes started: %s", len(children), [c.pid for c in children])
    ended = None
    while not stop.is_set() and ended is None:
        stop.wait(0.5)
        ended = next((child for child in children if child.poll() is not None), None)
    if ended is not None:
        log.error("web process %d ended (status %s): stopping the others", ended.pid, ended.poll())
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if ended is not None:
        return ended.returncode or 1
    return 0
