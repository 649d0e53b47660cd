"""``campus-presence doctor``: checks the configuration, secrets, file modes, broker,
event store, registry, clock, readers and web port, one line each with what to fix
(server/entrypoints/doctor_checks.py). Exit status 0: no FAIL; 1: a FAIL; 2: the configuration
cannot be loaded."""

from __future__ import annotations

import argparse
from pathlib import Path

from server.entrypoints.doctor_checks import render_json, render_text, run_checks


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check the installation and say what to fix (docs/install.md)"
    )
    doctor.add_argument(
        "--config",
        dest="doctor_config",
        default=None,
        help="TOML configuration file (same as the global --config)",
    )
    doctor.add_argument("--format", choices=("text", "json"), default="text")
    doctor.set_defaults(handler=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    path = Path(args.doctor_config) if args.doctor_config else args.config
    report = run_checks(path)
    if args.format == "json":
        print(render_json(report))
    else:
        for line in render_text(report):
            print(line)
    return report.exit_code
