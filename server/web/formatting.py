"""Language of each request, and dates, times and numbers in that language (French by
default: ``lundi 23 novembre 2026``, ``09:15``, ``12,5 h``), for the templates.

Times are shown in the campus's time zone (``presence.timezone``, Europe/Paris)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal, format_percent
from flask import Flask, Response, request

from server.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    current_language,
    gettext,
    ngettext,
    set_language,
)
from server.web.context import services

COOKIE = "lang"


def choose_language() -> None:
    """``?lang=en`` (remembered in a cookie), the cookie, the browser's preference,
    French."""
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    if wanted not in LANGUAGES:
        wanted = request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    set_language(wanted)


def remember_language(response: Response) -> Response:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        response.set_cookie(COOKIE, wanted, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def language_url(language: str) -> str:
    """This page in another language, keeping its query (the week, the filters…)."""
    query = {key: value for key, value in request.args.items(multi=True) if key != "lang"}
    return request.path + "?" + urlencode([*query.items(), ("lang", language)])


def _zone() -> ZoneInfo:
    return services().settings.presence.zone


def local(moment: datetime) -> datetime:
    return moment.astimezone(_zone())


def when(moment: datetime | None, style: str = "medium") -> str:
    """Date and time: ``23 nov. 2026, 09:15``."""
    if moment is None:
        return ""
    pattern = "d MMM y, HH:mm" if style == "medium" else "EEEE d MMMM y, HH:mm"
    return format_datetime(local(moment), pattern, locale=current_language())


def hour(moment: datetime | None) -> str:
    if moment is None:
        return ""
    shown = local(moment)
    return _hour(shown.hour, shown.minute, current_language())


@lru_cache(maxsize=4096)
def _hour(hours: int, minutes: int, language: str) -> str:
    """Babel's ``HH:mm`` of a local time (a page shows hundreds: formatted once)."""
    return format_time(time(hours, minutes), "HH:mm", locale=language)


def day(value: date | datetime | None, style: str = "full") -> str:
    """``lundi 23 novembre 2026`` (full), ``23 nov. 2026`` (medium), ``23/11/2026`` (short)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value).date()
    return format_date(value, style, locale=current_language())


def number(value: float | int | None, digits: int = 1) -> str:
    """Rounded half up, as people round (0,25 h shows 0,3 h, not Babel's even 0,2 h)."""
    if value is None:
        return ""
    return _number(value, digits, current_language())


def _number(value: float | int, digits: int, language: str) -> str:
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return _decimal(str(rounded), digits, language)


@lru_cache(maxsize=8192)
def _decimal(rounded: str, digits: int, language: str) -> str:
    """Babel's formatting of a rounded number (the weekly report shows thousands, few
    distinct: 12,5 h, 3 h…), formatted once per value and language."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(Decimal(rounded), pattern, locale=language)


def hours(value: float | None) -> str:
    """Hours as a decimal number: ``12,5 h``."""
    return "" if value is None else _hours(value, current_language())


@lru_cache(maxsize=8192)
def _hours(value: float, language: str) -> str:
    """:func:`hours` of a value in a language, formatted once (the weekly report shows
    five a student, few distinct: 12 h, 3,5 h…)."""
    return gettext("{hours} h", language, hours=_number(value, 1, language))


def minutes_as_hours(value: int | None) -> str:
    return "" if value is None else hours(value / 60)


def age(moment: datetime | None, now: datetime) -> str:
    """How long ago: ``12 minutes``, ``5 heures``, ``3 jours`` (whole units, rounded down:
    minutes under an hour, hours under two days, then days)."""
    if moment is None:
        return ""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        count = seconds // 60
        return ngettext("{count} minute", "{count} minutes", count, count=number(count, 0))
    if seconds < 2 * 86400:
        count = seconds // 3600
        return ngettext("{count} hour", "{count} hours", count, count=number(count, 0))
    count = seconds // 86400
    return ngettext("{count} day", "{count} days", count, count=number(count, 0))


def percent(value: float | None) -> str:
    return "" if value is None else format_percent(value, "#,##0 %", locale=current_language())


def install(app: Flask) -> None:
    app.before_request(choose_language)
    app.after_request(remember_language)
    app.jinja_env.globals.update(
        _=gettext, ngettext=ngettext, current_language=current_language, language_url=language_url
    )
    app.jinja_env.filters.update(
        when=when,
        hour=hour,
        day=day,
        number=number,
        hours=hours,
        minutes_as_hours=minutes_as_hours,
        percent=percent,
        age=age,
    )
