"""Alert commands of ``campus-presence``: ``check-absences --at`` evaluates the absence
rules at any instant (a replay after an outage, tests), ``alerts evidence`` reports on
the call-on-absence obligation. No MQTT client here: MQTT events stay pending for the
server's delivery job; e-mail and webhook notices are sent at once, each channel on its
own (the command waits for them at most ``SEND_WAIT_S``, then leaves the rest to the
server)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime

from server.bootstrap import build_alerting
from server.entrypoints.presence_commands import presence
from server.i18n import _, ngettext

SEND_WAIT_S = 30.0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    check = subparsers.add_parser(
        "check-absences", help="check the committed slots for absences, at an instant"
    )
    check.add_argument(
        "--at", type=_instant, default=None, help="e.g. 2026-11-23T09:20:00+01:00 (default: now)"
    )
    check.set_defaults(handler=check_absences_command)
    alerts = subparsers.add_parser("alerts", help="absence alerts and the call log")
    actions = alerts.add_subparsers(dest="alerts", required=True)
    evidence = actions.add_parser("evidence", help="absences noticed, acknowledged, called")
    evidence.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    evidence.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    evidence.set_defaults(handler=evidence_command)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--at needs an offset, e.g. 2026-11-23T09:20+01:00")
    return moment


def check_absences_command(args: argparse.Namespace) -> int:
    at = args.at or datetime.now(UTC)
    with presence(args) as context:
        events = context.event_store()
        ledger = context.services().ledger
        alerting = build_alerting(context.settings, context.registry, events, ledger, publish=None)
        deliveries = alerting.delivery_workers(lambda: datetime.now(UTC))
        deliveries.start()
        try:
            report = alerting.watcher.check(at)
            deliveries.wait_idle(SEND_WAIT_S)
        finally:
            deliveries.stop()
    for noticed in report.noticed:
        print(
            _(
                "absence noticed: {student_id}, slot from {start} (alert {alert})",
                student_id=noticed.student_id,
                start=noticed.slot_start.isoformat(),
                alert=noticed.alert_id,
            )
        )
    for held in report.held:
        print(
            _(
                "held, door reader down: {student_id}, slot from {start}",
                student_id=held.student_id,
                start=held.slot_start.isoformat(),
            )
        )
    print(
        ", ".join(
            [
                ngettext("{count} slot checked", "{count} slots checked", report.evaluated),
                ngettext(
                    "{count} absence noticed", "{count} absences noticed", len(report.noticed)
                ),
                ngettext("{count} held", "{count} held", len(report.held)),
            ]
        )
    )
    return 0


def evidence_command(args: argparse.Namespace) -> int:
    if args.last < args.first:
        print(_("--to cannot be before --from"), file=sys.stderr)
        return 2
    with presence(args) as context:
        ledger = context.services().ledger
        alerting = build_alerting(
            context.settings, context.registry, ledger.events, ledger, publish=None
        )
        report = alerting.alerts.evidence(args.first, args.last)
    json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0
