"""What several server processes must agree on and is not derived from stored events:
which process runs the periodic jobs (a lease, taken atomically in the registry), and
the reader outages alerted and not resolved yet. Live occupancy and reader status are
derived from the stored events (docs/scaling.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.registry.models import Base, UtcDateTime


class JobLease(Base):
    """The process (``holder``) that runs the jobs named ``name`` until ``expires_at``;
    renewed by its holder, taken over by another process once expired."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReaderOutage(Base):
    """A door reader down during opening hours, alerted once and not back yet (the reader
    watch's memory, shared by every process: the readers page of any web worker shows it)."""

    __tablename__ = "reader_outages"

    campus_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reader_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    noticed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reader_state: Mapped[str] = mapped_column(String(16))


class LoginFailures(Base):
    """Failed logins of one key (``address:…`` or ``login:…``, the login hashed so
    whatever was typed is never kept), shared by every web process: the login throttle
    answers 429 until ``blocked_until``."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ProcessReport(Base):
    """One running (or lately stopped) server process's own counters, written by it
    every few seconds and at stop (``services.process_reports``): ``/metrics`` answered
    by any process shows every live process's share. A restarted process writes a new
    row; rows not updated for a day are purged."""

    __tablename__ = "process_reports"

    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stopped: Mapped[bool] = mapped_column(default=False)
    counters: Mapped[str] = mapped_column(Text)  # JSON, no personal data
