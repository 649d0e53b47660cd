"""Reporting: the coordinator's reports over a period and the ministry's annual grid
(computed, exported, merged)."""
