"""People and places: students and their contracts (import, changes), badges, campuses and
readers from the configuration, calendars and closures, the academic year's outcomes and
the campus's activities."""
