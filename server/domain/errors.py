"""The server's errors, one family: every error raised on purpose (not a bug) is a
:class:`ServerError`, of one of three kinds the edges map in one place each (the web in
``server.web.errors``, the CLI in ``server.entrypoints.cli``):

- :class:`DomainError`: a business rule refuses (a contract's slots overlap, a badge is
  already given); :class:`Conflict`, when it is the current state that refuses (an alert
  already closed);
- :class:`InvalidInput`: an input fails validation (a form field, an API parameter, a
  period, a phone number, a configuration value, a file that is not a grid);
- :class:`NotFound`: what is asked for does not exist, or not for the one asking.

``message`` is an English message id with ``{placeholders}`` filled from ``values``,
translated at the edge (``_(error.message, **error.values)``); ``code`` a stable word for
the API's answers."""

from __future__ import annotations

from typing import Any


class ServerError(Exception):
    code = "refused"

    def __init__(self, message: object = "", **values: Any) -> None:
        text = str(message)  # some carry a value (an id, a code) rather than a sentence
        super().__init__(text.format(**values) if values else text)
        self.message = text
        self.values = values


class DomainError(ServerError, ValueError):
    """A rule broken by some input."""


class Conflict(DomainError):
    """A rule refusing because of the current state (already closed, already there)."""

    code = "conflict"


class InvalidInput(ServerError, ValueError):
    code = "invalid"


class NotFound(ServerError, LookupError):
    code = "not_found"
