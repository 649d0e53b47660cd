"""The use cases, one package per capability; each package's docstring says what it owns:

- ``presence``: sessions, the weekly ledger, corrections and excuses, the week's story,
  the weekly and period reports, the line a door shows after a tap;
- ``alerts``: absences, shortfalls, readers down, capacity; calls, escalation, notices
  and their delivery by channel;
- ``occupancy``: who is in now against capacity, corrections, history, readers' health;
- ``people``: students, contracts, badges, campuses, calendars, outcomes, activities;
- ``reporting``: the coordinator's reports and the ministry's annual grid;
- ``privacy``: export, erasure, the access log;
- ``accounts``: logins, passwords, tokens, who follows whom;
- ``operations``: the ingest, periodic jobs and their leader, readiness, metrics;
- ``screens``: what one page shows, composed from the use cases above.

A use case receives its ports (the registry's session factory, the event store, the
settings, a clock) from the composition root (``server.bootstrap``); the rules it applies
are the domain's (``server.domain``); see docs/architecture.md."""
