"""``campus-presence``: the server's command line. Each group of subcommands lives in its
own module exposing ``add_commands(subparsers)``; a subcommand sets ``handler`` to a
function ``(args) -> int`` that receives ``args.config`` (a TOML path or None)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.config import ConfigError


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
        ingest_commands,
        presence_commands,
    )

    return [ingest_commands, demo_command, presence_commands, alert_commands, account_commands]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as error:
        print(f"campus-presence: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
