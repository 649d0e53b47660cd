"""Use cases of the admin's account page that :class:`AccountService` leaves to its
callers: an initial password generated for a new account (shown once), and which
student a student account is for."""

from __future__ import annotations

import secrets

from server.domain.accounts import MIN_PASSWORD_CHARS

_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I


def generate_password(length: int = 16) -> str:
    """A random password that is easy to read out or copy (about 94 bits)."""
    length = max(length, MIN_PASSWORD_CHARS)
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if len(set(password)) >= 8:
            return password
