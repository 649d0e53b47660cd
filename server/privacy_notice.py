"""The privacy notice (RGPD art. 13) filled from the configuration: who is responsible,
why, what, who sees it, how long, which rights. French by default (English too), shown
at ``/confidentialite`` without logging in and printed by ``campus-presence
privacy-notice``. Fields left empty in ``[privacy]`` show as "to be filled in", so an
incomplete notice is visible as such."""

from __future__ import annotations

from dataclasses import dataclass

from server.config import Settings
from server.i18n import _, ngettext


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    paragraphs: tuple[str, ...]


def _or_missing(value: str, what: str) -> str:
    return value.strip() or _("[to be filled in: {what}]", what=what)


def privacy_notice(settings: Settings) -> list[Section]:
    privacy = settings.privacy
    days = settings.events.retention_days
    controller = _or_missing(privacy.controller, "[privacy] controller")
    address = _or_missing(privacy.address, "[privacy] address")
    contact = _or_missing(privacy.contact, "[privacy] contact")
    dpo = _or_missing(privacy.dpo, "[privacy] dpo")
    return [
        Section(
            _("Who is responsible"),
            (
                _(
                    "The controller of this processing is {controller}, {address}.",
                    controller=controller,
                    address=address,
                ),
                _("Data protection officer: {dpo}.", dpo=dpo),
            ),
        ),
        Section(
            _("Why"),
            (
                _(
                    "Recording the presence of the students of the Campus connecté, to check "
                    "the weekly hours of their learning contract, to let their tutor know of "
                    "an absence so that the tutor can call them, and to count the people "
                    "present for safety."
                ),
                _(
                    "Legal basis: a task carried out in the public interest (RGPD art. 6.1.e), "
                    "the support of students enrolled in distance higher education."
                ),
                _(
                    "No decision is taken automatically: an absence alert is read by a tutor, "
                    "who calls the student."
                ),
            ),
        ),
        Section(
            _("What is recorded"),
            (
                _(
                    "The student's identity, e-mail address and phone number, contract "
                    "(expected hours and slots) and tutor; the times of badge taps at the "
                    "campus doors. The badge number itself is never stored: only a keyed "
                    "hash of it."
                ),
            ),
        ),
        Section(
            _("Who sees it"),
            (
                _(
                    "The student's tutor, the campus coordinators and the administrators, "
                    "after logging in; each screen checks the person's role. Other systems "
                    "connected to the server receive only counts and opaque alert ids, "
                    "never a name, a phone number or a student id."
                ),
            ),
        ),
        Section(
            _("How long"),
            (
                ngettext(
                    "Badge taps, reader statuses, rejected messages and unrecognised badges: "
                    "{count} day, then deleted automatically (also from the files' free "
                    "space).",
                    "Badge taps, reader statuses, rejected messages and unrecognised badges: "
                    "{count} days, then deleted automatically (also from the files' free "
                    "space).",
                    days,
                ),
                _(
                    "The student's record and weekly figures: while the student is enrolled; "
                    "an administrator erases them when the student leaves or asks for it."
                ),
            ),
        ),
        Section(
            _("Your rights"),
            (
                _(
                    "You may access your data, have it corrected or erased, restrict its "
                    "processing or object to it (RGPD art. 15 to 21), by writing to "
                    "{contact}. A student sees their own week after logging in.",
                    contact=contact,
                ),
                _(
                    "You may also lodge a complaint with the CNIL (www.cnil.fr), "
                    "3 place de Fontenoy, 75007 Paris."
                ),
            ),
        ),
    ]


def as_text(settings: Settings) -> str:
    lines = [_("Privacy notice — Campus connecté presence"), ""]
    for section in privacy_notice(settings):
        lines += [section.title, "-" * len(section.title), *section.paragraphs, ""]
    return "\n".join(lines)
