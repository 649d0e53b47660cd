"""``campus-presence report week --student ID --week 2026-W46 [--format text|json]``:
why one student's week adds up as it does (``services.week_story``)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from server.container import built
from server.domain.week_story import Problem, WeekStoryError
from server.entrypoints.presence_commands import _instant, _now, presence
from server.i18n import _, ngettext
from server.services.presence.week_story import WeekStory
from server.texts.week_texts import (
    day_kind,
    problem_text,
    session_state,
    slot_reason,
    slot_state,
    source_text,
    tap_effect,
    week_status,
)

FORMATS = ("text", "json")


def add_week_report(kinds: argparse._SubParsersAction) -> None:
    week = kinds.add_parser("week", help="why one student's week adds up as it does")
    week.add_argument("--student", required=True, help="student id, e.g. E001")
    week.add_argument("--week", required=True, help="ISO week, e.g. 2026-W46")
    week.add_argument("--format", choices=FORMATS, default="text")
    week.add_argument("--now", type=_instant, default=None, help=argparse.SUPPRESS)
    week.set_defaults(handler=week_report_command)


def week_report_command(args: argparse.Namespace) -> int:
    with presence(args) as context:
        settings = context.settings
        stories = built(context.services().week_stories)
        try:
            story = stories.story(args.student, args.week, _now(args))
        except WeekStoryError as refused:
            print(problem_text(refused.problem), file=sys.stderr)
            return 2 if refused.problem is Problem.BAD_WEEK else 1
        tz = ZoneInfo(settings.presence.timezone)
    if args.format == "json":
        json.dump(story.as_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(story, tz))
    return 0


def render_text(story: WeekStory, tz: ZoneInfo) -> str:
    """The explanation as plain text, in the current language."""

    def hm(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%H:%M") if moment else "-"

    def day(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%d/%m")

    line = story.line
    out = [
        _("Week {week} of {student}", week=str(story.week), student=story.student.student_id),
        _(
            "Expected {expected} h, attended {attended} h (unverified {unverified} h): {status}",
            expected=f"{line.expected_s / 3600:.2f}",
            attended=f"{line.attended_s / 3600:.2f}",
            unverified=f"{line.unverified_s / 3600:.2f}",
            status=week_status(line.status.value),
        ),
        source_text(story.source.value),
        "",
        ngettext("{count} slot", "{count} slots", len(story.slots)),
    ]
    for slot in story.slots:
        text = (
            f"  {day(slot.start)} {hm(slot.start)}-{hm(slot.end)}: {slot_state(slot.state.value)}"
        )
        if slot.reason is not None:
            text += (
                f" ({slot_reason(slot.reason.value)}{', ' + slot.detail if slot.detail else ''})"
            )
        else:
            text += "; " + _(
                "expected from {start}, {expected} min due, {attended} min attended",
                start=hm(slot.expected_from),
                expected=slot.expected_minutes,
                attended=slot.attended_minutes,
            )
        out.append(text)
    out.append(ngettext("{count} session", "{count} sessions", len(story.sessions)))
    for session in story.sessions:
        state = session_state(session.state)
        out.append(f"  {day(session.start)} {hm(session.start)}-{hm(session.end)}: {state}")
        out.extend(f"    {hm(tap.ts)} {tap_effect(tap.effect)}" for tap in session.taps)
        out.extend(
            f"    {fix.kind}: {fix.reason} ({fix.author}, {day(fix.created_at)})"
            for fix in session.corrections
        )
    out.append(ngettext("{count} excused absence", "{count} excused absences", len(story.excuses)))
    out.extend(
        f"  {excuse.category}: {day(excuse.start)} {hm(excuse.start)}-{hm(excuse.end)}"
        for excuse in story.excuses
    )
    out.extend(f"  {note.day:%d/%m} {day_kind(note.kind)} {note.label}" for note in story.days)
    return "\n".join(out) + "\n"
