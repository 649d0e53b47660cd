"""``campus-presence privacy-notice``: the privacy notice (RGPD art. 13) filled from the
configuration, to print or post; the same text as the page ``/confidentialite``."""

from __future__ import annotations

import argparse

from server.config import load_settings
from server.i18n import LANGUAGES, set_language
from server.privacy_notice import as_text


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    notice = subparsers.add_parser(
        "privacy-notice", help="print the privacy notice (RGPD art. 13) from the configuration"
    )
    notice.add_argument("--lang", choices=LANGUAGES, default="fr", help="language (default: fr)")
    notice.set_defaults(handler=privacy_notice_command)


def privacy_notice_command(args: argparse.Namespace) -> int:
    set_language(args.lang)
    print(as_text(load_settings(args.config, require_secret=False)))
    return 0
