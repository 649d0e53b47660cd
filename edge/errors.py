"""The one base error of the door agent, and the few errors callers handle by type."""

from __future__ import annotations


class EdgeError(Exception):
    """Base class of every error the door agent raises on purpose."""


class ConfigError(EdgeError):
    """A configuration that cannot be used; the message names the file, keys and why."""


class OutboxError(EdgeError):
    """The on-disk outbox cannot be opened or written."""


class OutboxFull(OutboxError):
    """The outbox holds its maximum number of taps: the newest tap is refused."""
