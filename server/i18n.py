"""Translation catalogues for every user-facing text (French by default, English too).

Messages are written in English in the code (``_("Entry recorded")``) and translated from
``server/locale/<lang>/LC_MESSAGES/*.po``. The catalogues are read with Babel's PO
reader, so no compilation step is needed; a missing translation falls back to English.
"""

from __future__ import annotations

import contextvars
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "fr"
LANGUAGES = ("fr", "en")
_LOCALE_DIR = Path(__file__).parent / "locale"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def _catalogue(language: str) -> dict[str, str]:
    """Every ``*.po`` file of the language, merged: each area of the product keeps its
    own file (``messages.po``, ``web.po``, ``web_tutor.po``…)."""
    merged: dict[str, str] = {}
    for path in sorted((_LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        merged.update(
            (str(message.id), str(message.string))
            for message in catalog
            if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
        )
    return merged


@cache
def _plural_catalogue(language: str) -> dict[str, tuple[str, ...]]:
    """The plural entries (``msgid_plural``) of every ``*.po`` file of the language:
    singular text -> its translated forms."""
    merged: dict[str, tuple[str, ...]] = {}
    for path in sorted((_LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            # Babel may expect more forms than a catalogue gives (CLDR's French has a
            # third, "many"): the first two, singular and plural, are what we use.
            forms = tuple(str(form) for form in message.string if form)
            if isinstance(message.id, tuple) and not message.fuzzy and len(forms) >= 2:
                merged[str(message.id[0])] = forms[:2]
    return merged


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> None:
    """Language for texts produced in this context (thread, request, task)."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def gettext(message: str, language: str | None = None, **values: object) -> str:
    text = _catalogue(language or _current.get()).get(message, message)
    return text.format(**values) if values else text


def ngettext(
    singular: str, plural: str, count: int, language: str | None = None, **values: object
) -> str:
    """A text with a number: the form the language needs for ``count`` (French says
    "1 appel", "0 appel", "2 appels"; English "0 calls"). ``{num}`` is the number."""
    language = language or _current.get()
    forms = _plural_catalogue(language).get(singular)
    one = Locale.parse(language).plural_form(abs(count)) == "one"
    if forms:
        text = forms[0] if one or len(forms) == 1 else forms[1]
    else:
        text = singular if count == 1 else plural
    return text.format(num=count, **values)


_ = gettext
