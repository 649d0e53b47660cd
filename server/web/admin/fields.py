"""Field readers of the admin forms, in the manner of :mod:`server.web.forms`: each
returns a typed value or raises :class:`FieldError` naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from werkzeug.datastructures import FileStorage

from server.domain.capacity import Limits
from server.domain.contracts import Slot, parse_slots
from server.domain.errors import DomainError
from server.services.people.student_import import (
    RowError,
    check_email,
    check_name,
    check_phone,
    weekly_minutes,
)
from server.web.forms import FieldError, text

_EMAIL = re.compile(r"[^@\s;,<>\"]+@[^@\s;,<>\"]+\.[^@\s;,<>\"]+")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")
_NOT_CSV_TYPES = ("image/", "audio/", "video/", "application/pdf", "application/zip")
_NOT_TEXT = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")


def checkbox(form: Mapping[str, str], name: str) -> bool:
    return form.get(name, "") in ("1", "on", "yes", "true")


def hours(form: Mapping[str, str], name: str) -> int:
    """Weekly hours (``12``, ``12,5``, ``12h30``) as minutes."""
    try:
        return weekly_minutes(form.get(name, ""))
    except RowError:
        raise FieldError(name, "A number of hours from 0.5 to 70 is expected.") from None


def slots(form: Mapping[str, str], name: str) -> tuple[Slot, ...]:
    try:
        return parse_slots(form.get(name, ""))
    except DomainError as error:
        raise FieldError(name, error.message, **error.values) from None


def optional_count(form: Mapping[str, str], name: str, *, maximum: int = 100_000) -> int | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= maximum:
        raise FieldError(name, "A whole number from 1 to {maximum} is expected.", maximum=maximum)
    return int(raw)


def optional_area(form: Mapping[str, str], name: str) -> float | None:
    raw = form.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise FieldError(name, "An area in m² is expected, like 45 or 45,5.") from None
    if not 0 < value <= 100_000:
        raise FieldError(name, "An area in m² is expected, like 45 or 45,5.")
    return value


def limits(form: Mapping[str, str]) -> Limits:
    """``capacity``, ``area_m2``, ``soft_limit``, ``hard_limit`` (each optional)."""
    capacity = optional_count(form, "capacity")
    area = optional_area(form, "area_m2")
    soft = optional_count(form, "soft_limit")
    hard = optional_count(form, "hard_limit")
    if soft is not None and hard is not None and soft > hard:
        raise FieldError("soft_limit", "The soft limit cannot be above the hard limit.")
    return Limits(capacity, soft, hard, area)


def emails(form: Mapping[str, str], name: str, *, required: bool = False) -> str:
    """Addresses separated by commas, semicolons or lines, as ``a@x.fr, b@y.fr``."""
    found = [item.strip() for item in re.split(r"[,;\n]", form.get(name, "")) if item.strip()]
    if required and not found:
        raise FieldError(name, "This field is required.")
    for item in found:
        if len(item) > 254 or not _EMAIL.fullmatch(item):
            raise FieldError(name, "{address} is not an e-mail address.", address=item[:60])
    return ", ".join(found)


def email(form: Mapping[str, str], name: str, *, required: bool = False) -> str:
    value = form.get(name, "").strip()
    if not value:
        if required:
            raise FieldError(name, "This field is required.")
        return ""
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise FieldError(name, "An e-mail address is expected.")
    return value


def web_address(form: Mapping[str, str], name: str, *, required: bool = False) -> str:
    """An ``https://`` (or ``http://``) address with a host."""
    value = form.get(name, "").strip()
    if not value:
        if required:
            raise FieldError(name, "This field is required.")
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(value) > 500:
        raise FieldError(name, "An address starting with https:// is expected.")
    if any(char.isspace() for char in value):
        raise FieldError(name, "An address starting with https:// is expected.")
    return value


def env_name(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not _ENV_NAME.fullmatch(value):
        raise FieldError(
            name, "The name of an environment variable is expected, like CAMPUS_WEBHOOK_SECRET."
        )
    return value


def csv_file(files: Mapping[str, FileStorage], name: str) -> bytes:
    """The bytes of an uploaded CSV file; an empty file, a spreadsheet or a file that is
    not text (UTF-16, binary) is refused with a message that says what to do."""
    upload = files.get(name)
    if upload is None or not upload.filename:
        raise FieldError(name, "Choose a CSV file.")
    data = upload.read()
    if not data.strip():
        raise FieldError(name, "The file is empty.")
    spreadsheet = "openxmlformats" in upload.mimetype or "opendocument" in upload.mimetype
    if data.startswith(_NOT_TEXT) or spreadsheet or upload.mimetype.startswith(_NOT_CSV_TYPES):
        raise FieldError(
            name, "This is not a CSV file. In your spreadsheet, save it as CSV (semicolons)."
        )
    if b"\x00" in data:
        raise FieldError(name, "The file is not text in UTF-8 or Windows-1252. Save it as CSV.")
    return data


def identity(form: Mapping[str, str]) -> dict[str, str]:
    """The student's identity and contact, checked by the rules of the CSV import. The
    admin does not see the phone number on file: an empty ``phone`` keeps it, the
    ``phone_clear`` box removes it."""
    values = {}
    for name in ("last_name", "first_name"):
        values[name] = text(form, name)
        try:
            check_name(values[name], name)
        except RowError:
            raise FieldError(name, "At most {count} characters.", count=200) from None
    values["email"] = text(form, "email", required=False, max_chars=254)
    try:
        check_email(values["email"], "email")
    except RowError:
        raise FieldError("email", "An e-mail address is expected.") from None
    phone = text(form, "phone", required=False, max_chars=40)
    try:
        check_phone(phone)
    except RowError:
        raise FieldError("phone", "A phone number is expected, like 06 12 34 56 78.") from None
    if phone or checkbox(form, "phone_clear"):
        values["phone"] = phone
    values["programme"] = text(form, "programme", required=False)
    values["institution"] = text(form, "institution", required=False)
    values["institution_type"] = text(form, "institution_type", required=False, max_chars=50)
    return values
