"""Screens: what one page shows, composed from the capabilities' use cases (the tutor's
board and students, a student's own pages, the admin's overview). What they read besides
comes through their own read port, ``server.ports.screens.ScreenReads``: no screen runs a
query."""
