"""The registry: students, badges, contracts, calendars and presence workflow state."""

# The models first: the feature tables' modules need ``Base``, and ``models`` imports them
# back at its end (to register them); whichever registry module is imported first.
from server.registry import models as models
