"""Wall clock for tap timestamps, and whether it can be trusted yet.

A Raspberry Pi has no real-time clock: after a power cut it boots with the time it had
when it stopped (fake-hwclock) until NTP answers. Taps stamped before that are marked
``clock_synced: false`` so the server can treat their time with suspicion.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

SyncCheck = Callable[[], bool]

TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")
_TIME_ERROR = 5  # adjtimex() state when the kernel clock is flagged STA_UNSYNC


class WallClock:
    """Aware ``now()`` in the configured zone (Europe/Paris offsets, or UTC)."""

    def __init__(self, zone: str | tzinfo = "Europe/Paris") -> None:
        self.zone = ZoneInfo(zone) if isinstance(zone, str) else zone

    def now(self) -> datetime:
        return datetime.now(self.zone)


def kernel_clock_synced() -> bool:
    """Ask the kernel (read-only ``adjtimex``): NTP daemons (timesyncd, chrony, ntpd) clear
    STA_UNSYNC once they have set the clock. Unknown (no libc, no syscall) counts as
    synchronised so that a check that cannot run never marks every tap."""
    name = ctypes.util.find_library("c")
    if name is None:
        return True
    try:
        adjtimex = ctypes.CDLL(name, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return True
    buffer = ctypes.create_string_buffer(512)  # struct timex with modes=0: read only
    return adjtimex(buffer) != _TIME_ERROR


def timesyncd_synced(flag: Path = TIMESYNCD_FLAG) -> bool:
    """systemd-timesyncd (>= 239) touches this file once it has synchronised."""
    return flag.exists()


def make_sync_check(mode: str) -> SyncCheck:
    """The check named in ``clock.sync_check``."""
    if mode == "assume-synced":
        return lambda: True
    if mode == "timesyncd":
        return timesyncd_synced
    if mode == "adjtimex":
        return kernel_clock_synced
    if mode == "auto":
        return lambda: timesyncd_synced() or kernel_clock_synced()
    raise ValueError(f"unknown sync check {mode!r}")


class CachedSyncCheck:
    """Asks ``check`` at most every ``every_s`` seconds: cheap enough for every tap."""

    def __init__(
        self,
        check: SyncCheck,
        *,
        every_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._every_s = every_s
        self._monotonic = monotonic
        self._value = True
        self._asked_at: float | None = None

    def __call__(self) -> bool:
        now = self._monotonic()
        if self._asked_at is None or now - self._asked_at >= self._every_s:
            self._value = bool(self._check())
            self._asked_at = now
        return self._value
