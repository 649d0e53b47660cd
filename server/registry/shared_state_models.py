"""What several server processes must agree on and is not derived from stored events:
which process runs the periodic jobs (a lease, taken atomically in the registry), and
the reader outages alerted and not resolved yet. Live occupancy and reader status are
derived from the stored events (docs/scaling.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
