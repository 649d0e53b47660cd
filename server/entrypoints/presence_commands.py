"""Presence commands of ``campus-presence``: student import, weekly report, badges.

Each handler loads the settings, opens the registry (migrated at start) and, when it
needs taps, the event store; ``--now`` (hidden) replays a command at another instant.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import orm

from edge.protocol import is_valid_id
from server.adapters.event_store import EventStore
from server.bootstrap import build_event_store, build_services, utc_now
from server.config import Settings, load_settings
from server.container import Services
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek, parse_day
from server.domain.errors import DomainError
from server.domain.periods import MAX_YEARS, PeriodError, period, year_period
from server.i18n import _, ngettext
from server.registry.database import open_registry
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.services.people import calendar_admin, enrolment
from server.services.people.campuses import sync_campuses
from server.services.people.student_import import (
    ImportReport,
    import_students,
    import_summary,
    parse_date,
)
from server.services.presence import reports


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-students", help="import the coordinator's student spreadsheet (CSV)"
    )
    parser.add_argument("file", type=Path, help="CSV file (separator ; or ,)")
    parser.add_argument("--dry-run", action="store_true", help="check everything, change nothing")
    parser.add_argument(
        "--strict", action="store_true", help="all rows or none: one bad row and nothing is saved"
    )
    parser.add_argument("--campus", help="campus id (default: the only configured campus)")
    _now_option(parser)
    parser.set_defaults(handler=import_students_command)

    report = subparsers.add_parser("report", help="presence reports")
    kinds = report.add_subparsers(dest="report", required=True)
    weekly = kinds.add_parser("weekly", help="hours attended against hours committed, per student")
    weekly.add_argument("--week", required=True, help="ISO week, e.g. 2026-W48")
    weekly.add_argument("--format", choices=reports.FORMATS, default="json")
    weekly.add_argument("--campus", help="one campus only")
    _now_option(weekly)
    weekly.set_defaults(handler=weekly_report_command)
    span = kinds.add_parser(
        "presence", help="hours per student-week over a period, and totals per student"
    )
    span.add_argument("--from", dest="first", help="first day, e.g. 2026-09-01")
    span.add_argument("--to", dest="last", help="last day (included), e.g. 2027-06-30")
    span.add_argument("--year", help="instead: ISO year (2026) or academic year (2026-2027)")
    span.add_argument("--format", choices=reports.PERIOD_FORMATS, default="json")
    span.add_argument("--campus", help="one campus only")
    span.add_argument("--output", type=Path, help="write to this file (readable by you only)")
    _now_option(span)
    span.set_defaults(handler=presence_report_command)
    from server.entrypoints.week_commands import add_week_report  # it imports this module

    add_week_report(kinds)

    badges = subparsers.add_parser("badges", help="unknown badges and enrolment")
    actions = badges.add_subparsers(dest="badges", required=True)
    unknown = actions.add_parser("unknown", help="list badges seen that no student holds")
    unknown.add_argument("--campus")
    unknown.set_defaults(handler=unknown_badges_command)
    attach = actions.add_parser("attach", help="give an unknown badge to a student")
    attach.add_argument("sighting", type=int, help="number shown by 'badges unknown'")
    attach.add_argument("student_id")
    credit = attach.add_mutually_exclusive_group()
    credit.add_argument(
        "--credit-past",
        dest="credit_past",
        action="store_const",
        const=True,
        default=None,
        help="the badge's earlier taps count for the student (required when it has some)",
    )
    credit.add_argument(
        "--no-credit-past",
        dest="credit_past",
        action="store_const",
        const=False,
        help="only the taps from the attachment on count for the student",
    )
    _now_option(attach)
    attach.set_defaults(handler=attach_badge_command)
    _calendar_commands(subparsers)


def _calendar_commands(subparsers: argparse._SubParsersAction) -> None:
    calendar = subparsers.add_parser("calendar", help="opening hours, closures, school holidays")
    actions = calendar.add_subparsers(dest="calendar", required=True)
    hours = actions.add_parser("hours", help="set a campus's weekly opening hours")
    hours.add_argument("campus")
    hours.add_argument("hours", help='e.g. "lun 08:00-19:00; mar 08:00-19:00; sam 09:00-12:00"')
    close = actions.add_parser("close", help="close a campus on whole days")
    close.add_argument("campus")
    close.add_argument("start", help="first day closed, 2026-12-24 or 24/12/2026")
    close.add_argument("end", help="last day closed")
    close.add_argument("--label", default="")
    holidays = actions.add_parser(
        "school-holidays", help="load school holidays (zone;start;end;label)"
    )
    holidays.add_argument("file", type=Path)
    follow = actions.add_parser("closes-on-school-holidays", help="does the campus close then?")
    follow.add_argument("campus")
    follow.add_argument("answer", choices=("yes", "no"))
    for parser in (hours, close, holidays, follow):
        _now_option(parser)
        parser.set_defaults(handler=calendar_command)


def _now_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--now", type=_instant, default=None, help=argparse.SUPPRESS)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs an offset, e.g. 2026-12-01T09:00+01:00")
    return moment


@dataclass
class Presence:
    """What a presence command works with; closed at the end of the command."""

    settings: Settings
    registry: orm.sessionmaker[orm.Session]
    events: EventStore | None = None
    built: Services | None = None

    def event_store(self) -> EventStore:
        if self.events is None:
            self.events = build_event_store(self.settings)
            self.events.setup()
        return self.events

    def services(self) -> Services:
        """The services composed as ``serve`` composes them (``build_services``), on
        this command's registry and event store (opened on first use)."""
        if self.built is None:
            self.built = build_services(
                self.settings, self.registry, self.event_store(), clock=utc_now
            )
        return self.built


@contextmanager
def presence(args: argparse.Namespace) -> Iterator[Presence]:
    settings = load_settings(args.config)
    engine, registry = open_registry(settings.registry_database_url)
    context = Presence(settings, registry)
    try:
        sync_campuses(people_unit_of_work(registry), settings)
        yield context
    finally:
        if context.built is not None and context.built.ledger.workers is not None:
            context.built.ledger.workers.close()
        if context.events is not None:
            context.events.close()
        engine.dispose()


def _now(args: argparse.Namespace) -> datetime:
    return getattr(args, "now", None) or datetime.now(UTC)


def _actor(args: argparse.Namespace) -> Actor:
    return Actor(f"cli:{getpass.getuser()}", _now(args))


def import_students_command(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        print(
            _("cannot read {path}: {reason}", path=args.file, reason=error.strerror),
            file=sys.stderr,
        )
        return 2
    with presence(args) as context:
        campus = args.campus or _only_campus(context)
        if campus is None:
            print(_("several campuses: say which one with --campus"), file=sys.stderr)
            return 2
        report = import_students(
            people_unit_of_work(context.registry),
            data,
            campus_id=campus,
            secret=context.settings.badge_secret.encode(),
            timezone=context.settings.presence.timezone,
            retention_days=context.settings.events.retention_days,
            actor=_actor(args),
            dry_run=args.dry_run,
            strict=args.strict,
        )
    _print_import(report)
    return 0 if report.ok else 1


def _only_campus(context: Presence) -> str | None:
    configured = [campus.id for campus in context.settings.campuses]
    if len(configured) == 1:
        return configured[0]
    units = presence_unit_of_work(context.registry, context.settings.presence)
    with units(reads_only=True) as uow:
        known = uow.presence.campus_ids()
    return known[0] if len(known) == 1 else None


def _print_import(report: ImportReport) -> None:
    for problem in report.errors:
        print(
            _("line {line}: {reason}", line=problem.line, reason=problem.message), file=sys.stderr
        )
    for problem in report.warnings:
        print(
            _("line {line}: warning: {reason}", line=problem.line, reason=problem.message),
            file=sys.stderr,
        )
    summary = import_summary(report)
    if report.dry_run:
        print(_("dry run, nothing saved: {summary}", summary=summary))
    elif not report.saved:
        print(
            _(
                "strict import, nothing saved because of the refused rows: {summary}",
                summary=summary,
            )
        )
    else:
        print(summary)


def weekly_report_command(args: argparse.Namespace) -> int:
    try:
        week = IsoWeek.parse(args.week)
    except ValueError:
        print(_("--week must be an ISO week like 2026-W48"), file=sys.stderr)
        return 2
    if args.campus is not None and not is_valid_id(args.campus):
        print(_("--campus must be a campus id like saint-marcellin"), file=sys.stderr)
        return 2
    with presence(args) as context:
        ledger = context.services().ledger
        report = reports.weekly_report(ledger, week, _now(args), campus=args.campus)
    sys.stdout.write(reports.render(report, args.format))
    return 0


def unknown_badges_command(args: argparse.Namespace) -> int:
    with presence(args) as context:
        seen = enrolment.unknown_badges(people_unit_of_work(context.registry), campus=args.campus)
    for item in seen:
        seen_at = f"{item.first_seen:%Y-%m-%d %H:%M}Z\t{item.last_seen:%Y-%m-%d %H:%M}Z"
        where = f"{item.campus_id}/{item.reader_id}"
        print(f"{item.id}\t{where}\t{item.short_hash}\t{seen_at}\t×{item.seen_count}")
    return 0


def attach_badge_command(args: argparse.Namespace) -> int:
    """``badges attach SIGHTING STUDENT [--credit-past | --no-credit-past]``: a badge
    that already has taps needs the choice (exit 2 listing them, without it)."""
    with presence(args) as context:
        try:
            enrolment.attach_unknown_badge(
                people_unit_of_work(context.registry),
                context.event_store(),
                args.sighting,
                args.student_id,
                actor=_actor(args),
                zone=context.settings.presence.zone,
                credit_past=args.credit_past,
            )
        except enrolment.PastTapsChoice as question:
            zone = context.settings.presence.zone
            print(_("This badge already has taps before it was attached:"), file=sys.stderr)
            for tap in question.taps:
                moment = tap.ts.astimezone(zone)
                print(f"  {moment:%Y-%m-%d %H:%M:%S}\t{tap.reader}", file=sys.stderr)
            print(
                _(
                    "Say whether they count for the student: --credit-past (they count) "
                    "or --no-credit-past (only taps from now on count)."
                ),
                file=sys.stderr,
            )
            return 2
        except DomainError as error:
            print(_(error.message, **error.values), file=sys.stderr)
            return 1
    if args.credit_past is False:
        print(
            _(
                "badge attached to {student_id}; its earlier taps do not count",
                student_id=args.student_id,
            )
        )
    else:
        print(_("badge attached to {student_id}", student_id=args.student_id))
    return 0


def calendar_command(args: argparse.Namespace) -> int:
    with presence(args) as context:
        people, actor = people_unit_of_work(context.registry), _actor(args)
        try:
            if args.calendar == "hours":
                calendar_admin.set_opening_hours(people, args.campus, args.hours, actor=actor)
            elif args.calendar == "close":
                start = parse_date(args.start, "start")
                end = parse_date(args.end, "end")
                calendar_admin.add_closure(
                    people, args.campus, start, end, label=args.label, actor=actor
                )
            elif args.calendar == "closes-on-school-holidays":
                closes = args.answer == "yes"
                calendar_admin.set_closes_on_school_holidays(
                    people, args.campus, closes, actor=actor
                )
            else:
                return _load_school_holidays(people, args.file, actor)
        except DomainError as error:
            print(_(error.message, **error.values), file=sys.stderr)
            return 1
    return 0


def _load_school_holidays(people: calendar_admin.UnitOfWork, path: Path, actor: Actor) -> int:
    try:
        data = path.read_bytes()
    except OSError as error:
        print(_("cannot read {path}: {reason}", path=path, reason=error.strerror), file=sys.stderr)
        return 2
    saved, problems = calendar_admin.load_school_holidays(people, data, actor=actor)
    for problem in problems:
        print(
            _("line {line}: {reason}", line=problem.line, reason=problem.message), file=sys.stderr
        )
    print(
        ngettext(
            "{count} school holiday period saved", "{count} school holiday periods saved", saved
        )
    )
    return 1 if problems else 0


def presence_report_command(args: argparse.Namespace) -> int:
    """``report presence --from D --to D | --year Y [--format json|csv|xlsx]
    [--output FILE]``: exit 2 with the reason for a bad or too long period."""
    try:
        if (args.year is None) == (args.first is None and args.last is None):
            raise PeriodError("both")
        if args.year is not None:
            span = year_period(args.year)
        else:
            if args.first is None or args.last is None:
                raise PeriodError("both")
            span = period(parse_day(args.first), parse_day(args.last))
    except (PeriodError, ValueError) as refused:
        print(_period_refusal(getattr(refused, "code", "bad_day")), file=sys.stderr)
        return 2
    if args.campus is not None and not is_valid_id(args.campus):
        print(_("--campus must be a campus id like saint-marcellin"), file=sys.stderr)
        return 2
    with presence(args) as context:
        ledger = context.services().ledger
        report = reports.period_report(ledger, span, _now(args), campus=args.campus)
    data = reports.render_period(report, args.format)
    if args.output is not None:
        args.output.touch(mode=0o600)
        args.output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _period_refusal(code: str) -> str:
    return {
        "both": _("give either --from and --to, or --year"),
        "bad_day": _("--from and --to must be dates like 2026-09-01"),
        "unsupported_day": _("--from and --to must be dates like 2026-09-01"),
        "bad_year": _("--year must be an ISO year like 2026 or an academic year like 2026-2027"),
        "reversed": _("The end date cannot be before the start date."),
    }.get(code) or _(
        "A period is at most {count} years long: ask for a shorter one.", count=MAX_YEARS
    )
