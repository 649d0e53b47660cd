"""``campus-presence report annual`` (the annual grid of one campus or of every campus,
side by side) and ``campus-presence report merge`` (grids exported by other servers
into one consolidated workbook). Both refuse a bad input with exit 2 and a reason, and
write their file whole or not at all."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from edge.protocol import is_valid_id
from server.container import built
from server.domain import annual_report as rules
from server.domain.annual_report import Grid, PeriodError
from server.entrypoints.presence_commands import _instant, _now, presence
from server.i18n import _, ngettext
from server.services.reporting import annual_report
from server.services.reporting.annual_workbook import workbook_bytes

FORMATS = ("json", "xlsx")


def add_report_kinds(report: argparse.ArgumentParser) -> None:
    """Adds ``annual`` and ``merge`` to the ``report`` command's kinds."""
    kinds = next(a for a in report._actions if isinstance(a, argparse._SubParsersAction))
    annual = kinds.add_parser("annual", help="the annual grid and eligibility criteria")
    annual.add_argument("--year", help="academic year, e.g. 2026-2027")
    annual.add_argument("--from", dest="first", help="instead: first day, e.g. 2026-09-01")
    annual.add_argument("--to", dest="last", help="last day (included); at most 5 years")
    annual.add_argument("--campus", action="append", help="campus id (repeat; default: all)")
    annual.add_argument("--format", choices=FORMATS, default="json")
    annual.add_argument("--output", type=Path, help="file to write (required for xlsx)")
    annual.add_argument("--now", type=_instant, default=None, help=argparse.SUPPRESS)
    annual.set_defaults(handler=annual_command)
    merge = kinds.add_parser("merge", help="merge annual grids exported by several servers")
    merge.add_argument("files", nargs="+", type=Path, help="XLSX or JSON exports")
    merge.add_argument("--output", type=Path, required=True, help="the consolidated XLSX")
    merge.set_defaults(handler=merge_command)


def annual_command(args: argparse.Namespace) -> int:
    try:
        period = rules.report_period(args.year, args.first, args.last)
    except PeriodError as refused:
        print(_(str(refused)), file=sys.stderr)
        return 2
    if args.format == "xlsx" and args.output is None:
        print(_("--output FILE is required for an XLSX workbook"), file=sys.stderr)
        return 2
    for campus in args.campus or []:
        if not is_valid_id(campus):
            print(_("--campus must be a campus id like saint-marcellin"), file=sys.stderr)
            return 2
    with presence(args) as context:
        ledger = context.services().ledger
        reports = built(context.services().reports)
        known = ledger.campus_ids()
        unknown = [campus for campus in args.campus or [] if campus not in known]
        if unknown:
            print(_("unknown campus: {campus}", campus=", ".join(unknown)), file=sys.stderr)
            return 2
        grids = annual_report.campus_grids(reports, args.campus or known, period, _now(args))
    return _write(grids, args.format, args.output)


def _write(grids: list[Grid], fmt: str, output: Path | None) -> int:
    if fmt == "xlsx":
        data = workbook_bytes(grids)
    else:
        document = grids[0].as_dict() if len(grids) == 1 else [g.as_dict() for g in grids]
        data = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    return 0 if write_whole(output, data) else 1


def write_whole(path: Path, data: bytes) -> bool:
    """Writes a temporary file next to ``path`` then renames it: never half a file."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temporary).replace(path)
    except OSError as error:
        print(_("cannot write {path}: {reason}", path=path, reason=error.strerror), file=sys.stderr)
        return False
    return True


def merge_command(args: argparse.Namespace) -> int:
    files: list[tuple[str, bytes]] = []
    for path in args.files:
        try:
            files.append((str(path), path.read_bytes()))
        except OSError as error:
            reason = error.strerror
            print(_("cannot read {path}: {reason}", path=path, reason=reason), file=sys.stderr)
            return 2
    try:
        grids = annual_report.merge(files)
    except annual_report.MergeError as refused:
        print(
            _("{file}: {reason} Nothing was written.", file=refused.name, reason=_(refused.reason)),
            file=sys.stderr,
        )
        return 2
    if not write_whole(args.output, workbook_bytes(grids)):
        return 1
    count = len(grids)
    print(ngettext("{count} grid merged into {path}", "{count} grids merged into {path}", count,
                   path=str(args.output)))  # fmt: skip
    return 0
