"""The one way a registry adapter holds a unit of work (``server.ports``): a session
opened on ``with``, the capability's repositories bound to it (:meth:`_bind`), every
change discarded on leaving unless :meth:`commit` was called."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from sqlalchemy import orm


class SessionUnitOfWork:
    def __init__(self, registry: Callable[[], orm.Session]) -> None:
        self._registry = registry
        self._session: orm.Session | None = None

    def __enter__(self) -> Self:
        session = self._session = self._registry()
        self._bind(session)
        return self

    def _bind(self, session: orm.Session) -> None:
        """The capability's repositories on ``session`` (attributes of the port)."""
        raise NotImplementedError

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()  # whatever was not committed
        finally:
            self._session.close()
            self._session = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A block undone alone when it fails (the rest of the unit of work stays)."""
        assert self._session is not None
        with self._session.begin_nested():
            yield

    def commit(self) -> None:
        assert self._session is not None
        self._session.commit()
