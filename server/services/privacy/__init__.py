"""Privacy: a student's data exported (GDPR access), erased, and who saw personal data (the
access log). Retention of taps is the ingest's periodic purge
(``operations.periodic.purge_expired``).
Storage through ``server.ports.privacy`` (a unit of work)."""
