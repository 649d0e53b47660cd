"""The one way a registry adapter holds a unit of work (``server.ports``): a session
opened on ``with``, the capability's repositories bound to it (:meth:`_bind`), every
change discarded on leaving unless :meth:`commit` was called. Opened ``reads_only`` (a
report), its SQLite transaction begins without the write lock
(``database.deferred_reads``), and it may not commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from sqlalchemy import orm

from server.registry.database import defer_reads, end_deferred_reads


class SessionUnitOfWork:
    def __init__(self, registry: Callable[[], orm.Session], *, reads_only: bool = False) -> None:
        self._registry = registry
        self._session: orm.Session | None = None
        self._reads_only = reads_only
        self._deferred: object | None = None

    def __enter__(self) -> Self:
        if self._reads_only:  # SQLite: its transaction begins without the write lock
            self._deferred = defer_reads()
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
            if self._deferred is not None:
                end_deferred_reads(self._deferred)
                self._deferred = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A block undone alone when it fails (the rest of the unit of work stays)."""
        assert self._session is not None
        with self._session.begin_nested():
            yield

    def commit(self) -> None:
        assert self._session is not None
        assert not self._reads_only, "a unit of work opened for reads only wrote"
        self._session.commit()
