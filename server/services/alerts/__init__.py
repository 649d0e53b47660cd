"""Alerts: an absence noticed at a slot's check instant, shortfalls of a week, readers down
and rooms over capacity; the alert's life (calls, acknowledgement, escalation) and its
notices, recorded per channel and delivered by the lanes; the alert channels' settings
and health. Storage only through ``server.ports.alerts`` (the absence watcher through its
``AbsenceUnitOfWork``: the alert ports with the presence reads, in one transaction)."""
