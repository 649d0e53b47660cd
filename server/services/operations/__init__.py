"""Operations: the ingest of taps and reader statuses, periodic jobs and which process runs
them, readiness, metrics, the processes' reports and ``doctor``."""
