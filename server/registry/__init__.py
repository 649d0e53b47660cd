"""The registry: students, badges, contracts, calendars and presence workflow state."""
