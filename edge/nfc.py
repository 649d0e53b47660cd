"""NFC reading with nfcpy's ``ContactlessFrontend``, on a thread of its own.

nfcpy is imported only when the reader starts, so ``edge`` imports on machines without
it (the server imports :mod:`edge.protocol`). The UID is taken from the discovered
target (ISO 14443-A NFCID1, ISO 14443-B PUPI, FeliCa IDm) before any activation, so
badges nfcpy cannot activate (MIFARE Classic, some student cards) are read as well.
While a tag stays on the reader its presence is checked and it keeps being reported; the
agent's debouncer turns these repeated sightings into one tap. A device that is missing,
busy or unplugged is reported (``NfcHealthChanged``) and opened again with backoff,
never crash-looped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from edge.events import BadgeSeen, Event, NfcHealthChanged
from edge.protocol import UID_BYTE_LENGTHS
from edge.timing import Backoff

log = logging.getLogger(__name__)

SEEN_EVERY_S = 0.25  # at most one sighting of the same tag per this interval
STABLE_AFTER_S = 30.0  # a device that worked this long resets the backoff


def uid_from_target(target: Any) -> str | None:
    """Lowercase hex UID of an nfcpy ``RemoteTarget``, or None for what is not a badge
    (a phone offering NFC-DEP peer-to-peer, a UID of a length no real tag has)."""
    brty = getattr(target, "brty", "") or ""
    uid: bytes | None = None
    if brty.endswith("A"):
        sel_res = getattr(target, "sel_res", None)
        if sel_res and sel_res[0] & 0x40:
            return None  # NFC-DEP (peer-to-peer) device
        uid = getattr(target, "sdd_res", None)
        rid_res = getattr(target, "rid_res", None)
        if not uid and rid_res:
            uid = rid_res[2:6]  # Type 1 (Topaz): UID0-3 of the RID response
    elif brty.endswith("B"):
        sensb_res = getattr(target, "sensb_res", None)
        uid = sensb_res[1:5] if sensb_res else None
    elif brty.endswith("F"):
        sensf_res = getattr(target, "sensf_res", None)
        if sensf_res and sensf_res[1:3] == b"\x01\xfe":
            return None  # NFC-DEP over FeliCa
        uid = sensf_res[1:9] if sensf_res else None
    if not uid or len(uid) not in UID_BYTE_LENGTHS:
        return None
    return bytes(uid).hex()


def describe_error(device: str, error: BaseException) -> str:
    """A short status detail for a device error (no stack trace, no personal data)."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return f"NFC device {device}: {text}"[:200]


class NfcReader:
    """Reads badges from ``device`` and hands ``BadgeSeen`` / ``NfcHealthChanged`` over."""

    def __init__(
        self,
        *,
        device: str,
        targets: tuple[str, ...],
        handoff: Callable[[Event], None],
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.targets = list(targets)
        self._handoff = handoff
        self._backoff = backoff or Backoff(min_s=1.0, max_s=60.0)
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._healthy: bool | None = None
        self._last_seen: tuple[str, float] | None = None
        self._thread = threading.Thread(target=self._run, name="nfc", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # ------------------------------------------------------------------ thread

    def _run(self) -> None:
        while not self._stop.is_set():
            started = self._monotonic()
            try:
                self._session()
            except Exception as error:  # nfcpy and libusb raise more than OSError
                log.debug("NFC session ended", exc_info=True)
                self._health(False, describe_error(self.device, error))
            if self._stop.is_set():
                break
            if self._monotonic() - started >= STABLE_AFTER_S:
                self._backoff.reset()
            delay = self._backoff.next_delay()
            log.info("NFC device %s: retrying in %.1f s", self.device, delay)
            self._stop.wait(delay)

    def _session(self) -> None:
        import nfc  # lazy: heavy, and only the door needs it

        with nfc.ContactlessFrontend(self.device) as clf:
            self._health(True)
            options = {
                "targets": self.targets,
                "iterations": 1,
                "on-discover": self._on_discover,
                "on-connect": lambda tag: False,  # return the tag: _hold() follows it
                "beep-on-connect": False,
            }
            while not self._stop.is_set():
                result = clf.connect(rdwr=options, terminate=self._stop.is_set)
                if result is False:  # nfcpy caught an IOError: the device is gone
                    raise OSError("the device stopped answering")
                if result:
                    self._hold(result)

    def _on_discover(self, target: Any) -> bool:
        uid = uid_from_target(target)
        if uid is None:
            return False
        if not self._sighting(uid):
            time.sleep(0.05)  # a held tag that nfcpy cannot activate: do not spin
        return True

    def _hold(self, tag: Any) -> None:
        """While the tag stays on the reader, keep reporting it (the debounce window
        slides), then report it once more as it leaves."""
        uid = uid_from_target(tag.target)
        if uid is None:
            return
        while not self._stop.is_set() and self._present(tag):
            self._sighting(uid, arriving=False)
            self._stop.wait(0.1)
        self._sighting(uid, arriving=False, force=True)

    @staticmethod
    def _present(tag: Any) -> bool:
        try:
            return bool(tag.is_present)
        except Exception:  # a tag leaving mid-command raises all sorts of nfcpy errors
            return False

    def _sighting(self, uid: str, *, arriving: bool = True, force: bool = False) -> bool:
        """Hand a ``BadgeSeen`` over, at most every SEEN_EVERY_S per tag."""
        now = self._monotonic()
        last = self._last_seen
        if force or last is None or last[0] != uid or now - last[1] >= SEEN_EVERY_S:
            self._last_seen = (uid, now)
            self._handoff(BadgeSeen(uid, now, arriving))
            return True
        return False

    def _health(self, ok: bool, detail: str = "") -> None:
        if ok != self._healthy:
            self._healthy = ok
            if not ok:
                log.warning("%s", detail)
            self._handoff(NfcHealthChanged(ok, detail))

    # ------------------------------------------------------------------ lifetime

    def close(self, timeout: float = 5.0) -> None:
        """Stop reading; nfcpy notices within one poll (about a second on UDP)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> NfcReader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = {None: "starting", True: "ok", False: "degraded"}[self._healthy]
        return f"<NfcReader {self.device} {state}>"
