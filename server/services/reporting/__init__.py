"""Reporting: the coordinator's reports over a period and the ministry's annual grid
(computed, exported, merged). The registry is reached through ``server.ports.reporting``
only (``coordinator_reports.Reports``: what a report is computed from)."""
