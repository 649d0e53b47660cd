"""The reader's own view of its health, and the status line it publishes (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from edge.protocol import MAX_DETAIL_CHARS, ReaderState


@dataclass(frozen=True, slots=True)
class Health:
    nfc_ok: bool = True
    nfc_detail: str = ""
    outbox_full: bool = False
    outbox_detail: str = ""
    refused: int = 0
    refusal_reason: str = ""
    feedback_detail: str = ""

    def state(self) -> tuple[ReaderState, str]:
        """``online`` when everything works, else ``degraded`` with what is wrong.

        A feedback fault alone (LEDs, buzzer) still counts: taps are recorded, but the
        students get no signal, which the server should know."""
        problems = []
        if not self.nfc_ok:
            problems.append(self.nfc_detail or "NFC device not working")
        if self.outbox_full:
            problems.append(self.outbox_detail or "outbox full: new taps are refused")
        if self.refused:
            problems.append(f"broker refuses taps ({self.refusal_reason}): kept in the outbox")
        if self.feedback_detail:
            problems.append(self.feedback_detail)
        if not problems:
            return ReaderState.ONLINE, ""
        return ReaderState.DEGRADED, _shorten("; ".join(problems))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"
