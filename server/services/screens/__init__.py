"""Screens: what one page shows, composed from the capabilities' use cases (the tutor's
board and students, a student's own pages, the admin's overview)."""
