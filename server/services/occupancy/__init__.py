"""Occupancy: who is in now, per campus and room, against capacity; counts corrected by
hand, history, statistics and forecast; readers' health and the watch for readers gone
silent; the rooms and their limits.
Storage through ``server.ports.occupancy`` (a unit of work; the reader outages)."""
