"""Reading form fields at the boundary: each reader returns a typed value or raises
:class:`FieldError` naming the field and what it must be. :func:`refused` counts and
logs a refused form (field name only, never its value) and gives the French message."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.domain.errors import InvalidInput
from server.i18n import _

log = logging.getLogger(__name__)

refused_fields: Counter[str] = Counter()


class FieldError(InvalidInput):
    """``message`` is an English message id with ``{placeholders}``."""

    def __init__(self, field: str, message: str, **values: Any) -> None:
        super().__init__(message.format(**values))
        self.field = field
        self.message = message
        self.values = values


def refused(failure: FieldError, form: str) -> str:
    refused_fields[f"{form}.{failure.field}"] += 1
    log.warning("form %s refused: field %s", form, failure.field)
    return _(failure.message, **failure.values)


def text(form: Mapping[str, str], name: str, *, required: bool = True, max_chars: int = 200) -> str:
    value = form.get(name, "").strip()
    if required and not value:
        raise FieldError(name, "This field is required.")
    if len(value) > max_chars:
        raise FieldError(name, "At most {count} characters.", count=max_chars)
    return value


def integer(form: Mapping[str, str], name: str, *, minimum: int, maximum: int) -> int:
    raw = form.get(name, "").strip()
    try:
        value = int(raw)
    except ValueError:
        raise FieldError(name, "A whole number is expected.") from None
    if not minimum <= value <= maximum:
        raise FieldError(
            name,
            "A number from {minimum} to {maximum} is expected.",
            minimum=minimum,
            maximum=maximum,
        )
    return value


def choice(form: Mapping[str, str], name: str, choices: Iterable[str]) -> str:
    value = form.get(name, "")
    if value not in set(choices):
        raise FieldError(name, "Choose one of the proposed values.")
    return value


def day(form: Mapping[str, str], name: str, *, required: bool = True) -> date | None:
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, "A date is expected (day/month/year).") from None


def moment(form: Mapping[str, str], name: str, *, timezone: str) -> datetime:
    """A ``datetime-local`` field (``2026-11-23T09:15``), read in the campus's zone."""
    raw = form.get(name, "").strip()
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, "A date and a time are expected.") from None
    if naive.tzinfo is not None:
        raise FieldError(name, "A date and a time are expected.")
    return naive.replace(tzinfo=ZoneInfo(timezone))
