"""Emulates a badge on nfcpy's UDP driver, in its own process (hardware-free NFC tests).

    python -m tests.edge.tag_emulator --port 54321 --kind type2 --uid 04a1b2c3d4e5f6 \
        --present 1.5 --gap 0.5 --taps 2

``type2``: an ISO 14443-A Type 2 tag (NTAG213 when the UID starts with 04, NXP's
manufacturer code; MIFARE Ultralight-like otherwise), answered frame by frame on nfcpy's
UDP wire format (``"106A <hex>"`` datagrams, ``"RFOFF"`` when the reader's field goes
off). It keeps one bound socket for the whole presence: nfcpy's own ``listen_tta``
closes and re-binds its socket after each ``RFOFF``, and a frame the reader sends in
that gap is lost, so on a loaded machine the reader's re-selection (after nfcpy probes
a command the tag does not know) went unanswered. ``felica``: a Type 3 tag through
nfcpy's card emulation (``connect(card=…)``).

The tag is "on the reader" for ``--present`` seconds, away for ``--gap`` seconds,
``--taps`` times; it prints ``present`` / ``away`` lines so a test can follow.
"""

from __future__ import annotations

import argparse
import select
import socket
import time

import nfc
import nfc.clf
import nfc.tag.tt3

NTAG213_VERSION = bytes.fromhex("0004040201000f03")


def _type2_memory(uid: bytes) -> bytes:
    """Pages 0-15 of a Type 2 tag: UID with check bytes, lock bytes, empty NDEF CC."""
    if len(uid) == 7:
        head = uid[:3] + bytes([0x88 ^ uid[0] ^ uid[1] ^ uid[2]])
        head += uid[3:7] + bytes([uid[3] ^ uid[4] ^ uid[5] ^ uid[6]])
    else:
        head = uid[:4] + bytes([uid[0] ^ uid[1] ^ uid[2] ^ uid[3]]) + bytes(3)
    return (head + bytes([0x48, 0x00, 0x00, 0x00, 0xE1, 0x10, 0x12, 0x00])).ljust(64, b"\0")


class Type2Responder:
    """The answers of an ISO 14443-A Type 2 tag to what nfcpy's reader sends."""

    def __init__(self, uid: bytes) -> None:
        self.uid = uid
        self.memory = _type2_memory(uid)
        cascade = len(uid) > 4
        cl1 = (b"\x88" + uid[:3]) if cascade else uid[:4]
        cl2 = uid[3:7] if cascade else b""
        self.sdd = {0x93: cl1 + _bcc(cl1), 0x95: (cl2 + _bcc(cl2)) if cl2 else None}
        self.sel = {0x93: bytes([0x04 if cascade else 0x00]), 0x95: b"\x00"}

    def answer(self, cmd: bytes) -> bytes | None:
        if cmd in (b"\x26", b"\x52"):  # SENS_REQ / ALL_REQ
            return bytes.fromhex("4400")
        if len(cmd) == 2 and cmd[1] == 0x20 and cmd[0] in self.sdd:  # SDD_REQ
            return self.sdd[cmd[0]]
        if len(cmd) == 7 and cmd[1] == 0x70 and cmd[0] in self.sel:  # SEL_REQ
            return self.sel[cmd[0]]
        if len(cmd) == 2 and cmd[0] == 0x30:  # READ 4 pages
            start = (cmd[1] * 4) % len(self.memory)
            return (self.memory[start:] + self.memory)[:16]
        if cmd == b"\x60" and self.uid[0] == 0x04:  # GET_VERSION
            return NTAG213_VERSION
        return None  # anything else: stay mute, as a real tag does


def _bcc(data: bytes) -> bytes:
    value = 0
    for byte in data:
        value ^= byte
    return bytes([value])


def present_type2(port: int, uid: bytes, until: float) -> None:
    """Answer the reader's frames until ``until``, from whichever socket it sends them."""
    responder = Type2Responder(uid)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))
        while (left := until - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            frame, reader = sock.recvfrom(1024)
            brty, _, payload = frame.partition(b" ")
            if not payload:
                continue  # RFOFF: the field went off, and a Type 2 tag keeps no state
            answer = responder.answer(bytes.fromhex(payload.decode("ascii")))
            if answer is not None:
                sock.sendto(brty + b" " + answer.hex().encode("ascii"), reader)


def present_felica(clf: nfc.ContactlessFrontend, idm: bytes, until: float) -> None:
    def on_startup(target):
        target.brty = "212F"
        target.sensf_res = b"\x01" + idm + bytes.fromhex("03014b024f4993ff") + b"\x12\xfc"
        return target

    def on_connect(tag):
        return True

    while time.monotonic() < until:
        clf.connect(
            card={
                "on-startup": on_startup,
                "on-connect": on_connect,
                "on-release": lambda tag: True,
                "timeout": max(0.05, min(0.5, until - time.monotonic())),
            },
            terminate=lambda: time.monotonic() >= until,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kind", choices=["type2", "felica"], default="type2")
    parser.add_argument("--uid", required=True)
    parser.add_argument("--present", type=float, default=1.0)
    parser.add_argument("--gap", type=float, default=1.0)
    parser.add_argument("--taps", type=int, default=1)
    args = parser.parse_args()
    uid = bytes.fromhex(args.uid)
    assert nfc.tag.tt3  # imported for card emulation
    for tap in range(args.taps):
        print(f"present {tap}", flush=True)
        until = time.monotonic() + args.present
        if args.kind == "type2":
            present_type2(args.port, uid, until)
        else:
            with nfc.ContactlessFrontend(f"udp:127.0.0.1:{args.port}") as clf:
                present_felica(clf, uid, until)
        print(f"away {tap}", flush=True)
        if tap < args.taps - 1:
            time.sleep(args.gap)
    print("done", flush=True)


if __name__ == "__main__":
    main()
