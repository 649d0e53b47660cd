"""``campus-presence serve`` and ``campus-presence rejections``."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError

from server.adapters.event_store import EventStoreError, EventStoreUnavailable
from server.adapters.web_server import WebServerError
from server.bootstrap import build_event_store, build_server, utc_now
from server.config import ConfigError, Settings, load_settings
from server.container import services_of
from server.process import keep_startup_objects
from server.registry.database import RegistryError

log = logging.getLogger(__name__)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve", help="run the server: MQTT ingest, presence engine, periodic jobs, web API"
    )
    serve.set_defaults(handler=serve_command)

    rejections = subparsers.add_parser("rejections", help="list rejected messages (dead letters)")
    rejections.add_argument("--hours", type=float, default=24.0, help="look back this many hours")
    rejections.add_argument("--limit", type=int, default=50)
    rejections.add_argument("--format", choices=("text", "json"), default="text")
    rejections.set_defaults(handler=rejections_command)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM (systemd's stop). Installed before anything
    starts, so a stop asked for during start-up (a slow registry, a held lock) still ends
    the process cleanly once it is up, instead of killing it with the default handler."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


# Exit statuses of ``serve`` (the systemd unit's RestartPreventExitStatus= relies on them):
# 0 stopped by SIGTERM/SIGINT; 1 something that may pass (a store or database server
# not up yet, the web port still held): systemd restarts it; 2 a configuration error
# (ConfigError, an unusable registry URL: printed by the CLI): restarting cannot fix it.
EXIT_RETRY = 1


def serve_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    configure_logging(settings)
    stop = stop_on_signals()
    return exit_status(lambda: _serve(settings, stop))


def exit_status(start: Callable[[], int]) -> int:
    """Run a server process (``serve``, ``web``) and map what stops it to the unit's exit
    statuses: 1 may pass (restarted), 2 a configuration error (raised to the CLI)."""
    try:
        return start()
    except (WebServerError, EventStoreUnavailable) as error:
        log.error("cannot start: %s", error)
        return EXIT_RETRY
    except EventStoreError as error:
        raise ConfigError(f"the event store refused the server: {error}") from None
    except RegistryError as error:
        if _may_pass(error):  # the database server is unreachable, not a bad URL
            log.error("cannot start: %s", error)
            return EXIT_RETRY
        raise


# What the database server answers to a wrong URL: a restart cannot fix it (exit 2).
_REFUSED = ("authentication failed", "does not exist", "no password supplied")


def _may_pass(error: RegistryError) -> bool:
    cause = error.__cause__
    if not isinstance(cause, OperationalError):
        return False
    return not any(words in str(cause) for words in _REFUSED)


def _serve(settings: Settings, stop: threading.Event) -> int:
    with build_server(settings) as server:
        if not server.ingest.consumer.wait_subscribed(timeout=30):
            log.warning(
                "not subscribed yet: is the MQTT broker at %s:%d up?",
                settings.mqtt.host,
                settings.mqtt.port,
            )
        keep_startup_objects()
        log.info("server running, web app on %s; stop with Ctrl+C", server.web_url)
        if services_of(server.web).accounts.count() == 0:
            log.warning(
                "no account yet: create the first one with "
                "`campus-presence create-admin --login <e-mail>`"
            )
        stop.wait()
    log.info("stopped: %s", server.ingest.service.counters.snapshot())
    return 0


def rejections_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, require_secret=False)
    store = build_event_store(settings)
    try:
        since = utc_now() - timedelta(hours=args.hours)
        rejections = store.rejections(since=since, limit=args.limit)
    finally:
        store.close()
    if args.format == "json":
        rows = [
            {
                "received_at": item.received_at.isoformat(),
                "reason": item.reason,
                "topic": item.topic,
                "detail": item.detail,
                "size": item.size,
                "campus": item.campus,
                "reader": item.reader,
            }
            for item in rejections
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rejections:
        print(f"no rejected message in the last {args.hours:g} h")
    zone = ZoneInfo(settings.presence.timezone)  # the campus's time, as the web app shows
    for item in rejections:
        local = item.received_at.astimezone(zone)
        print(f"{local:%Y-%m-%d %H:%M:%S %Z}  {item.reason:<16} {item.topic}  {item.detail}")
    return 0
