"""Operations: the ingest of taps and reader statuses, periodic jobs and which process runs
them, readiness, metrics and the processes' reports. (``doctor``, which builds adapters
to check them, is a command: ``server.entrypoints.doctor_checks``.)
The registry through ``server.ports.operations`` (the lease, the reports, the figures)."""
