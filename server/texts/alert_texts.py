"""What an alert says to people, in French by default (msgids in English, translated
through ``server.i18n``): an e-mail subject and body, its HTML twin with a ``tel:``
link, and a one-line SMS text; each carries the link of the alert's page for its
recipient (built once, by ``server.domain.alert_links``). Only e-mail and SMS, sent to
staff, carry names and phone numbers; nothing here is logged."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from server.domain.alerts import AlertKind
from server.domain.notices import Notice, NoticeKind
from server.i18n import _

_NOT_DIGITS = re.compile(r"[^\d+]")


def tel_uri(phone: str) -> str:
    """``06 12 34 56 78`` -> ``tel:+33612345678`` (French numbers get +33)."""
    digits = _NOT_DIGITS.sub("", phone)
    if re.fullmatch(r"0\d{9}", digits):
        digits = "+33" + digits[1:]
    return f"tel:{digits}"


def _local(moment: datetime | None, notice: Notice, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(ZoneInfo(notice.timezone)).strftime(fmt) if moment else ""


def _values(notice: Notice, *, tel: bool = True) -> dict[str, str]:
    student = notice.student
    phone = student.phone if student else ""
    return {
        "tel": f" <{tel_uri(phone)}>" if phone and tel else "",
        "name": student.name if student else (notice.student_id or ""),
        "phone": student.phone if student and student.phone else _("no phone number"),
        "slot": f"{_local(notice.slot_start, notice)}-{_local(notice.slot_end, notice, '%H:%M')}",
        "url": notice.url,
        "week": notice.week or "",
        "expected": _hours(notice.expected_minutes),
        "recorded": _hours(notice.recorded_minutes),
        "reader": notice.reader or "",
        "campus": notice.campus,
        "state": notice.reader_state or "",
        "last_seen": _local(notice.reader_last_seen, notice) or _("never"),
        "time": _local(notice.ts, notice, "%H:%M"),
        "minutes": str(notice.escalation_minutes),
        "tutor": notice.tutor.email if notice.tutor else _("no tutor"),
        "place": _("room {room}", room=notice.room) if notice.room else _("the whole campus"),
        "count": "" if notice.count is None else str(notice.count),
        "capacity": "" if notice.capacity is None else str(notice.capacity),
    }


def _hours(minutes: int | None) -> str:
    if minutes is None:
        return ""
    return f"{minutes // 60} h {minutes % 60:02d}"


_SUBJECTS = {
    (AlertKind.ABSENCE, NoticeKind.RAISED): "Absence noticed: {name}, slot {slot}",
    (AlertKind.ABSENCE, NoticeKind.ESCALATED): "Absence alert not acknowledged: {name}",
    (AlertKind.ABSENCE, NoticeKind.ARRIVED): "{name} has arrived",
    (AlertKind.SHORTFALL, NoticeKind.RAISED): "Weekly hours short: {name}, week {week}",
    (AlertKind.SHORTFALL, NoticeKind.ESCALATED): "Shortfall alert not acknowledged: {name}",
    (AlertKind.EARLY_WARNING, NoticeKind.RAISED): "Early warning: {name}, week {week}",
    (AlertKind.EARLY_WARNING, NoticeKind.ESCALATED): "Early warning not acknowledged: {name}",
    (AlertKind.READER_DOWN, NoticeKind.RAISED): "Door reader down: {reader}",
    (AlertKind.READER_DOWN, NoticeKind.RESOLVED): "Door reader back: {reader}",
    (AlertKind.CAPACITY, NoticeKind.RAISED): "Capacity reached: {place} ({count}/{capacity})",
    (AlertKind.CAPACITY, NoticeKind.RESOLVED): "Back under capacity: {place}",
}
_BODIES = {
    (AlertKind.ABSENCE, NoticeKind.RAISED): (
        "{name} has not arrived for the slot {slot}.\n"
        "Please call now: {phone}{tel}\n"
        "Then record the call on the alert (it is the campus's proof): {url}"
    ),
    (AlertKind.ABSENCE, NoticeKind.ESCALATED): (
        "Nobody acknowledged the absence alert of {name} (slot {slot}) within {minutes} "
        "minutes. Tutor: {tutor}. Student's phone: {phone}\n{url}"
    ),
    (AlertKind.ABSENCE, NoticeKind.ARRIVED): (
        "{name} arrived at {time} (slot {slot}): the absence alert is closed, no call "
        "is needed. The late arrival is recorded.\n{url}"
    ),
    (AlertKind.SHORTFALL, NoticeKind.RAISED): (
        "{name} attended {recorded} of the {expected} committed for week {week}.\n"
        "Phone: {phone}\n{url}"
    ),
    (AlertKind.EARLY_WARNING, NoticeKind.RAISED): (
        "{name} can no longer make the {expected} committed for week {week}, even "
        "outside the slots, in the opening hours left ({recorded} so far).\n"
        "Phone: {phone}\n{url}"
    ),
    (AlertKind.READER_DOWN, NoticeKind.RAISED): (
        "The door reader {reader} of campus {campus} is {state} (last status: "
        "{last_seen}). Absences are held, not sent, until it is back and has delivered "
        "its queued taps.\n{url}"
    ),
    (AlertKind.READER_DOWN, NoticeKind.RESOLVED): (
        "The door reader {reader} of campus {campus} works again: the absences held "
        "meanwhile are being checked.\n{url}"
    ),
    (AlertKind.CAPACITY, NoticeKind.RAISED): (
        "Capacity reached at {time} on campus {campus}, {place}: {count} people present "
        "for a maximum of {capacity} (fire safety). The readers tell newcomers that it is "
        "full; please see that nobody else comes in until people leave.\n{url}"
    ),
    (AlertKind.CAPACITY, NoticeKind.RESOLVED): (
        "Campus {campus}, {place}: the count is back under the maximum of {capacity} "
        "people (at {time}).\n{url}"
    ),
}
_ESCALATED_BODY = (
    "Nobody acknowledged this alert about {name} within {minutes} minutes. "
    "Tutor: {tutor}. Phone: {phone}\n{url}"
)


def subject(notice: Notice) -> str:
    template = _SUBJECTS.get((notice.kind, notice.notice), "Alert {url}")
    return _(template, **_values(notice))


def body(notice: Notice, *, tel: bool = True) -> str:
    template = _BODIES.get((notice.kind, notice.notice), _ESCALATED_BODY)
    return _(template, **_values(notice, tel=tel))


def html_body(notice: Notice) -> str:
    """The body as HTML: the phone number becomes a ``tel:`` link, the URL a link."""
    text = html.escape(body(notice, tel=False))
    student = notice.student
    if student and student.phone:
        phone = html.escape(student.phone)
        link = f'<a href="{html.escape(tel_uri(student.phone))}">{phone}</a>'
        text = text.replace(phone, link)
    if notice.url:
        url = html.escape(notice.url)
        text = text.replace(url, f'<a href="{url}">{url}</a>')
    return "<p>" + text.replace("\n", "<br>\n") + "</p>"


def sms(notice: Notice) -> str:
    """One line for an SMS gateway: the subject, the student's phone to call, and the
    link to the alert's page (where the call is recorded)."""
    parts = [subject(notice)]
    if notice.student:
        parts.append(_values(notice)["phone"])
    if notice.url:
        parts.append(notice.url)
    return " - ".join(parts)
