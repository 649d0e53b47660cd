"""Phone numbers as an SMS gateway needs them: E.164 (``+33476000001``).

People type numbers as they say them: ``04 76 00 00 01``, ``04.76.00.00.01``,
``+33 (0)4 76 00 00 01``, ``0033 4 76 00 00 01``. A national number takes the calling code
of the campus's country (France by default), and a French overseas number (``0692…`` in
La Réunion, ``0696…`` in Martinique…) the code of its department. Anything else is
refused with :class:`InvalidPhone` (the caller logs and counts it, without the number).
"""

from __future__ import annotations

import re

from server.domain.errors import InvalidInput

DEFAULT_COUNTRY = "FR"
# Calling code and national (significant) number length after the trunk prefix 0.
_COUNTRIES: dict[str, tuple[str, tuple[int, ...]]] = {
    "FR": ("33", (9,)),
    "BE": ("32", (8, 9)),
    "CH": ("41", (9,)),
}
# French overseas departments dial as national numbers (0 + 9 digits) but have their own
# calling code; keyed by the first three digits after the 0.
_FR_OVERSEAS = {
    "262": "262",  # La Réunion, fixed
    "263": "262",
    "692": "262",  # La Réunion, mobile
    "693": "262",
    "269": "262",  # Mayotte, fixed
    "639": "262",  # Mayotte, mobile
    "590": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "690": "590",
    "691": "590",
    "594": "594",  # Guyane
    "694": "594",
    "596": "596",  # Martinique
    "696": "596",
    "697": "596",
}
_SEPARATORS = re.compile(r"[\s.\-/()\u00a0\u202f]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


class InvalidPhone(InvalidInput):
    """Not a phone number we can write in E.164 (the message holds no digits of it)."""


def e164(raw: str, country: str = DEFAULT_COUNTRY) -> str:
    """``raw`` as ``+<calling code><number>``; raises :class:`InvalidPhone`."""
    text = raw.strip().replace("(0)", "")
    if not text:
        raise InvalidPhone("empty phone number")
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        number = _international(compact)
    else:
        number = _national(compact, country.upper())
    if not _E164.fullmatch(number):
        raise InvalidPhone("not an E.164 number (7 to 15 digits after +)")
    return number


def _international(compact: str) -> str:
    if not compact[1:].isdigit():
        raise InvalidPhone("unexpected characters in an international number")
    if compact.startswith("+330"):  # "+33 04 76…": the trunk 0 typed after the code
        compact = "+33" + compact[4:]
    return compact


def _national(compact: str, country: str) -> str:
    if not compact.isdigit():
        raise InvalidPhone("unexpected characters in a phone number")
    if country not in _COUNTRIES:
        raise InvalidPhone(f"no calling code known for country {country!r}")
    code, lengths = _COUNTRIES[country]
    if not compact.startswith("0") or compact.startswith("00"):
        raise InvalidPhone("a national number starts with a single 0")
    significant = compact[1:]
    if len(significant) not in lengths:
        raise InvalidPhone("a national number has the wrong number of digits")
    if country == "FR":
        code = _FR_OVERSEAS.get(significant[:3], code)
    return f"+{code}{significant}"
