"""Badge UIDs are personal identifiers: the server keeps only a keyed hash of them."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable


def badge_hash(secret: bytes, uid_hex: str) -> str:
    """HMAC-SHA256 of the UID bytes under the deployment's secret, as hex.

    The UID is normalised (case, separators) first, so ``04:A1:B2:C3`` and ``04a1b2c3``
    give the same hash. Without the secret a hash cannot be linked back to a card."""
    normalised = uid_hex.replace(":", "").replace(" ", "").lower()
    return hmac.new(secret, bytes.fromhex(normalised), hashlib.sha256).hexdigest()


def badge_hasher(secret: bytes) -> Callable[[str], str]:
    """:func:`badge_hash` under one secret, with the key schedule computed once (the
    ingest hashes every tap's UID)."""
    keyed = hmac.new(secret, digestmod=hashlib.sha256)

    def hash_uid(uid_hex: str) -> str:
        normalised = uid_hex.replace(":", "").replace(" ", "").lower()
        digest = keyed.copy()
        digest.update(bytes.fromhex(normalised))
        return digest.hexdigest()

    return hash_uid
