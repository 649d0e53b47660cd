"""NFC reading through nfcpy's own UDP driver, a tag emulated in another process."""

from __future__ import annotations

import logging
import queue
import subprocess
import time
from collections.abc import Callable

import nfc.clf
import pytest

from edge.events import BadgeSeen, Event, NfcHealthChanged
from edge.nfc import NfcReader, uid_from_target
from edge.timing import Backoff, Debouncer


def collect(events: queue.SimpleQueue[Event]) -> list[Event]:
    found = []
    while not events.empty():
        found.append(events.get())
    return found


def read_while(emulator: subprocess.Popen, port: int, targets: tuple[str, ...]) -> list[Event]:
    """Run a reader on ``port`` until the emulator has finished (or 20 s)."""
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    with NfcReader(device=f"udp:127.0.0.1:{port}", targets=targets, handoff=events.put):
        emulator.wait(20)
        time.sleep(0.5)  # the last presence check after the tag left
    assert emulator.returncode == 0, emulator.stdout.read() if emulator.stdout else ""
    return collect(events)


def taps(events: list[Event], window_s: float) -> list[str]:
    debouncer = Debouncer(window_s=window_s)
    return [
        e.uid
        for e in events
        if isinstance(e, BadgeSeen) and debouncer.seen(e.uid, e.at, arriving=e.arriving)
    ]


@pytest.mark.nfc
@pytest.mark.slow
def test_an_ntag_held_then_tapped_again_reads_its_7_byte_uid(
    tag_emulator: Callable[..., subprocess.Popen], udp_port: int
) -> None:
    emulator = tag_emulator(kind="type2", uid="04a1b2c3d4e5f6", present=1.5, gap=1.4, taps=2)

    events = read_while(emulator, udp_port, ("106A",))

    assert events[0] == NfcHealthChanged(True, "")
    seen = [e for e in events if isinstance(e, BadgeSeen)]
    assert {e.uid for e in seen} == {"04a1b2c3d4e5f6"}
    assert len(seen) >= 4  # reported while held, and as it leaves
    assert [e.arriving for e in seen].count(False) >= 2
    # held 1.5 s, back after 1.4 s: one tap with a 5 s window, two with 0.6 s (the
    # departure is noticed up to ~0.3 s late: the presence check's timeout and retries)
    assert taps(events, window_s=5.0) == ["04a1b2c3d4e5f6"], seen
    assert taps(events, window_s=0.6) == ["04a1b2c3d4e5f6"] * 2, seen


@pytest.mark.nfc
def test_a_4_byte_iso14443a_uid_is_read(
    tag_emulator: Callable[..., subprocess.Popen], udp_port: int
) -> None:
    emulator = tag_emulator(kind="type2", uid="3a4b5c6d", present=1.3)
    events = read_while(emulator, udp_port, ("106A",))
    assert taps(events, window_s=5.0) == ["3a4b5c6d"]


@pytest.mark.nfc
def test_a_felica_card_reads_its_idm(
    tag_emulator: Callable[..., subprocess.Popen], udp_port: int
) -> None:
    emulator = tag_emulator(kind="felica", uid="012e4cd8a29b3f10", present=1.3)
    events = read_while(emulator, udp_port, ("212F",))
    assert taps(events, window_s=5.0) == ["012e4cd8a29b3f10"]


@pytest.mark.nfc
def test_a_missing_device_is_degraded_and_retried_with_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    caplog.set_level(logging.INFO, logger="edge.nfc")
    backoff = Backoff(min_s=0.05, max_s=0.2, jitter=0)
    with NfcReader(device="tty:USB9", targets=("106A",), handoff=events.put, backoff=backoff):
        time.sleep(0.8)
    found = collect(events)

    assert found == [NfcHealthChanged(False, "NFC device tty:USB9: No such device")]
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert retries[:4] == [
        "NFC device tty:USB9: retrying in 0.1 s",
        "NFC device tty:USB9: retrying in 0.1 s",
        "NFC device tty:USB9: retrying in 0.2 s",
        "NFC device tty:USB9: retrying in 0.2 s",
    ]
    assert len(retries) < 10  # backoff, not a busy loop


def target(brty: str, **fields: bytes) -> nfc.clf.RemoteTarget:
    return nfc.clf.RemoteTarget(brty, **{k: bytearray(v) for k, v in fields.items()})


@pytest.mark.parametrize(
    ("remote", "uid"),
    [
        (
            target("106A", sdd_res=bytes.fromhex("04a1b2c3d4e5f6"), sel_res=b"\x00"),
            "04a1b2c3d4e5f6",
        ),
        (target("106A", sdd_res=bytes.fromhex("3a4b5c6d"), sel_res=b"\x08"), "3a4b5c6d"),
        (target("106A", sdd_res=bytes.fromhex("08112233"), sel_res=b"\x60"), None),  # a phone
        (target("106B", sensb_res=bytes.fromhex("50e5dd3dc900000011008185")), "e5dd3dc9"),
        (
            target("212F", sensf_res=bytes.fromhex("01012e4cd8a29b3f1003014b024f4993ff")),
            "012e4cd8a29b3f10",
        ),
        (target("212F", sensf_res=bytes.fromhex("0101fe4cd8a29b3f1003014b024f4993ff")), None),
        (target("106A", sdd_res=bytes.fromhex("0102"), sel_res=b"\x00"), None),
    ],
)
def test_uids_come_from_the_discovered_target(
    remote: nfc.clf.RemoteTarget, uid: str | None
) -> None:
    assert uid_from_target(remote) == uid
