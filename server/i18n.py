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
def _plurals(language: str) -> dict[str, tuple[str, ...]]:
    """The plural entries (``msgid_plural``) of the language, by singular English text."""
    merged: dict[str, tuple[str, ...]] = {}
    for path in sorted((_LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            # Babel pads the forms to CLDR's count (French has a "many"): empty ones go.
            forms = tuple(str(form) for form in message.string if form)
            if isinstance(message.id, tuple) and not message.fuzzy and len(forms) >= 2:
                merged[str(message.id[0])] = forms
    return merged


@cache
def _is_singular(language: str, count: int) -> bool:
    """French says 0 and 1 in the singular, English 1 only (CLDR plural rules)."""
    return Locale.parse(language).plural_form(count) == "one"


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> None:
    """Language for texts produced in this context (thread, request, task)."""
    _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def gettext(message: str, language: str | None = None, **values: object) -> str:
    text = _catalogue(language or _current.get()).get(message, message)
    return text.format(**values) if values else text


def ngettext(
    singular: str, plural: str, n: int, /, *, language: str | None = None, **values: object
) -> str:
    """The form of the message for the number ``n`` in the language (``{count}`` in the
    text is ``n`` unless ``count`` is given, e.g. formatted); English when untranslated."""
    language = language or _current.get()
    forms = _plurals(language).get(singular)
    if forms:
        text = forms[0 if _is_singular(language, n) else min(1, len(forms) - 1)]
    else:
        text = singular if _is_singular("en", n) else plural
    return text.format(**{"count": n, **values})


_ = gettext
