"""Alembic environment: run with a connection handed over by ``database.migrate``."""

from __future__ import annotations

from alembic import context

from server.registry.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through server.registry.database.migrate(url)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
