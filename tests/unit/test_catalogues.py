"""Each message is translated in one place: the catalogues of a language are merged file
by file (server/i18n.py), so a msgid defined in two files would let the file that sorts
last decide silently — and two screens could show two translations of one word."""

from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from server.i18n import LANGUAGES

LOCALE = Path(__file__).resolve().parents[2] / "server" / "locale"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_defined_in_two_files(language: str) -> None:
    where: defaultdict[str, list[str]] = defaultdict(list)
    for path in sorted((LOCALE / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id:
                    key = message.id[0] if isinstance(message.id, tuple) else message.id
                    where[str(key)].append(path.name)
    twice = {key: files for key, files in where.items() if len(files) > 1}
    assert not twice, f"defined more than once: {twice}"
