"""``campus-presence``: the server's command line. Each group of subcommands lives in its
own module exposing ``add_commands(subparsers)``; a subcommand sets ``handler`` to a
function ``(args) -> int`` that receives ``args.config`` (a TOML path or None)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.config import ConfigError

# The server's third-party modules; an edge-only install (``pip install '.[edge]'``) has
# the ``campus-presence`` command too (one package, one [project.scripts]) but not these.
SERVER_EXTRA_HINT = (
    "campus-presence: the server is not installed here (missing Python module {module}).\n"
    "This is the server's command; a door reader only needs `campus-edge`.\n"
    "To run the server: pip install '.[server]' (README.md)."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campus-presence", description="Presence and occupancy for a Campus connecté."
    )
    parser.add_argument("--config", type=Path, default=None, help="TOML configuration file")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in _command_modules():
        module.add_commands(subparsers)
    from server.entrypoints.annual_commands import add_report_kinds

    add_report_kinds(subparsers.choices["report"])
    return parser


def _command_modules() -> list:
    from server.entrypoints import (
        account_commands,
        alert_commands,
        demo_command,
        doctor_command,
        ingest_commands,
        ops_commands,
        presence_commands,
        privacy_command,
        web_command,
    )

    return [
        ingest_commands,
        demo_command,
        presence_commands,
        alert_commands,
        account_commands,
        ops_commands,
        privacy_command,
        web_command,
        doctor_command,
    ]


def main(argv: list[str] | None = None) -> int:
    try:
        from server.registry.database import RegistryError

        parser = build_parser()
    except ModuleNotFoundError as missing:
        print(SERVER_EXTRA_HINT.format(module=missing.name), file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as error:
        print(f"campus-presence: configuration error: {error}", file=sys.stderr)
        return 2
    except RegistryError as error:
        print(f"campus-presence: registry error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
