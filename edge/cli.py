"""``campus-edge --config FILE``: run the door agent until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from edge.config import load_config
from edge.errors import EdgeError

log = logging.getLogger("edge")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="campus-edge", description="Campus connecté door reader: NFC taps to MQTT."
    )
    parser.add_argument("--config", required=True, metavar="FILE", help="TOML config file")
    parser.add_argument("--check", action="store_true", help="validate the config file and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except EdgeError as error:
        print(f"campus-edge: {error}", file=sys.stderr)
        return 2
    if args.check:
        print(f"campus-edge: {args.config} is valid (reader {config.reader})")
        return 0
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("nfc").setLevel(logging.WARNING)
    from edge.bootstrap import Door  # paho and gpiozero are imported only to run

    try:
        door = Door(config)
    except EdgeError as error:
        print(f"campus-edge: {error}", file=sys.stderr)
        return 1
    with door:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: door.stop())
        log.info("reader %s/%s started", config.campus, config.reader)
        door.run()
    log.info("reader %s/%s stopped", config.campus, config.reader)
    return 0


if __name__ == "__main__":
    sys.exit(main())
